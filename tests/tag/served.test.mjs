// The sources node --test loads are the ones the bridge serves (tests/tag/served.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { served } from './served.mjs';

// tag.js runs the tag as it is evaluated: the others' constants (`var`s) must be set by then.
test('every source in src/tag is served once, tag.js last', () => {
  const files = readdirSync(new URL('../../src/tag/', import.meta.url)).filter((f) => f.endsWith('.js'));
  assert.deepEqual([...served].sort(), files.sort());
  assert.equal(served.at(-1), 'tag.js');
});

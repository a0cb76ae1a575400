// The landing tag's click and event-id decisions (src/tag/click.js). Run with
// `node --test tests/tag/`; served.mjs loads the sources as the bridge serves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tag } from './served.mjs';

const DAY = 864e5;
const NOW = 1_765_000_000_000;
// What the lander stored two days ago: click kt-1 of offer1, its token.
const KEPT = { c: 'kt-1', k: 'offer1', t: NOW - 2 * DAY, u: 'a'.repeat(32) };
const plain = (v) => JSON.parse(JSON.stringify(v));

test('the click id is the first listed URL parameter that holds one, trimmed', () => {
  const names = ['subid', 'clickid', 'cid'];
  const cases = [
    ['?subid=kt-1&clickid=b2', 'kt-1'],
    ['?clickid=b2&subid=kt-1', 'kt-1'],
    ['?subid=%20%20&cid=%20c3%20', 'c3'],
    ['?click_id=x', ''],
    ['', '']
  ];
  for (const [search, id] of cases) assert.equal(tag.clickIdIn(new URLSearchParams(search), names), id, search);
});

test('a page with a click id keeps it with its campaign, and its token only for the same click', () => {
  const at = (url, kept) => plain(tag.pageClick(url, 'offer1', '', kept, NOW));
  assert.deepEqual(at({ c: 'kt-1', k: null }, KEPT), { c: 'kt-1', k: 'offer1', u: KEPT.u, keep: true });
  assert.deepEqual(at({ c: 'kt-2', k: null }, KEPT), { c: 'kt-2', k: 'offer1', u: '', keep: true }, 'another click');
  assert.deepEqual(at({ c: 'kt-1', k: 'offer2' }, KEPT), { c: 'kt-1', k: 'offer2', u: '', keep: true }, 'another campaign');
  assert.deepEqual(at({ c: 'kt-1', k: null }, null), { c: 'kt-1', k: 'offer1', u: '', keep: true }, 'nothing kept');
  // A click stored 30 days ago still keeps its token when the visitor lands on it again.
  assert.equal(at({ c: 'kt-1', k: null }, { ...KEPT, t: NOW - 30 * DAY }).u, KEPT.u);
});

test('a thank-you page without a click id takes the kept click for 7 days, of its campaign only', () => {
  const at = (url, named, byParam, kept, now = NOW) => plain(tag.pageClick(url, named, byParam, kept, now));
  const none = { c: '', k: null };
  const taken = { c: 'kt-1', k: 'offer1', u: KEPT.u };
  assert.deepEqual(at(none, 'offer1', '', KEPT), taken);
  assert.deepEqual(at(none, 'offer2', '', KEPT), { c: '', k: 'offer2', u: '' }, 'another campaign');
  assert.deepEqual(at(none, 'offer1', '', KEPT, KEPT.t + 7 * DAY), { c: '', k: 'offer1', u: '' }, '7 days on');
  assert.deepEqual(at(none, 'offer1', '', KEPT, KEPT.t + 7 * DAY - 1), taken, 'just under 7 days');
  assert.deepEqual(at(none, 'offer1', '', null), { c: '', k: 'offer1', u: '' }, 'nothing kept');
  // The campaign comes from a URL parameter the thank-you page lacks: the kept one is taken...
  assert.deepEqual(at(none, '', 'camp', KEPT), taken);
  // ...unless the URL names another campaign.
  assert.deepEqual(at({ c: '', k: 'offer2' }, '', 'camp', KEPT), { c: '', k: 'offer2', u: '' });
  // An older tag's record without a token: the click is taken, the page makes a token.
  assert.deepEqual(at(none, 'offer1', '', { c: 42, k: 'offer1', t: NOW }), { c: '42', k: 'offer1', u: '' });
});

test('event ids render the campaign\'s template as the server does, {txid} empty', () => {
  const cases = [
    [null, 'Lead', 'kt-1', 'offer1', 'Lead-kt-1'],
    ['{event_name}-{click_id}', 'Purchase', 'kt-1', 'offer1', 'Purchase-kt-1'],
    ['{campaign}:{click_id}:{event_name}{txid}', 'Lead', 'kt-1', 'offer1', 'offer1:kt-1:Lead'],
    ['{click_id}-{click_id}', 'Lead', 'a', 'o', 'a-a'],
    // Replaced in the server's order (EventIdTemplate::render): a click id holding an earlier
    // placeholder stays as it is.
    ['{click_id}/{event_name}', 'Lead', '{event_name}', 'o', '{event_name}/Lead']
  ];
  for (const [template, name, click, campaign, id] of cases) {
    assert.equal(tag.eventIdFor(template, name, click, campaign, 'p1'), id, `${template} ${click}`);
  }
});

test('without a click id the ids are the page\'s own, whatever the template', () => {
  assert.equal(tag.eventIdFor('{campaign}-{click_id}', 'Lead', '', 'offer1', 'lx9abc'), 'Lead-lx9abc');
  assert.notEqual(tag.eventIdFor(null, 'Lead', '', 'o', 'p1'), tag.eventIdFor(null, 'Lead', '', 'o', 'p2'));
});

// The landing tag's customer-data rules (src/tag/normalise.js) against the server's vectors,
// tests/vectors/normalisation.json (the Rust test vectors::every_vector_row_holds reads it too).
// Run with `node --test tests/tag/`; served.mjs loads the sources as the bridge serves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { read, tag } from './served.mjs';

const { rows } = JSON.parse(read('tests/vectors/normalisation.json'));
const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

// What tag-config gives the tag for a row's campaign (src/routes/tag.rs): the calling code of
// its default_country and the date order in force (explicit, else month first in the US only).
const CALLING_CODES = { gb: '44', us: '1', de: '49' };
function region(row) {
  const cc = row.country ? CALLING_CODES[row.country] : '';
  assert.ok(cc !== undefined, `no calling code for ${row.country} in this test`);
  const order = row.date_order || (row.country ? (row.country === 'us' ? 'mdy' : 'dmy') : null);
  return { cc, order };
}

// The rows the tag must pass: every row not server_only, and server-only rows marked "same".
const checked = rows.filter((r) => !r.server_only || r.tag === 'same');
const at = (r) => `${r.field} ${JSON.stringify(r.input)} (${r.country}, ${r.date_order})`;

test('the vectors mark every server-only row for the tag', () => {
  assert.ok(checked.length >= 50, String(checked.length));
  for (const r of rows) {
    const marks = r.server_only ? ['same', 'left_out'] : [undefined];
    assert.ok(marks.includes(r.tag), `${at(r)}: tag ${r.tag}`);
  }
});

test('the tag normalises and hashes as the server does, for every row it must pass', () => {
  for (const r of checked) {
    const sent = tag.customerHashes({ [r.field]: r.input }, region(r));
    const digest = /^[0-9a-f]{64}$/i.test(r.input.trim()) ? r.input.trim().toLowerCase() : null;
    if (r.expected_normalised !== null || digest === null) {
      assert.equal(tag.normalise(r.field, r.input, region(r)), r.expected_normalised ?? '', at(r));
    }
    assert.equal(sent[r.field], r.expected_sha256 ?? undefined, at(r));
    const tiktok = { ph: 'tiktok_ph', external_id: 'tiktok_external_id' }[r.field];
    if (tiktok && r.tiktok_sha256 !== undefined) {
      assert.equal(sent[tiktok], r.tiktok_sha256 ?? undefined, `${at(r)}: TikTok`);
    }
    // Only digests leave: each value sent is 64 hex characters, never the input.
    for (const v of Object.values(sent)) assert.match(v, /^[0-9a-f]{64}$/, at(r));
  }
});

test('what the tag cannot read the server way it leaves out', () => {
  for (const r of rows.filter((r) => r.tag === 'left_out')) {
    assert.deepEqual({ ...tag.customerHashes({ [r.field]: r.input }, region(r)) }, {}, at(r));
  }
});

// Cases of the tag's own limits (docs/landing.md), beside the server's vectors: where the phone
// metadata would be needed the tag sends nothing rather than a digest the server would not make.
test('phones: international, trunk 0 where it is only a trunk 0, NANP, else left out', () => {
  const cases = [
    ['+44 7911 123456', '', '447911123456'],
    ['tel: +49 30 1234567', '44', '49301234567'],
    ['0044 7911 123456', '1', '447911123456'],
    ['07911 123456', '44', '447911123456'],
    ['030 1234567', '49', '49301234567'],
    ['+1 650 555 1212', '44', '16505551212'],
    ['650-555-1212', '1', '16505551212'],
    ['1 650 555 1212', '1', '16505551212'],
    ['7911 123456', '44', ''], // no trunk 0: it may or may not start with a country code
    ['07911 123456', '', ''], // no calling code
    ['06 1234 5678', '39', ''], // Italy keeps its 0: the number needs the metadata
    ['06 30 123 4567', '36', ''], // Hungary's trunk prefix is 06
    ['8 912 345 67 89', '7', ''], // Russia's is 8
    ['0 12345', '44', ''], // too short a national number
    ['055 1234', '1', ''], // not ten NANP digits
    ['+12345', '', ''], // fewer than 6 digits
    ['+1234567890123456', '', ''] // more than 15
  ];
  for (const [input, cc, digits] of cases) {
    assert.equal(tag.normalise('ph', input, { cc }), digits, `${input} with ${cc}`);
    const sent = tag.customerHashes({ ph: input }, { cc });
    assert.deepEqual({ ...sent }, digits ? { ph: sha(digits), tiktok_ph: sha('+' + digits) } : {}, input);
  }
});

test('countries: ISO codes only, any case and spacing; names and unknown codes left out', () => {
  const cases = [['GB', 'gb'], ['gbr', 'gb'], ['U.S.A.', 'us'], [' de ', 'de'], ['DEU', 'de'],
    ['UK', ''], ['xx', ''], ['xyz', ''], ['United Kingdom', ''], ['Россия', ''], ['ÜSA', '']];
  for (const [input, code] of cases) assert.equal(tag.normalise('country', input), code, input);
});

test('states, names, dates and the rest at their edges', () => {
  const cases = [
    ['st', 'District of Columbia', 'dc'], ['st', 'west virginia', 'wv'], ['st', 'Île-de-France', 'îledefrance'],
    ['st', 'Kansas', 'ks'], ['st', 'Arkansas', 'ar'], ['st', '12', ''],
    ['ct', 'São Paulo', 'sãopaulo'], ['ct', '---', ''],
    ['fn', '  Jean-Luc ', 'jeanluc'], ['ln', 'Müller', 'müller'], ['fn', '...', ''],
    ['em', 'a@b.co.', ''], ['em', 'a@.b.co', ''], ['em', '@b.co', ''], ['em', 'a b@c.co', ''], ['em', 'a@b@c.co', ''],
    ['ge', 'W', 'f'], ['ge', 'mr. ', 'm'], ['ge', 'male.', 'm'], ['ge', 'he', ''],
    ['db', '1799-12-31', ''], ['db', '0050-01-01', ''], ['db', '2000-02-29', '20000229'], ['db', '1900-02-29', ''],
    ['db', '1/2/90', ''], ['db', '1990 02 28', ''], ['db', '1990-02', ''],
    ['zp', '94025 1234', '94025'], ['zp', 'SW1A 1AA', 'sw1a1aa'], ['zp', ' - ', ''],
    ['external_id', 'ABC', 'abc']
  ];
  for (const [key, input, out] of cases) assert.equal(tag.normalise(key, input, {}), out, `${key} ${input}`);
  assert.equal(tag.normalise('db', '02/03/1990', { order: 'mdy' }), '19900203');
  assert.equal(tag.normalise('db', '13/03/1990', { order: 'mdy' }), '19900313');
});

test('digests pass through, MD5 digests and overlong values are left out', () => {
  const sha256 = 'A'.repeat(64);
  const sent = tag.customerHashes({ em: sha256, ph: sha256, fn: '5d41402abc4b2a76b9719d911017c592',
    external_id: '5d41402abc4b2a76b9719d911017c592', ct: 'a'.repeat(513), ln: ['Smith', 'x'] });
  assert.equal(sent.em, 'a'.repeat(64));
  assert.equal(sent.ph, 'a'.repeat(64));
  assert.equal(sent.tiktok_ph, undefined, 'a digest made by Meta\'s rule is no E.164 digest');
  assert.equal(sent.fn, undefined);
  assert.equal(sent.external_id, sha('5d41402abc4b2a76b9719d911017c592'));
  assert.equal(sent.ct, undefined);
  assert.equal(sent.ln, sha('smith'));
  assert.deepEqual({ ...tag.customerHashes(null, {}) }, {});
});

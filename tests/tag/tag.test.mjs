// The landing tag's cookie decisions (src/tag/cookies.js) against tests/vectors/tag_cookies.json.
// Run with `node --test tests/tag/`; served.mjs loads the sources as the bridge serves them, so
// the test needs no export hook in the page's script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { read, tag } from './served.mjs';

const vectors = JSON.parse(read('tests/vectors/tag_cookies.json'));

test('an fbclid becomes the payload Meta\'s builder writes, sanitised once', () => {
  for (const v of vectors.fbclid) {
    assert.equal(tag.fbclidPayload(v.input), v.payload, `${JSON.stringify(v.input)}: ${v.why}`);
  }
});

test('every payload makes a cookie the tag keeps on the next page', () => {
  for (const v of vectors.fbclid.filter((v) => v.payload)) {
    const cookie = tag.metaCookie('example.com', 1596403881668, v.payload);
    assert.ok(tag.validCookie(cookie), `${cookie}: ${v.why}`);
    assert.equal(cookie.split('.')[3], v.payload);
  }
});

test('a well-formed _fbc/_fbp is kept, a malformed one replaced', () => {
  for (const v of vectors.cookies) {
    assert.equal(tag.validCookie(v.value), v.valid, `${JSON.stringify(v.value)}: ${v.why}`);
  }
  for (const bad of [undefined, null, 42]) assert.equal(tag.validCookie(bad), false);
});

test('_fbc is kept byte for byte unless a new fbclid or a malformed cookie replaces it', () => {
  for (const v of vectors.kept_fbc) {
    assert.equal(tag.keptFbc(v.values, v.payload), v.kept, v.why);
  }
});

test('cookies go on the top-most domain the browser takes, host-only on IPs and localhost', () => {
  for (const v of vectors.cookie_domains) {
    assert.deepEqual([...tag.cookieDomains(v.host)], v.domains, v.host);
  }
});

test('the subdomain index counts the cookie domain\'s labels', () => {
  for (const v of vectors.subdomain_index) {
    assert.equal(tag.subdomainIndex(v.domain), v.index, JSON.stringify(v.domain));
  }
  for (const v of vectors.meta_cookie) {
    assert.equal(tag.metaCookie(v.domain, v.now, v.payload), v.cookie);
    assert.ok(tag.validCookie(v.cookie), v.cookie);
  }
});

test('_fbp\'s random part stays below 2147483647', () => {
  for (const v of vectors.fbp_random) {
    assert.equal(tag.fbpRandom(v.random), v.payload, String(v.random));
  }
  for (let i = 0; i < 1000; i++) {
    const r = Number(tag.fbpRandom(Math.random()));
    assert.ok(Number.isInteger(r) && r >= 0 && r < 2147483647, String(r));
  }
});

// A cookie jar as the browser lists it, and a cookie domain that counts how often it is asked.
function page(jar) {
  const asked = { domain: 0 };
  const domain = () => (asked.domain++, 'lander.co.uk');
  return { jar: (n) => jar[n] || [], domain, asked };
}
const NOW = 1596403881668;
const plan = (jar, fbclid, ttclid) => {
  const p = page(jar);
  const out = JSON.parse(JSON.stringify(tag.cookiePlan(p.jar, fbclid, ttclid, p.domain, NOW, 0.5)));
  return { ...out, asked: p.asked.domain };
};

test('a first visit writes _fbc from the fbclid, _fbp, and ttclid for 30 days', () => {
  const p = plan({}, 'IwAR1', 'E.C.P.x');
  assert.deepEqual(p.write, [
    ['_fbc', `fb.2.${NOW}.IwAR1`, 90],
    ['_fbp', `fb.2.${NOW}.1073741823`, 90],
    ['ttclid', 'E.C.P.x', 30]
  ]);
  assert.deepEqual(p.sent, { fbc: `fb.2.${NOW}.IwAR1`, fbp: `fb.2.${NOW}.1073741823`, ttclid: 'E.C.P.x' });
});

test('kept cookies are sent byte for byte, nothing written, the domain never probed', () => {
  const fbc = 'fb.1.1596403881668.IwAR1';
  const fbp = 'fb.1.1596403881668.1116446470';
  const p = plan({ _fbc: [fbc], _fbp: [fbp], ttclid: ['E.C.P.x'] }, 'IwAR1', 'E.C.P.x');
  assert.deepEqual(p, { write: [], sent: { fbc, fbp, ttclid: 'E.C.P.x' }, asked: 0 });
  // Without an fbclid in the URL the kept _fbc stays too; no fbclid and no _fbc: none sent.
  assert.equal(plan({ _fbc: [fbc], _fbp: [fbp] }, '', undefined).sent.fbc, fbc);
  assert.deepEqual(plan({ _fbp: [fbp] }, '', undefined), { write: [], sent: { fbp }, asked: 0 });
});

test('a new fbclid or a malformed cookie is replaced; the first well-formed copy is kept', () => {
  const fbp = 'fb.1.1596403881668.1116446470';
  const p = plan({ _fbc: ['fb.1.1596403881668.IwAR1'], _fbp: ['junk', fbp] }, 'IwAR2', undefined);
  assert.deepEqual(p.write, [['_fbc', `fb.2.${NOW}.IwAR2`, 90]]);
  assert.equal(p.sent.fbp, fbp);
  assert.deepEqual(plan({ _fbp: ['fb.1.123.x'] }, '', undefined).write, [['_fbp', `fb.2.${NOW}.1073741823`, 90]]);
});

test('a new ttclid replaces the cookie; without one the cookie is sent if the bridge takes it', () => {
  assert.deepEqual(plan({ ttclid: ['old'] }, '', 'new').write.at(-1), ['ttclid', 'new', 30]);
  assert.equal(plan({ ttclid: ['old'] }, '', undefined).sent.ttclid, 'old');
  assert.equal(plan({ ttclid: ['a;b'] }, '', undefined).sent.ttclid, undefined);
});

test('TikTok ids go as given when printable ASCII up to 512 without quotes, commas, ; or \\', () => {
  for (const ok of ['E.C.P.abc', '01HXYZ_-~!', 'x'.repeat(512)]) assert.equal(tag.tiktokId(ok), ok);
  for (const bad of ['', 'a b', 'a"b', 'a,b', 'a;b', 'a\\b', 'é', 'x'.repeat(513), undefined]) {
    assert.equal(tag.tiktokId(bad), undefined, String(bad));
  }
});

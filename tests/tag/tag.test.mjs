// The landing tag's cookie decisions (src/tag/cookies.js) against tests/vectors/tag_cookies.json.
// Run with `node --test tests/tag/`. cookies.js is evaluated in its own context, as the served
// tag evaluates it inside one function: the test needs no export hook in the page's script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root), 'utf8');
const tag = vm.createContext({});
vm.runInContext("'use strict';\n" + read('src/tag/cookies.js'), tag, { filename: 'cookies.js' });
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

test('the served script holds cookies.js between sha256.js and tag.js', () => {
  const served = read('src/routes/tag.rs');
  const order = ['sha256.js', 'cookies.js', 'tag.js'].map((f) => served.indexOf(`../tag/${f}`));
  assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1])), String(order));
});

// Meta's cookie rules for the landing tag, as pure functions. Sources: Meta's client-side
// parameter builder (capi-param-builder, client_js: shared/utils/cookieUtil.js and
// shared/model/cookies.js) and its server-side builders' cookie check (nodejs ParamBuilder.js).
// src/routes/tag.rs serves this file inside the tag's function, so no name here is a page
// global; tests/tag/tag.test.mjs runs it in Node on tests/vectors/tag_cookies.json.

// Meta's builder leaves `_fbc` as it was for a longer fbclid.
var FBCLID_MAX = 500;
// Fifth segments Meta's builders write: a language token, or an 8-character appendix.
var APPENDIX_TOKENS = ['AQ', 'Ag', 'Aw', 'BA', 'BQ', 'Bg'];
// `_fbp`'s random part is below 2^31 - 1, as Meta's builders draw it.
var FBP_RANDOM_MAX = 2147483647;

// The URL's fbclid (decoded) as `_fbc`'s payload, '' for none: without control characters and
// trimmed (the bridge's sanitiser), percent-encoded as Meta's builder writes it, so a `;`, a
// space or non-ASCII can neither cut nor corrupt the cookie (a dot neither, which would split
// the payload), and ignored over 500 characters, counted encoded (Meta counts them decoded).
function fbclidPayload(raw) {
  var s = String(raw == null ? '' : raw).replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  try {
    s = encodeURIComponent(s).replace(/\./g, '%2E');
  } catch (e) {
    return ''; // a lone surrogate
  }
  return s.length > FBCLID_MAX ? '' : s;
}

// A well-formed `_fbc`/`_fbp`, kept byte for byte; any other is replaced like a missing one.
// Meta's check (`fb`, subdomain index, creation time, a payload, no fifth segment but its own)
// with the bridge's: a one-digit index, a creation time in ms (13 digits), printable ASCII.
function validCookie(v) {
  if (typeof v !== 'string' || !/^[\x21-\x7e]+$/.test(v)) return false;
  var p = v.split('.');
  var tail = p[4];
  var known = p.length === 4 || (p.length === 5 && (APPENDIX_TOKENS.indexOf(tail) >= 0 || tail.length === 8));
  return known && p[0] === 'fb' && /^\d$/.test(p[1]) && /^\d{13}$/.test(p[2]) && p[3] !== '';
}

// Among a name's cookies the first well-formed `_fbc`, unless the URL brings another fbclid
// payload: '' then (write a new one when there is a payload).
function keptFbc(values, payload) {
  var v = values.filter(validCookie)[0] || '';
  return v && (!payload || v.split('.')[3] === payload) ? v : '';
}

// The domains a cookie may be set on, top-most first (`www.lander.co.uk`: co.uk, lander.co.uk,
// www.lander.co.uk; the browser refuses public suffixes). None on an IP address, `localhost`
// or another one-label host: the cookie is host-only there.
function cookieDomains(host) {
  host = String(host).toLowerCase();
  var labels = host.split('.');
  if (labels.length < 2 || /^[\d.]+$/.test(host) || /[:\[]/.test(host)) return [];
  var out = [];
  for (var i = labels.length - 2; i >= 0; i--) out.push(labels.slice(i).join('.'));
  return out;
}

// Meta's subdomain index: the cookie domain's labels less one (`example.com` 1,
// `lander.co.uk` 2); 0 for a host-only cookie (an IP address, `localhost`).
function subdomainIndex(domain) {
  return domain ? domain.split('.').length - 1 : 0;
}

// `_fbp`'s random part from a number in [0, 1).
function fbpRandom(r) {
  return String(Math.floor(r * FBP_RANDOM_MAX));
}

// A new `_fbc`/`_fbp`: `fb.{subdomain index}.{creation time ms}.{payload}`.
function metaCookie(domain, now, payload) {
  return 'fb.' + subdomainIndex(domain) + '.' + now + '.' + payload;
}

// A TikTok id (`ttclid`, `_ttp`) as given, when a cookie can hold it and the bridge takes it (a
// 422 would cost the click): printable ASCII without quotes, commas, semicolons or backslashes.
function tiktokId(v) {
  return /^[\x21-\x7e]{1,512}$/.test(v) && !/[",;\\]/.test(v) ? v : undefined;
}

// The cookies a page keeps and writes. `jar(name)` lists a cookie's values as the browser does;
// `fbclid` is the URL's payload (fbclidPayload), `ttclid` its TikTok id; `domain()` gives the
// cookie domain, asked only when a Meta cookie is written. Meta's rules: a new fbclid replaces
// `_fbc`; `_fbp` is written only when missing; a malformed one counts as missing; a well-formed
// one is kept byte for byte; both for 90 days. `ttclid` is written like `_fbc`, for 30 days as
// TikTok's own template keeps it; `_ttp` is TikTok's pixel's, only read. `write`: the
// [name, value, days] to set; `sent`: what the click registration carries.
function cookiePlan(jar, fbclid, ttclid, domain, now, random) {
  var write = [];
  var fbc = keptFbc(jar('_fbc'), fbclid);
  if (!fbc && fbclid) write.push(['_fbc', (fbc = metaCookie(domain(), now, fbclid)), 90]);
  var fbp = jar('_fbp').filter(validCookie)[0];
  if (!fbp) write.push(['_fbp', (fbp = metaCookie(domain(), now, fbpRandom(random))), 90]);
  var tt = jar('ttclid')[0] || '';
  if (ttclid && tt !== ttclid) write.push(['ttclid', (tt = ttclid), 30]);
  return { write: write, sent: { fbc: fbc || undefined, fbp: fbp, ttclid: tiktokId(tt) } };
}

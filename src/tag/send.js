// What the landing tag sends and to which pixel, as pure functions. src/routes/tag.rs serves
// this inside the tag's function (no page global); tests/tag/send.test.mjs runs it in Node.

var EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;
var PHONE_NAME = /^(phone|tel|telephone|mobile|cell|ph|msisdn|phone_?number|whatsapp)$/i;

// Whether a URL parameter holds an email or a phone number: Meta restricts pixels whose URLs
// carry them. The click id (a name in `ids`), fbclid and ttclid never count.
function personal(name, value, ids) {
  if (name === 'fbclid' || name === 'ttclid' || ids.indexOf(name) >= 0) return false;
  var digits = value.replace(/\D/g, '').length;
  if (EMAIL.test(value)) return true;
  if (PHONE_NAME.test(name) && digits >= 6) return true;
  return /^\s*\+?[\d\s().-]+$/.test(value) && /[+\s().-]/.test(value) && digits >= 7 && digits <= 15;
}

// `href` without its fragment and its personal parameters; undefined unless http(s).
function cleanUrl(href, ids) {
  if (!/^https?:\/\//i.test(href || '')) return undefined;
  href = href.split('#')[0];
  var q = href.indexOf('?');
  if (q < 0) return href;
  var kept = href.slice(q + 1).split('&').filter(function (part) {
    var eq = part.indexOf('=');
    var name = eq < 0 ? part : part.slice(0, eq);
    var value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
      value = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch (e) {
      // Undecodable: judged as written.
    }
    return !personal(name, value, ids);
  });
  return href.slice(0, q) + (kept.length ? '?' + kept.join('&') : '');
}

// `from`'s fields into `into`, objects merged key by key, undefined values left out.
function merge(into, from) {
  for (var k in from) {
    if (!Object.prototype.hasOwnProperty.call(from, k) || from[k] === undefined) continue;
    if (from[k] && typeof from[k] === 'object') merge((into[k] = into[k] || {}), from[k]);
    else into[k] = from[k];
  }
  return into;
}

// The body of one click registration: the fields waiting, under the click's identity (see
// pageClick); null while the click id or the campaign is unknown.
function clickBody(click, pending) {
  if (!click.c || !click.k) return null;
  return merge({ campaign: click.k, click_id: click.c, update_token: click.u || undefined }, pending);
}

// Which pixels `track(name)` fires: Meta's (`meta`), and TikTok's event (`tiktok`, falsy for
// none); `tiktok` is the config's TikTok part, given with the config. A Meta event fires
// TikTok's twin when the campaign's map sends one for the same status; a name only TikTok's
// map sends (a TikTok-only lander) fires ttq alone.
function pixelsFor(name, config, tiktok) {
  var map = (tiktok && tiktok.from_meta) || {};
  var twin = Object.prototype.hasOwnProperty.call(map, name) ? String(map[name]) : '';
  var only = !twin && tiktok && (config.events || []).indexOf(name) < 0 && tiktok.events.indexOf(name) >= 0;
  return { meta: !only, tiktok: twin || (only && name) };
}

// An object with one field (`{Lead: id}`).
function obj(k, v) {
  var o = {};
  o[k] = v;
  return o;
}

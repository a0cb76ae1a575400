// Which click a page belongs to and the event ids it hands out, as pure functions.
// src/routes/tag.rs serves this inside the tag's function (no page global); tag.js calls it with
// what the browser gives, and tests/tag/click.test.mjs runs it in Node.

// A lander's click is remembered this long (Meta takes events up to 7 days old).
var CLICK_KEPT_MS = 7 * 864e5;

// The first of the `names` (the tag's data-click-param list) the URL's `params` holds, trimmed.
function clickIdIn(params, names) {
  for (var i = 0; i < names.length; i++) {
    var v = (params.get(names[i]) || '').trim();
    if (v) return v;
  }
  return '';
}

// The click id (`c`), campaign (`k`) and update token (`u`) a page uses, and whether to store
// them (`keep`). `url`: the URL's click id and campaign (`c`, `k`); `named`: the campaign the
// tag names; `byParam`: the campaign comes from a URL parameter; `kept`: what an earlier page
// stored ({c, k, t: ms, u}) or null. A page with a click id keeps its click's token ('' when
// the click is new: make one); a thank-you page without one takes the kept click for 7 days,
// when it is the same campaign or when the campaign would come from a URL parameter this page
// lacks.
function pageClick(url, named, byParam, kept, now) {
  var k = url.k || named;
  if (url.c) return { c: url.c, k: k, u: (kept && kept.c === url.c && kept.k === k && kept.u) || '', keep: true };
  var ours = kept && (kept.k === k || (byParam && !url.k)) && now - kept.t < CLICK_KEPT_MS;
  return ours ? { c: String(kept.c || ''), k: kept.k, u: kept.u || '' } : { c: '', k: k, u: '' };
}

// The event id the campaign's event_id_template gives `name`, rendered as the server renders
// it, so the pixel and the server event share it even when the registration is lost. `{txid}`
// is unknown here: it renders empty, and the registered id is the one the server uses. A page
// without a click id gets ids no server event carries, distinct per page (`pageId`).
function eventIdFor(template, name, click, campaign, pageId) {
  if (!click) return name + '-' + pageId;
  return [['{event_name}', name], ['{click_id}', click], ['{txid}', ''], ['{campaign}', campaign]]
    .reduce(function (s, p) {
      return s.split(p[0]).join(p[1]);
    }, template || '{event_name}-{click_id}');
}

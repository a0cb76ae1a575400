// The landing tag. Served after sha256.js, cookies.js and normalise.js, all inside one function
// (src/routes/tag.rs).
(function () {
  'use strict';

  function main(w, d) {
    var api = w.capiBridge;
    // Included twice: the first copy does the work.
    if (api && api.loaded) return;
    if (!api || typeof api !== 'object') api = w.capiBridge = {};
    var stubbed = api.q || [];
    function noop() {}

    // Every entry point goes through this: the tag must never break the page it is on.
    function safe(fn, fallback) {
      return function () {
        try {
          return fn.apply(null, arguments);
        } catch (e) {
          return fallback;
        }
      };
    }

    var script = d.currentScript || d.querySelector('script[src*="/v1/tag.js"]');
    function attr(n) {
      return (script && script.getAttribute('data-' + n)) || '';
    }
    var base = script ? script.src.replace(/\/v1\/tag\.js.*$/, '') : '';
    var params = new URLSearchParams(location.search);
    var clickParams = (attr('click-param') || 'subid,clickid,cid,click_id').split(',').map(function (p) {
      return p.trim();
    });
    var clickId = '';
    for (var i = 0; i < clickParams.length && !clickId; i++) {
      clickId = (params.get(clickParams[i]) || '').trim();
    }
    var campaignInUrl = attr('campaign-param') && params.get(attr('campaign-param'));
    var campaign = campaignInUrl || attr('campaign');
    // The click's update token: the first registration makes it the click's, and only requests
    // carrying it may change the click later. Made here, so every beacon carries it from the
    // first (a beacon's answer cannot be read).
    var updateToken = '';
    // A thank-you page on the lander's site rarely has the click id in its URL: the lander's is
    // remembered for 7 days (Meta takes events up to 7 days old), with its token.
    safe(function () {
      var store = w.localStorage;
      var KEY = 'capiBridge.click';
      var WEEK = 7 * 864e5;
      var kept = JSON.parse(store.getItem(KEY) || 'null');
      if (clickId) {
        if (kept && kept.c === clickId && kept.k === campaign) updateToken = kept.u || '';
        updateToken = updateToken || newToken();
        store.setItem(KEY, JSON.stringify({ c: clickId, k: campaign, t: Date.now(), u: updateToken }));
      } else {
        var same = kept && (kept.k === campaign || (attr('campaign-param') && !campaignInUrl));
        if (same && Date.now() - kept.t < WEEK) {
          clickId = String(kept.c || '');
          campaign = kept.k;
          updateToken = kept.u || '';
        }
      }
    })();
    // Without storage the token lives as long as the page.
    if (clickId && !updateToken) updateToken = safe(newToken, '')();

    // 16 bytes of the browser's CSPRNG as 32 hex characters.
    function newToken() {
      return Array.prototype.map.call(w.crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join('');
    }
    // Sanitised once, here: what `_fbc` holds and the click sends (cookies.js).
    var fbclid = fbclidPayload(params.get('fbclid'));
    // TikTok's ids go as given, so only what a cookie holds and the bridge takes (a 422 would
    // cost the click): printable ASCII without quotes, commas, semicolons or backslashes.
    function token(v) {
      return /^[\x21-\x7e]{1,512}$/.test(v) && !/[",;\\]/.test(v) ? v : undefined;
    }
    var ttclid = token((params.get('ttclid') || '').trim());
    // A page without a click id gets ids no server event will carry, but distinct ones.
    var pageId = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);

    var config = null;
    var tiktok = null; // config.tiktok, when the campaign sends to TikTok
    var ready = false; // the config arrived or will not
    var consentRequired = attr('consent') === 'required';
    var consent = null;
    var started = false; // cookies written and the click registered
    var given = {}; // event name -> the id handed out, so the pixel and the click agree
    var held = []; // calls waiting for the config or for consent
    var pending = {}; // click fields waiting to be sent

    // ---- cookies (the rules are cookies.js's) -------------------------------------------------

    // Every value of cookie `n` (a name can sit on several domains), first as the browser lists.
    function cookies(n) {
      var out = [];
      d.cookie.replace(new RegExp('(?:^|;\\s*)' + n + '=([^;]*)', 'g'), function (m, v) {
        out.push(v);
      });
      return out;
    }

    function cookie(n) {
      return cookies(n)[0] || '';
    }

    // The top-most domain that takes a cookie (the registrable domain: the browser refuses
    // public suffixes), found once with a probe; '' for host-only.
    var domain;
    function cookieDomain() {
      var list = cookieDomains(location.hostname);
      for (var i = 0; domain === undefined && i < list.length; i++) {
        d.cookie = '_capi_probe=1; path=/; domain=' + list[i];
        if (cookie('_capi_probe')) domain = list[i];
        d.cookie = '_capi_probe=; max-age=0; path=/; domain=' + list[i];
      }
      return (domain = domain || '');
    }

    // One cookie `n`, for `days` (90), on that domain: copies on the host or its other domains
    // (an older tag's, a malformed one) are removed, so the page reads the one written.
    function setCookie(n, v, days) {
      var tail = '; path=/; SameSite=Lax';
      var at = cookieDomain();
      [''].concat(cookieDomains(location.hostname)).forEach(function (x) {
        if (x !== at) d.cookie = n + '=; max-age=0' + tail + (x ? '; domain=' + x : '');
      });
      d.cookie = n + '=' + v + '; max-age=' + (days || 90) * 86400 + tail + (at ? '; domain=' + at : '');
      return v;
    }

    // Meta's rules: a new fbclid replaces `_fbc`; `_fbp` is written only when missing; a
    // malformed one counts as missing; a well-formed one is kept byte for byte.
    function writeCookies() {
      var fbc = keptFbc(cookies('_fbc'), fbclid);
      if (!fbc && fbclid) fbc = setCookie('_fbc', metaCookie(cookieDomain(), Date.now(), fbclid));
      var fbp = cookies('_fbp').filter(validCookie)[0];
      if (!fbp) fbp = setCookie('_fbp', metaCookie(cookieDomain(), Date.now(), fbpRandom(Math.random())));
      // `ttclid` like `_fbc`, for 30 days as TikTok's own template keeps it; `_ttp` is its pixel's.
      var tt = ttclid && cookie('ttclid') !== ttclid ? setCookie('ttclid', ttclid, 30) : cookie('ttclid');
      return { fbc: fbc || undefined, fbp: fbp, ttclid: token(tt), ttp: ttp() };
    }

    function ttp() {
      return token(cookie('_ttp'));
    }

    // ---- the page address, without personal data ----------------------------------------------

    var EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;
    var PHONE_NAME = /^(phone|tel|telephone|mobile|cell|ph|msisdn|phone_?number|whatsapp)$/i;

    // Meta restricts pixels whose URLs carry an email or a phone number: such parameters are
    // dropped, the click id and fbclid never are.
    function personal(name, value) {
      if (name === 'fbclid' || name === 'ttclid' || clickParams.indexOf(name) >= 0) return false;
      var digits = value.replace(/\D/g, '').length;
      if (EMAIL.test(value)) return true;
      if (PHONE_NAME.test(name) && digits >= 6) return true;
      return /^\s*\+?[\d\s().-]+$/.test(value) && /[+\s().-]/.test(value) && digits >= 7 && digits <= 15;
    }

    function cleanUrl(href) {
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
        return !personal(name, value);
      });
      return href.slice(0, q) + (kept.length ? '?' + kept.join('&') : '');
    }

    // ---- sending ------------------------------------------------------------------------------

    function merge(into, from) {
      for (var k in from) {
        if (!Object.prototype.hasOwnProperty.call(from, k) || from[k] === undefined) continue;
        if (from[k] && typeof from[k] === 'object') merge((into[k] = into[k] || {}), from[k]);
        else into[k] = from[k];
      }
      return into;
    }

    // sendBeacon survives the page being left; its text/plain body needs no CORS preflight.
    function post(body) {
      var url = base + '/v1/clicks';
      var json = JSON.stringify(body);
      try {
        if (navigator.sendBeacon && navigator.sendBeacon(url, json)) return;
      } catch (e) {
        // fall through to fetch
      }
      if (w.fetch) {
        w.fetch(url, {
          method: 'POST',
          body: json,
          keepalive: true,
          mode: 'no-cors',
          credentials: 'omit',
          headers: { 'Content-Type': 'text/plain' }
        }).catch(noop);
      }
    }

    function send(fields) {
      merge(pending, fields);
      if (!started || !clickId || !campaign) return;
      var body = merge({ campaign: campaign, click_id: clickId, update_token: updateToken || undefined }, pending);
      pending = {};
      post(body);
    }

    // ---- eventIDs -----------------------------------------------------------------------------

    // The campaign's event_id_template rendered as the server renders it, so the pixel and the
    // server event share an id even when the registration is lost. `{txid}` is unknown here: it
    // renders empty, and the registered id is what the server uses.
    function eventId(name) {
      name = String(name);
      if (given[name]) return given[name];
      var id;
      if (!clickId) {
        id = name + '-' + pageId;
      } else {
        var t = (config && config.event_id_template) || '{event_name}-{click_id}';
        id = [['{event_name}', name], ['{click_id}', clickId], ['{txid}', ''], ['{campaign}', campaign]]
          .reduce(function (s, p) {
            return s.split(p[0]).join(p[1]);
          }, t);
      }
      if (ready) given[name] = id;
      return id;
    }

    function ids(names) {
      var out = {};
      names.forEach(function (n) {
        out[n] = eventId(n);
      });
      return out;
    }

    // ---- hashing ------------------------------------------------------------------------------

    // The rules are normalise.js's; the campaign's calling code and date order come with its
    // config. Hashed synchronously (crypto.subtle is async, and absent on http pages) so the
    // hashes leave in one beacon even when a form submission is already navigating away.
    function identify(data) {
      var c = config || {};
      var hashes = customerHashes(data, {
        cc: /^\d{1,3}$/.test(c.calling_code) ? c.calling_code : '',
        order: c.date_order
      });
      if (Object.keys(hashes).length) send(hashes);
    }

    function obj(k, v) {
      var o = {};
      o[k] = v;
      return o;
    }

    // ---- the pixels ---------------------------------------------------------------------------

    // A pixel may load after the tag: it is waited for up to 15 s, then given up on (the id is
    // registered on the click either way).
    function whenLoaded(loaded, fire, tries) {
      if (loaded()) return fire() || true;
      var retry = safe(function () {
        whenLoaded(loaded, fire, tries + 1);
      });
      if (tries < 60) setTimeout(retry, 250);
      return false;
    }

    function fireMeta(name, data) {
      var id = eventId(name);
      var fired = whenLoaded(function () {
        return typeof w.fbq === 'function';
      }, function () {
        w.fbq('track', name, data || {}, { eventID: id });
        send({ event_ids: obj(name, id), pixel_fired_at: obj(name, Date.now()) });
      }, 0);
      if (!fired) send({ event_ids: obj(name, id) });
    }

    function fireTikTok(name, data) {
      var id = eventId(name);
      var fired = whenLoaded(function () {
        return !!w.ttq && typeof w.ttq.track === 'function';
      }, function () {
        w.ttq.track(name, data || {}, { event_id: id });
        send({ tiktok_event_ids: obj(name, id), ttp: ttp() });
      }, 0);
      if (!fired) send({ tiktok_event_ids: obj(name, id) });
    }

    // A Meta event fires fbq, and ttq too when TikTok's map sends a twin for the same status; a
    // name only TikTok's map sends (a TikTok-only lander) fires ttq alone.
    function track(name, data) {
      name = String(name);
      var map = (tiktok && tiktok.from_meta) || {};
      var twin = Object.prototype.hasOwnProperty.call(map, name) ? String(map[name]) : '';
      var only = !twin && tiktok && (config.events || []).indexOf(name) < 0 && tiktok.events.indexOf(name) >= 0;
      if (!only) fireMeta(name, data);
      if (twin || only) fireTikTok(twin || name, data);
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    function start() {
      if (started || !ready || (consentRequired && consent !== true)) return;
      started = true;
      var cookies = writeCookies();
      send(merge({
        fbclid: fbclid || undefined,
        event_source_url: cleanUrl(location.href),
        referrer_url: cleanUrl(d.referrer),
        consent: consent === null ? undefined : consent,
        event_ids: ids((config && config.events) || []),
        tiktok_event_ids: tiktok ? ids(tiktok.events) : undefined
      }, cookies));
      // TikTok's pixel writes `_ttp` when it loads, often after the click was registered.
      if (tiktok && !cookies.ttp) whenLoaded(ttp, function () {
        send({ ttp: ttp() });
      }, 0);
    }

    // Calls that need the config (track, ready) or consent (track, identify) wait here.
    function run(call) {
      var name = call[0];
      var args = call[1];
      if (name === 'ready') return args[0](api);
      if (!started) return held.push(call);
      if (name === 'track') track(args[0], args[1]);
      if (name === 'identify') identify(args[0]);
    }

    function later(name) {
      return safe(function () {
        var call = [name, Array.prototype.slice.call(arguments)];
        if (name === 'consent') return grant(call[1][0]);
        if (ready) run(call);
        else held.push(call);
      });
    }

    function grant(granted) {
      consent = granted === true || granted === 'true';
      if (!started) {
        if (!consent) held = held.filter(function (c) {
          return c[0] === 'ready';
        });
        start();
        if (ready) flush();
      } else {
        send({ consent: consent });
      }
    }

    function flush() {
      var calls = held;
      held = [];
      calls.forEach(safe(run));
    }

    function configured(c) {
      if (ready) return;
      if (c && typeof c.event_id_template === 'string') {
        config = c;
        tiktok = c.tiktok && Array.isArray(c.tiktok.events) ? c.tiktok : null;
        consentRequired = consentRequired || c.consent_required === true;
      }
      ready = true;
      start();
      flush();
    }

    api.loaded = true;
    api.eventId = safe(eventId, '');
    api.track = later('track');
    api.identify = later('identify');
    api.consent = later('consent');
    api.ready = later('ready');
    delete api.q;

    safe(function () {
      stubbed.forEach(function (call) {
        api[call[0]] && api[call[0]].apply(null, Array.prototype.slice.call(call[1] || []));
      });
    })();

    safe(function () {
      // The tag never waits long for the bridge: without the config it uses the default
      // template, which is what the server uses for a campaign that kept it.
      setTimeout(safe(configured), 1500);
      if (!campaign || !w.fetch) return configured(null);
      w.fetch(base + '/v1/campaigns/' + encodeURIComponent(campaign) + '/tag-config', {
        credentials: 'omit'
      }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(safe(configured), function () {
        configured(null);
      });
    })();
  }

  try {
    main(window, document);
  } catch (e) {
    // Whatever went wrong, the page goes on.
  }
})();

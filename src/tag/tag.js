// The landing tag: what needs the browser (the page, cookies, storage, the pixels, timers and
// the network). Its decisions are the pure functions of cookies.js, click.js, send.js and
// normalise.js, served before it inside one function (src/routes/tag.rs).
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
    // A thank-you page on the lander's site rarely has the click id in its URL: the lander's is
    // remembered in localStorage, with its update token (click.js). The token: the first
    // registration makes it the click's, and only requests carrying it may change the click
    // later. Made here, so every beacon carries it from the first (a beacon's answer cannot be
    // read); without storage it lives as long as the page.
    var KEY = 'capiBridge.click';
    var byParam = attr('campaign-param');
    var click = pageClick({ c: clickIdIn(params, clickParams), k: byParam && params.get(byParam) }, attr('campaign'), byParam, safe(function () {
      return JSON.parse(w.localStorage.getItem(KEY) || 'null');
    })(), Date.now());
    if (click.c && !click.u) click.u = safe(newToken, '')();
    if (click.keep) safe(function () {
      w.localStorage.setItem(KEY, JSON.stringify({ c: click.c, k: click.k, t: Date.now(), u: click.u }));
    })();

    // 16 bytes of the browser's CSPRNG as 32 hex characters.
    function newToken() {
      return Array.prototype.map.call(w.crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join('');
    }
    // Sanitised once, here: what `_fbc` holds and the click sends (cookies.js).
    var fbclid = fbclidPayload(params.get('fbclid'));
    var ttclid = tiktokId((params.get('ttclid') || '').trim());
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

    // ---- cookies (the decisions are cookies.js's) ---------------------------------------------

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

    // One cookie `n`, for `days`, on that domain: copies on the host or its other domains
    // (an older tag's, a malformed one) are removed, so the page reads the one written.
    function setCookie(n, v, days) {
      var tail = '; path=/; SameSite=Lax';
      var at = cookieDomain();
      [''].concat(cookieDomains(location.hostname)).forEach(function (x) {
        if (x !== at) d.cookie = n + '=; max-age=0' + tail + (x ? '; domain=' + x : '');
      });
      d.cookie = n + '=' + v + '; max-age=' + days * 86400 + tail + (at ? '; domain=' + at : '');
    }

    function writeCookies() {
      var plan = cookiePlan(cookies, fbclid, ttclid, cookieDomain, Date.now(), Math.random());
      plan.write.forEach(function (c) {
        setCookie(c[0], c[1], c[2]);
      });
      // `_ttp` is TikTok's pixel's, only read.
      plan.sent.ttp = ttp();
      return plan.sent;
    }

    function ttp() {
      return tiktokId(cookie('_ttp'));
    }

    // ---- sending (what to send is send.js's) --------------------------------------------------

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
      var body = started && clickBody(click, pending);
      if (body) {
        pending = {};
        post(body);
      }
    }

    // ---- eventIDs -----------------------------------------------------------------------------

    // An id once handed out (with the config known) stays the page's (click.js renders it).
    function eventId(name) {
      name = String(name);
      if (given[name]) return given[name];
      var id = eventIdFor(config && config.event_id_template, name, click.c, click.k, pageId);
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

    function track(name, data) {
      name = String(name);
      var to = pixelsFor(name, config, tiktok);
      if (to.meta) fireMeta(name, data);
      if (to.tiktok) fireTikTok(to.tiktok, data);
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    function start() {
      if (started || !ready || (consentRequired && consent !== true)) return;
      started = true;
      var cookies = writeCookies();
      send(merge({
        fbclid: fbclid || undefined,
        event_source_url: cleanUrl(location.href, clickParams),
        referrer_url: cleanUrl(d.referrer, clickParams),
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
      if (!click.k || !w.fetch) return configured(null);
      w.fetch(base + '/v1/campaigns/' + encodeURIComponent(click.k) + '/tag-config', {
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

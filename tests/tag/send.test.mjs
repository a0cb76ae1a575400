// What the landing tag sends and to which pixel (src/tag/send.js). Run with
// `node --test tests/tag/`; served.mjs loads the sources as the bridge serves them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tag } from './served.mjs';

const plain = (v) => JSON.parse(JSON.stringify(v));
const IDS = ['subid', 'clickid'];

test('page addresses lose their fragment and the parameters that hold an email or a phone', () => {
  const cases = [
    ['https://lp.example/o', 'https://lp.example/o'],
    ['http://lp.example/o?a=1#form', 'http://lp.example/o?a=1'],
    ['https://lp.example/o?email=a%40b.com&fbclid=IwAR1', 'https://lp.example/o?fbclid=IwAR1'],
    ['https://lp.example/o?a=1&phone=%2B1%20650%20555%201212&b=2', 'https://lp.example/o?a=1&b=2'],
    ['https://lp.example/o?tel=6505551212', 'https://lp.example/o'],
    ['https://lp.example/o?q=john+smith%40gmail.com', 'https://lp.example/o'],
    ['https://lp.example/o?n=%2B44-20-7946-0958&sub1=12345', 'https://lp.example/o?sub1=12345'],
    ['https://lp.example/o?bad=%zz@x.io', 'https://lp.example/o'],
    ['https://lp.example/o?price=12.50&ph=12345', 'https://lp.example/o?price=12.50&ph=12345'],
    // The click id (the tag's click parameters), fbclid and ttclid are kept whatever they hold.
    ['https://lp.example/o?subid=123-456-7890&clickid=a%40b.co&ttclid=1%20234%20567', 'https://lp.example/o?subid=123-456-7890&clickid=a%40b.co&ttclid=1%20234%20567'],
    ['https://lp.example/o?cid=a%40b.co', 'https://lp.example/o']
  ];
  for (const [url, want] of cases) assert.equal(tag.cleanUrl(url, IDS), want, url);
  for (const url of ['', undefined, 'file:///tmp/x', 'javascript:alert(1)', '//lp.example/o']) {
    assert.equal(tag.cleanUrl(url, IDS), undefined, String(url));
  }
});

test('fields waiting merge key by key, undefined left out', () => {
  const into = { event_ids: { Lead: 'Lead-1' }, fbp: 'fb.1.1.1' };
  tag.merge(into, { event_ids: { Purchase: 'Purchase-1' }, fbc: undefined, consent: false });
  assert.deepEqual(plain(into), { event_ids: { Lead: 'Lead-1', Purchase: 'Purchase-1' }, fbp: 'fb.1.1.1', consent: false });
  // An inherited field is not the caller's.
  assert.deepEqual(plain(tag.merge({}, Object.create({ em: 'x' }))), {});
});

test('a registration needs the click id and the campaign, and carries the token when there is one', () => {
  const pending = { event_ids: { Lead: 'Lead-kt-1' } };
  assert.deepEqual(plain(tag.clickBody({ c: 'kt-1', k: 'offer1', u: 'tok' }, pending)), {
    campaign: 'offer1', click_id: 'kt-1', update_token: 'tok', event_ids: { Lead: 'Lead-kt-1' }
  });
  assert.deepEqual(plain(tag.clickBody({ c: 'kt-1', k: 'offer1', u: '' }, pending)), {
    campaign: 'offer1', click_id: 'kt-1', event_ids: { Lead: 'Lead-kt-1' }
  });
  assert.equal(tag.clickBody({ c: '', k: 'offer1', u: '' }, pending), null);
  assert.equal(tag.clickBody({ c: 'kt-1', k: '', u: 'tok' }, pending), null);
});

test('track fires Meta, TikTok\'s twin, or TikTok alone for a TikTok-only name', () => {
  const config = { events: ['Lead', 'Purchase'] };
  const tiktok = { events: ['SubmitForm', 'CompletePayment', 'Download'], from_meta: { Lead: 'SubmitForm' } };
  const to = (name, c, t) => {
    const p = tag.pixelsFor(name, c, t);
    return [p.meta, p.tiktok || ''];
  };
  assert.deepEqual(to('Lead', config, tiktok), [true, 'SubmitForm']);
  assert.deepEqual(to('Purchase', config, tiktok), [true, '']);
  assert.deepEqual(to('Download', config, tiktok), [false, 'Download']);
  assert.deepEqual(to('Contact', config, tiktok), [true, ''], 'a name no map sends goes to Meta');
  assert.deepEqual(to('Lead', config, null), [true, ''], 'no TikTok');
  assert.deepEqual(to('Lead', null, null), [true, ''], 'no config');
  assert.deepEqual(to('Lead', { events: [] }, { events: ['Lead'], from_meta: {} }), [false, 'Lead'], 'TikTok-only lander');
  // A map key the page's prototype has is not a twin.
  assert.deepEqual(to('toString', config, tiktok), [true, '']);
});

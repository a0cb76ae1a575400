// The landing tag's customer-data normalisation, as pure functions: the server's rules
// (src/domain/customer, docs/normalisation.md) for every value the tag can read without the
// server's big tables (phone metadata, country names); what it cannot read is left out, never
// sent raw. src/routes/tag.rs serves this inside the tag's function (no page global);
// tests/tag/normalise.test.mjs runs it on tests/vectors/normalisation.json.

// Letters (any script) for cities and states; names drop only whitespace and ASCII punctuation.
var NOT_LETTER = null;
try {
  // A literal would be a syntax error where the browser lacks Unicode property classes.
  NOT_LETTER = new RegExp('[^\\p{Alphabetic}]', 'gu');
} catch (e) {
  // Such a browser keeps ASCII values only (below).
}
var ASCII_PUNCT = /[\s\x85!-\/:-@\[-\x60{-~]/g;

// The 50 US states and DC by name, code first (`caCalifornia`), as the server maps them.
var US_STATES = 'alalabama akalaska azarizona ararkansas cacalifornia cocolorado ctconnecticut dedelaware dcdistrictofcolumbia flflorida gageorgia hihawaii ididaho ilillinois inindiana iaiowa kskansas kykentucky lalouisiana memaine mdmaryland mamassachusetts mimichigan mnminnesota msmississippi momissouri mtmontana nenebraska nvnevada nhnewhampshire njnewjersey nmnewmexico nynewyork ncnorthcarolina ndnorthdakota ohohio okoklahoma ororegon papennsylvania rirhodeisland scsouthcarolina sdsouthdakota tntennessee txtexas ututah vtvermont vavirginia wawashington wvwestvirginia wiwisconsin wywyoming';

// ISO 3166-1 codes (the server's table, the keshvar crate's): `usa` is us's alpha-2 and alpha-3,
// `ataut` at's and its alpha-3 aut. Names are the server's job.
var COUNTRIES = 'adand aeare afg agatg aia alb amarm aoago aqata arg asm ataut aus awabw axala aze babih bbbrb bdbgd bel bfa bgr bhr bibdi bjben blm bmu bnbrn bol bqbes bra bsbhs btn bvt bwa byblr bzblz can cck cdcod cfcaf cgcog che civ ckcok clchl cmr cnchn col cri cub cvcpv cwcuw cxr cyp cze deu dji dkdnk dma dom dza ecu eeest egy ehesh eri esp eth fin fji fkflk fmfsm fofro fra gab gbr gdgrd geo gfguf ggy gha gib glgrl gmb gngin gpglp gqgnq grc gssgs gtm gum gwgnb gyguy hkg hmd hnd hrv hti hun idn ieirl ilisr imn ind iot iqirq irn isl ita jey jmjam jor jpn ken kgz khm kir kmcom kna kpprk krkor kwt kycym kzkaz lao lbn lca lie lka lrlbr lso ltu lux lva lylby mar mco mda memne mfmaf mgmdg mhl mkd mli mmr mng momac mpmnp mqmtq mrt msr mtmlt mus mvmdv mwi mxmex mys mzmoz nam ncl ner nfk nga nic nld nor npl nru nuniu nzl omn pan per pfpyf pgpng phl pkpak plpol pmspm pnpcn pri pse ptprt pwplw pypry qat reu rou rssrb rus rwa sau sbslb scsyc sdn seswe sgp shn sisvn sjm sksvk sle smr snsen som srsur ssd stp svslv sxm syr szswz tca tdtcd tfatf tgo tha tjk tkl tls tmtkm tntun ton trtur tto tvtuv twn tza uaukr uga umi usa uyury uzb vat vct ven vgb vir vnm vut wfwlf wsm yem ytmyt zaf zmb zwe';

// Calling codes whose national numbers drop a leading trunk 0 and nothing else (libphonenumber's
// metadata, where the 0 is the only national prefix for ordinary numbers). Elsewhere (Italy keeps
// the 0, Hungary's prefix is 06, Russia's 8, Argentina rewrites mobiles) the tag leaves it out.
var TRUNK_ZERO = ' 20 27 31 32 33 40 41 43 44 46 49 51 53 58 60 61 62 63 64 66 81 82 84 86 90 91 92 93 94 95 98 211 212 213 218 231 232 233 234 243 249 250 251 252 254 255 256 260 262 263 264 265 291 353 355 358 359 373 374 377 380 381 382 383 385 386 387 389 421 423 508 590 593 594 595 596 598 686 850 855 856 880 886 961 962 963 964 966 967 970 971 972 976 977 994 995 996 ';

// `s` lowercased with its letters (any script) only; '' where the browser cannot tell letters
// and `s` is not ASCII (a dropped accent would hash another value).
function lettersOnly(s) {
  if (NOT_LETTER) return s.replace(NOT_LETTER, '');
  return /[^\x00-\x7f]/.test(s) ? '' : s.replace(/[^a-z]/g, '');
}

// `YYYYMMDD` when y, m, d make a day that exists from 1800 on, else ''.
function ymd(y, m, d) {
  var t = new Date(Date.UTC(2000, m - 1, d));
  t.setUTCFullYear(y);
  var ok = y >= 1800 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  return ok ? String(y * 1e4 + m * 100 + d) : '';
}

// A date of birth as the server reads it: `YYYYMMDD`, year first with `-`, `/` or `.`, dotted
// dates day first, and slashed or dashed year-last dates by `order` ('mdy'/'dmy'; without one
// only a date that reads one way).
function birthDate(s, order) {
  if (/^\d{8}$/.test(s)) return ymd(+s.slice(0, 4), +s.slice(4, 6), +s.slice(6));
  var sep = (s.match(/\D/) || [''])[0];
  var p = s.split(sep);
  if (!/^[-\/.]$/.test(sep) || p.length !== 3 || !p.every(function (x) {
    return /^\d{1,4}$/.test(x);
  })) return '';
  var a = +p[0];
  var b = +p[1];
  if (p[0].length === 4 && p[1].length <= 2 && p[2].length <= 2) return ymd(a, b, +p[2]);
  if (p[2].length !== 4 || p[0].length > 2 || p[1].length > 2) return '';
  var dmy = ymd(+p[2], b, a);
  var mdy = ymd(+p[2], a, b);
  if (sep === '.') order = 'dmy';
  if (order === 'mdy') return mdy || dmy;
  if (order === 'dmy' || a === b || !dmy || !mdy) return dmy || mdy;
  return '';
}

// Meta's phone digits (country code, no `+`) when the tag knows them international: written with
// `+` or `00`, or a national number with a trunk 0 in a campaign whose calling code drops it
// simply (`07911 123456` with 44), or ten digits under NANP's 1. Anything else needs the
// server's phone metadata: ''.
function phone(raw, cc) {
  var digits = raw.replace(/\D/g, '');
  var national = '';
  if (/^[^\d+]*\+/.test(raw) || /^00/.test(digits)) {
    digits = digits.replace(/^0+/, '');
  } else if (cc === '1') {
    national = digits.replace(/^1(?=\d{10}$)/, '');
    digits = /^[2-9]\d{9}$/.test(national) ? '1' + national : '';
  } else if (cc && TRUNK_ZERO.indexOf(' ' + cc + ' ') >= 0 && /^0[1-9]\d{5}/.test(digits)) {
    digits = cc + digits.slice(1);
  } else {
    digits = '';
  }
  return digits.length >= 6 && digits.length <= 15 ? digits : '';
}

// The server's normalisation of one value, '' when the tag leaves it out. `region`: the
// campaign's calling code (`cc`, '44') and date order (`order`) from tag-config.
function normalise(key, raw, region) {
  region = region || {};
  var t = String(raw).trim();
  var s = t.toLowerCase();
  // An MD5 digest (which Meta no longer takes) would be hashed into a value matching no one.
  if (key !== 'external_id' && /^[0-9a-f]{32}$/.test(s)) return '';
  var x;
  switch (key) {
    case 'em':
      x = s.split('@');
      return x.length === 2 && x[0] && x[1].indexOf('.') > 0 && !/\.$/.test(x[1]) && !/[\s\x85]/.test(s) ? s : '';
    case 'ph':
      return phone(t, region.cc);
    case 'fn':
    case 'ln':
      return s.replace(ASCII_PUNCT, '');
    case 'ge':
      x = s.replace(/\.$/, '').trim();
      return /^(m|male|man|mr)$/.test(x) ? 'm' : /^(f|female|woman|w|mrs|ms|miss)$/.test(x) ? 'f' : '';
    case 'db':
      return birthDate(s, region.order);
    case 'ct':
      return lettersOnly(s);
    case 'st':
      x = lettersOnly(s);
      var m = x.length > 2 && new RegExp(' (..)' + x + ' ').exec(' ' + US_STATES + ' ');
      return m ? m[1] : x;
    case 'zp':
      x = s.replace(/\s/g, '').split('-')[0];
      return /^\d{9}$/.test(x) ? x.slice(0, 5) : x;
    case 'country':
      x = lettersOnly(s);
      m = /^[a-z]{2}$/.test(x) ? ' (' + x + ')(?:[a-z]|[a-z]{3}) ' : /^[a-z]{3}$/.test(x) && ' (?:(' + x.slice(0, 2) + ')' + x[2] + '|([a-z]{2})' + x + ') ';
      m = m && new RegExp(m).exec(' ' + COUNTRIES + ' ');
      return m ? m[1] || m[2] : '';
    case 'external_id':
      return s;
  }
  return '';
}

var CUSTOMER_KEYS = ['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country', 'external_id'];

// What identify() sends: a digest per key the tag could read (a SHA-256 digest given as one kept,
// lowercased), and TikTok's own where its rule differs; never a raw value.
function customerHashes(data, region) {
  var out = {};
  CUSTOMER_KEYS.forEach(function (key) {
    var raw = data && data[key];
    if (Array.isArray(raw)) raw = raw[0];
    if (raw === undefined || raw === null) return;
    var t = String(raw).trim();
    if (/^[0-9a-f]{64}$/i.test(t)) return (out[key] = t.toLowerCase());
    var n = '';
    try {
      // The server refuses over 512 bytes of UTF-8 (a lone surrogate has none: left out too).
      if (encodeURIComponent(t).replace(/%../g, '.').length <= 512) n = normalise(key, t, region);
    } catch (e) {
      // left out
    }
    if (!n) return;
    out[key] = sha256(n);
    // TikTok hashes the phone in E.164 (with '+') and the id as given (case kept).
    if (key === 'ph') out.tiktok_ph = sha256('+' + n);
    if (key === 'external_id') out.tiktok_external_id = sha256(t);
  });
  return out;
}

// SHA-256 (FIPS 180-4) for the landing tag's identify(), hashed synchronously (crypto.subtle is
// async, and absent on http pages). src/routes/tag.rs serves this file and tag.js as one script
// inside one function, so `sha256` is tag.js's and no global of the page's.

// Constants: the fractional parts of the square and cube roots of the first primes.
var H0 = [];
var K = [];
(function () {
  var frac = function (x) {
    return ((x - Math.floor(x)) * 4294967296) | 0;
  };
  for (var c = 2, k = 0; k < 64; c++) {
    for (var f = 2; f * f <= c && c % f; f++);
    if (f * f > c) {
      if (k < 8) H0[k] = frac(Math.pow(c, 1 / 2));
      K[k++] = frac(Math.pow(c, 1 / 3));
    }
  }
})();

function sha256(s) {
  var bytes = new TextEncoder().encode(s);
  var n = bytes.length;
  var words = [];
  var total = ((((n + 8) >> 6) + 1) << 4);
  for (var i = 0; i < total; i++) words[i] = 0;
  for (i = 0; i < n; i++) words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
  words[n >> 2] |= 0x80 << (24 - (n % 4) * 8);
  words[total - 1] = n * 8;
  var h = H0.slice();
  var W = [];
  for (var j = 0; j < total; j += 16) {
    var a = h[0], b = h[1], c = h[2], dd = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (i = 0; i < 64; i++) {
      if (i < 16) {
        W[i] = words[j + i];
      } else {
        var x = W[i - 15], y = W[i - 2];
        var s0 = (x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3);
        var s1 = (y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var t1 = (hh + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
        ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      var t2 = (((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
        ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h = [a, b, c, dd, e, f, g, hh].map(function (v, k) {
      return (v + h[k]) | 0;
    });
  }
  return h.map(function (v) {
    return ('0000000' + (v >>> 0).toString(16)).slice(-8);
  }).join('');
}


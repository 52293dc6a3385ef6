// The pass verifier of the scan page: the same checks as the server's
// internal/pass (Parse, Verify, Claims.AllowedAt) and the checkpoint
// module's scan, done in the browser so that a checkpoint keeps working
// with no network. Ed25519 signatures are checked with WebCrypto.
//
// Every rule here mirrors a line of Go; when the Go changes, this changes:
//   - the token is trimmed as strings.TrimSpace does, refused above 4096
//     bytes, split into exactly three parts, each decoded as
//     pass.decodeSegment does: canonical base64url only (the 64 letters of
//     the alphabet, no padding, no CR or LF, unused trailing bits zero);
//   - header and payload are decoded as encoding/json with
//     DisallowUnknownFields does: field names match exactly or
//     case-insensitively, a wrong type or an unknown field is an error,
//     null leaves a field empty, and one JSON value must be all there is;
//   - then the header and claims rules of pass.Parse, the signature, nbf
//     and exp at the moment of the scan, revocation, area and checkpoint.
//
// Loaded as a file (the Content-Security-Policy forbids inline scripts);
// it defines window.TongxinPass and touches nothing else.
"use strict";

(function () {
  var MAX_TOKEN_LEN = 4096;
  var TOKEN_TYPE = "tongxin-pass";

  // ------------------------------------------------------------------
  // strings.TrimSpace: unicode.IsSpace, which is not JavaScript's trim
  // (U+0085 is a space for Go, U+FEFF is not).
  var SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var TRIM = new RegExp("^" + SPACE + "+|" + SPACE + "+$", "g");
  function goTrimSpace(s) { return s.replace(TRIM, ""); }

  // ------------------------------------------------------------------
  // pass.decodeSegment: base64.RawURLEncoding.Strict() after refusing any
  // character outside the alphabet (Go's decoders skip CR and LF).
  var B64 = (function () {
    var m = new Int16Array(128).fill(-1);
    var a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (var i = 0; i < a.length; i++) m[a.charCodeAt(i)] = i;
    return m;
  })();

  // b64decode returns the bytes, or null where Go reports an error.
  function b64decode(s) {
    var vals = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 128 || B64[c] < 0) return null;
      vals.push(B64[c]);
    }
    var rest = vals.length % 4;
    if (rest === 1) return null;
    // The bits of the last character that carry no byte must be zero.
    if (rest === 2 && (vals[vals.length - 1] & 15) !== 0) return null;
    if (rest === 3 && (vals[vals.length - 1] & 3) !== 0) return null;
    var out = new Uint8Array(Math.floor(vals.length * 3 / 4));
    var o = 0;
    for (var j = 0; j < vals.length; j += 4) {
      var n = vals.length - j;
      var q = (vals[j] << 18) | (vals[j + 1] << 12) | ((n > 2 ? vals[j + 2] : 0) << 6) | (n > 3 ? vals[j + 3] : 0);
      out[o++] = (q >> 16) & 255;
      if (n > 2) out[o++] = (q >> 8) & 255;
      if (n > 3) out[o++] = q & 255;
    }
    return out;
  }

  // ------------------------------------------------------------------
  // A JSON reader with Go's syntax (RFC 8259; bytes that are not UTF-8
  // are allowed in strings and become U+FFFD). Objects keep their members
  // in order, duplicates included; numbers keep their text.
  var utf8 = new TextDecoder("utf-8", { fatal: false });

  function JSONError() {}

  function readJSON(b) {
    var i = 0;
    function ws() { while (i < b.length && (b[i] === 32 || b[i] === 9 || b[i] === 10 || b[i] === 13)) i++; }
    function fail() { throw new JSONError(); }
    function lit(word, v) {
      for (var k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) fail();
      i += word.length;
      return v;
    }
    function digits() { var s = i; while (i < b.length && b[i] >= 48 && b[i] <= 57) i++; return i - s; }
    function number() {
      var s = i;
      if (b[i] === 45) i++;
      if (b[i] === 48) i++;
      else if (b[i] >= 49 && b[i] <= 57) digits();
      else fail();
      if (b[i] === 46) { i++; if (digits() === 0) fail(); }
      if (b[i] === 101 || b[i] === 69) {
        i++;
        if (b[i] === 43 || b[i] === 45) i++;
        if (digits() === 0) fail();
      }
      return { num: utf8.decode(b.subarray(s, i)) };
    }
    function hex4() {
      var v = 0;
      for (var k = 0; k < 4; k++) {
        var c = b[i++], d;
        if (c >= 48 && c <= 57) d = c - 48;
        else if (c >= 97 && c <= 102) d = c - 87;
        else if (c >= 65 && c <= 70) d = c - 55;
        else fail();
        v = v * 16 + d;
      }
      return v;
    }
    function string() {
      i++; // opening quote
      var parts = [], start = i;
      for (;;) {
        if (i >= b.length) fail();
        var c = b[i];
        if (c === 34) break;
        if (c < 32) fail();
        if (c !== 92) { i++; continue; }
        parts.push(utf8.decode(b.subarray(start, i)));
        i++;
        var e = b[i++];
        switch (e) {
          case 34: parts.push('"'); break;
          case 92: parts.push("\\"); break;
          case 47: parts.push("/"); break;
          case 98: parts.push("\b"); break;
          case 102: parts.push("\f"); break;
          case 110: parts.push("\n"); break;
          case 114: parts.push("\r"); break;
          case 116: parts.push("\t"); break;
          case 117: {
            var u = hex4();
            if (u >= 0xd800 && u < 0xdc00 && b[i] === 92 && b[i + 1] === 117) {
              var save = i;
              i += 2;
              var lo = hex4();
              if (lo >= 0xdc00 && lo < 0xe000) { parts.push(String.fromCharCode(u, lo)); break; }
              i = save;
            }
            // A lone surrogate becomes U+FFFD, as in Go.
            parts.push(u >= 0xd800 && u < 0xe000 ? "\ufffd" : String.fromCharCode(u));
            break;
          }
          default: fail();
        }
        start = i;
      }
      parts.push(utf8.decode(b.subarray(start, i)));
      i++; // closing quote
      return parts.join("");
    }
    function value(depth) {
      if (depth > 10000) fail();
      ws();
      var c = b[i];
      if (c === 123) {
        i++;
        var pairs = [];
        ws();
        if (b[i] === 125) { i++; return { obj: pairs }; }
        for (;;) {
          ws();
          if (b[i] !== 34) fail();
          var k = string();
          ws();
          if (b[i] !== 58) fail();
          i++;
          pairs.push([k, value(depth + 1)]);
          ws();
          if (b[i] === 44) { i++; continue; }
          if (b[i] === 125) { i++; return { obj: pairs }; }
          fail();
        }
      }
      if (c === 91) {
        i++;
        var items = [];
        ws();
        if (b[i] === 93) { i++; return { arr: items }; }
        for (;;) {
          items.push(value(depth + 1));
          ws();
          if (b[i] === 44) { i++; continue; }
          if (b[i] === 93) { i++; return { arr: items }; }
          fail();
        }
      }
      if (c === 34) return string();
      if (c === 116) return lit("true", true);
      if (c === 102) return lit("false", false);
      if (c === 110) return lit("null", null);
      if (c === 45 || (c >= 48 && c <= 57)) return number();
      fail();
    }
    var v = value(0);
    // json.Decoder.More: after the value, only spaces, or a stray ']'
    // or '}' (which More does not count as another value).
    ws();
    if (i < b.length && b[i] !== 93 && b[i] !== 125) fail();
    return v;
  }

  // Go matches a JSON key to a field exactly, or else case-insensitively
  // (ASCII case, plus the Kelvin sign and the long s folding to K and S).
  function fold(s) {
    return s.replace(/[a-z]/g, function (c) { return c.toUpperCase(); }).replace(/\u212a/g, "K").replace(/\u017f/g, "S");
  }

  var INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;

  // decodeStruct fills a fresh object from a JSON value as encoding/json
  // does for a struct with DisallowUnknownFields, or throws.
  function decodeStruct(v, fields) {
    var out = {}, name;
    for (name in fields) out[name] = fields[name] === "strings" ? null : fields[name] === "int64" ? 0 : "";
    if (v === null) return out;
    if (!v || !v.obj) throw new JSONError();
    var byFold = {};
    for (name in fields) byFold[fold(name)] = name;
    var bad = false;
    v.obj.forEach(function (pair) {
      var key = pair[0], val = pair[1];
      var f = Object.prototype.hasOwnProperty.call(fields, key) ? key : byFold[fold(key)];
      if (!f) { bad = true; return; }
      switch (fields[f]) {
        case "string":
          if (typeof val === "string") out[f] = val;
          else if (val !== null) bad = true;
          break;
        case "strings":
          if (val === null) { out[f] = null; break; }
          if (!val || !val.arr) { bad = true; break; }
          out[f] = val.arr.map(function (x) {
            if (typeof x === "string") return x;
            if (x !== null) bad = true;
            return "";
          });
          break;
        case "int64":
          if (val === null) break;
          if (!val || typeof val.num !== "string" || !/^-?\d+$/.test(val.num)) { bad = true; break; }
          var n = BigInt(val.num);
          if (n < INT64_MIN || n > INT64_MAX) { bad = true; break; }
          out[f] = Number(n);
          break;
      }
    });
    if (bad) throw new JSONError();
    return out;
  }

  var HEADER = { alg: "string", kid: "string", typ: "string" };
  var CLAIMS = { pid: "string", k: "string", n: "string", id4: "string", pl: "string", ent: "string", en: "string",
    z: "strings", cp: "strings", nbf: "int64", exp: "int64" };

  function strictJSON(bytes, fields) {
    try {
      return decodeStruct(readJSON(bytes), fields);
    } catch (e) {
      if (e instanceof JSONError) return null;
      throw e;
    }
  }

  // The claims of a resident code (passtoken.ResidentClaims).
  var RESIDENT_TYPE = "tongxin-resident";
  var RESIDENT = { rid: "string", hh: "string", n: "string", z: "string", b: "string", iat: "int64" };

  // split is passtoken.split after the checks of the token as a whole
  // (passtoken.Parse and VerifyResident): {header, claims, input, sig,
  // reason}, or {reason} where the token is refused. valid checks the
  // claims, as each parser does after split.
  function split(token, typ, fields, valid) {
    if (typeof token !== "string") return { reason: "malformed" };
    token = goTrimSpace(token);
    // Anything outside ASCII fails base64 below; its byte length is
    // therefore only needed for ASCII, where it is the string's length.
    if (token === "" || token.length > MAX_TOKEN_LEN || /[^\x00-\x7f]/.test(token)) return { reason: "malformed" };
    var parts = token.split(".");
    if (parts.length !== 3) return { reason: "malformed" };
    var hb = b64decode(parts[0]), pb = b64decode(parts[1]), sig = b64decode(parts[2]);
    if (!hb || !pb || !sig) return { reason: "malformed" };
    var h = strictJSON(hb, HEADER), c = strictJSON(pb, fields);
    if (!h || !c) return { reason: "malformed" };
    if (h.alg !== "EdDSA" || h.typ !== typ || h.kid === "") return { reason: "malformed" };
    // Parse and VerifyResident check the claims after split, whose last
    // check is the signature's length.
    if (sig.length !== 64) return { reason: "bad_signature" };
    if (!valid(c)) return { reason: "malformed" };
    return { header: h, claims: c, input: new TextEncoder().encode(parts[0] + "." + parts[1]), sig: sig, reason: "ok" };
  }

  // parse is pass.Parse: {header, claims, input, sig} or {reason}.
  function parse(token) {
    return split(token, TOKEN_TYPE, CLAIMS, function (c) {
      return !(c.pid === "" || (c.k !== "person" && c.k !== "vehicle") || c.exp <= 0 || c.nbf <= 0 || !c.z || c.z.length === 0);
    });
  }

  // parseResident is passtoken.VerifyResident before the signature.
  function parseResident(token) {
    return split(token, RESIDENT_TYPE, RESIDENT, function (c) { return c.rid !== "" && c.hh !== "" && c.z !== "" && c.iat > 0; });
  }

  // tokenType is the typ of a token's header ("" when unreadable): which
  // parser a scanned code is for, as checkpoint.tokenType.
  function tokenType(token) {
    var head = goTrimSpace(String(token)).split(".")[0];
    if (head.length > 512) return "";
    var hb = b64decode(head);
    var h = hb ? strictJSON(hb, HEADER) : null;
    return h ? h.typ : "";
  }

  // inPath is pass.inPath: code is a whole segment of the area path,
  // between two slashes.
  function inPath(path, code) {
    if (code === "" || code.indexOf("/") >= 0) return false;
    var segs = path.split("/");
    if (segs.length < 3) return false;
    return segs.slice(1, -1).indexOf(code) >= 0;
  }

  // allowedAt is Claims.AllowedAt.
  function allowedAt(c, areaPath, checkpointID) {
    var inArea = c.z.some(function (z) { return inPath(areaPath, z); });
    if (!inArea) return "area_not_allowed";
    if (c.cp && c.cp.length > 0) {
      return c.cp.indexOf(String(checkpointID)) >= 0 ? "ok" : "checkpoint_not_allowed";
    }
    return "ok";
  }

  // supported reports whether this browser verifies Ed25519 signatures:
  // test 1 of RFC 8032 (section 7.1), checked once.
  var supportedOnce = null;
  function hex(h) {
    var out = new Uint8Array(h.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
    return out;
  }
  function supported() {
    if (!supportedOnce) {
      supportedOnce = (async function () {
        try {
          var key = await crypto.subtle.importKey("raw", hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
            { name: "Ed25519" }, false, ["verify"]);
          var sig = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
          var good = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, new Uint8Array(0));
          sig[0] ^= 1;
          var bad = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, new Uint8Array(0));
          return good === true && bad === false;
        } catch (e) {
          return false;
        }
      })();
    }
    return supportedOnce;
  }

  // A Verifier holds imported public keys, by kid and x, so that each is
  // imported once.
  function Verifier() { this.imported = new Map(); }

  Verifier.prototype.key = function (jwk) {
    var id = jwk.kid + " " + jwk.x;
    if (!this.imported.has(id)) {
      var p = crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, ext: true }, { name: "Ed25519" }, false, ["verify"]);
      // A key that will not import verifies nothing; forget it so that a
      // corrected JWK Set is tried again.
      var self = this;
      p.catch(function () { self.imported.delete(id); });
      this.imported.set(id, p);
    }
    return this.imported.get(id);
  };

  // verify answers {reason, claims} for token scanned at atMs (Unix
  // milliseconds) at a checkpoint, given
  //   lists.keys:    [{kid, x}] every Ed25519 key ever published (a key
  //                  leaves the JWK Set once its passes have expired, and
  //                  the server still knows it then)
  //   lists.revoked: {pids: {pid: …}, kids: {kid: …}} revoked passes and
  //                  revoked (leaked) keys
  //   site:          {id, area_path}
  // in the order of the server's checks (pass.Service.Verify, then
  // Claims.AllowedAt). claims is null where the server shows no pass.
  Verifier.prototype.verify = async function (token, atMs, lists, site) {
    var p = parse(token);
    if (p.reason !== "ok") return { reason: p.reason, claims: null };
    var r = await this.signature(p, lists);
    if (r !== "ok") return { reason: r, claims: r === "revoked" ? p.claims : null };
    var c = p.claims;
    var sec = Math.floor(atMs / 1000);
    if (sec < c.nbf) return { reason: "not_yet_valid", claims: c };
    if (sec >= c.exp) return { reason: "expired", claims: c };
    var rv = lists.revoked || {};
    if (rv.pids && rv.pids[c.pid]) return { reason: "revoked", claims: c };
    return { reason: allowedAt(c, site.area_path || "", site.id), claims: c };
  };

  // verifyResident answers {reason, claims} for a resident code, as
  // pass.Verifier.VerifyResident: the signature with a key of lists.keys,
  // a code of a revoked key (lists.revoked.kids) revoked. A resident code
  // does not expire; a household code (rid == hh) verifies too, the
  // caller decides what it may do.
  Verifier.prototype.verifyResident = async function (token, lists) {
    var p = parseResident(token);
    if (p.reason !== "ok") return { reason: p.reason, claims: null };
    var r = await this.signature(p, lists);
    return { reason: r, claims: r === "ok" || r === "revoked" ? p.claims : null };
  };

  // signature checks a parsed token's signature as the server does: "ok",
  // "revoked" (a revoked key's token whose signature checks, or whose key
  // this device never held), "unknown_key", "bad_signature", or
  // "unverifiable" (no Ed25519 in this browser).
  Verifier.prototype.signature = async function (p, lists) {
    var kid = p.header.kid;
    var jwk = null;
    (lists.keys || []).forEach(function (k) {
      if (k && k.kid === kid && typeof k.x === "string" && (!k.kty || k.kty === "OKP") && (!k.crv || k.crv === "Ed25519")) jwk = k;
    });
    var rv = lists.revoked || {};
    var self = this;
    // A browser without Ed25519 in WebCrypto cannot check signatures at
    // all: its answer is "unverifiable", never a forged pass.
    var signed = async function () {
      if (!(await supported())) return null;
      try {
        return await crypto.subtle.verify({ name: "Ed25519" }, await self.key(jwk), p.sig, p.input);
      } catch (e) {
        return false; // a key that is not an Ed25519 key, as Go's SignedBy
      }
    };
    var ok;
    // A token of a revoked key: revoked once its signature is checked, if
    // this device still holds the key; revoked all the same if it does not.
    if (rv.kids && rv.kids[kid]) {
      if (jwk) {
        ok = await signed();
        if (ok === null) return "unverifiable";
        if (!ok) return "bad_signature";
      }
      return "revoked";
    }
    if (!jwk) return "unknown_key";
    ok = await signed();
    if (ok === null) return "unverifiable";
    return ok ? "ok" : "bad_signature";
  };

  window.TongxinPass = { parse: parse, parseResident: parseResident, tokenType: tokenType, RESIDENT_TYPE: RESIDENT_TYPE,
    allowedAt: allowedAt, Verifier: Verifier, b64decode: b64decode, trimSpace: goTrimSpace, supported: supported };
})();

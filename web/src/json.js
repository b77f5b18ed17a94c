// Strict JSON for exchange-written files: integers exact (BigInt), a key twice in one object refused, bounded depth.
// Mirrors zksolvency/artifacts.py's reader: what JSON.parse would silently round or overwrite is refused here.

export const MAX_FILE_BYTES = 16 << 20;
export const MAX_DEPTH = 64;
export const MAX_DIGITS = 80;

export class FormatError extends Error {}

/** The value of `text` with every integer a BigInt and every fraction or exponent a Float (refused where ints go). */
export function parseJson(text, where) {
  if (text.length > MAX_FILE_BYTES) throw new FormatError(`${where}: larger than ${MAX_FILE_BYTES >> 20} MiB`);
  let pos = 0;
  const fail = (msg) => {
    throw new FormatError(`${where}: not valid JSON at character ${pos}: ${msg}`);
  };
  const ws = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos])) pos++;
  };
  const value = (depth) => {
    if (depth > MAX_DEPTH) throw new FormatError(`${where}: nests arrays or objects more than ${MAX_DEPTH} deep`);
    ws();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const out = new Map();
      ws();
      if (text[pos] === "}") { pos++; return out; }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail("expected a key");
        const key = string();
        if (out.has(key)) throw new FormatError(`${where}: the key ${JSON.stringify(key.slice(0, 40))} appears twice in one object`);
        ws();
        if (text[pos++] !== ":") fail("expected ':'");
        out.set(key, value(depth + 1));
        ws();
        const d = text[pos++];
        if (d === "}") return out;
        if (d !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      pos++;
      const out = [];
      ws();
      if (text[pos] === "]") { pos++; return out; }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        const d = text[pos++];
        if (d === "]") return out;
        if (d !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", pos)) { pos += 4; return true; }
    if (text.startsWith("false", pos)) { pos += 5; return false; }
    if (text.startsWith("null", pos)) { pos += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(pos, pos + 400));
    if (!m) fail("unexpected character");
    pos += m[0].length;
    if (m[2] || m[3]) return new Float(m[0]);
    if (m[0].replace("-", "").length > MAX_DIGITS) throw new FormatError(`${where}: a number of ${m[0].length} digits (at most ${MAX_DIGITS})`);
    return BigInt(m[0]);
  };
  const string = () => {
    pos++;
    let out = "";
    for (;;) {
      if (pos >= text.length) fail("unterminated string");
      const c = text[pos++];
      if (c === '"') return out;
      if (c < " ") fail("a control character in a string");
      if (c !== "\\") { out += c; continue; }
      const e = text[pos++];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e];
      if (simple !== undefined) { out += simple; continue; }
      if (e !== "u" || !/^[0-9a-fA-F]{4}$/.test(text.slice(pos, pos + 4))) fail("a bad escape");
      out += String.fromCharCode(parseInt(text.slice(pos, pos + 4), 16));
      pos += 4;
    }
  };
  const out = value(0);
  ws();
  if (pos !== text.length) fail("extra data after the value");
  return out;
}

/** A JSON number with a fraction or exponent: kept apart so that 8.0 is never taken for the integer 8. */
export class Float {
  constructor(text) { this.text = text; }
}

/** Whether `text` is valid Unicode (JSON escapes can spell lone surrogates, which no UTF-8 encodes). */
export function isWellFormed(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** JSON text of a value parseJson returned (Maps, BigInts and Floats written back as they were read). */
export function toJsonText(value) {
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(",")}}`;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Float) return value.text;
  return JSON.stringify(value);
}

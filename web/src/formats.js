// The inclusion file (format zksolvency-inclusion/2, or /3 with the shard of a sharded round), parsed as strictly as
// zksolvency/artifacts.py parses it.
import { FormatError, Float, isWellFormed, parseJson } from "./json.js";
import { R_MODULUS, bytesToBigInt, hexToBytes } from "./field.js";

export const INCLUSION_FORMAT = "zksolvency-inclusion/2";
export const SHARDED_INCLUSION_FORMAT = "zksolvency-inclusion/3";
export const MAX_SHARDS = 1 << 20;
export const MAX_ROW = 1n << 64n;
const MAX_DIGITS = 80;

const kindOf = (v) => (v === null ? "null" : typeof v === "bigint" ? "int" : v instanceof Float ? "float"
  : Array.isArray(v) ? "list" : v instanceof Map ? "dict" : typeof v === "boolean" ? "bool" : typeof v);

/** Typed access to one JSON object's fields, errors naming the field; exactly `keys` when given. */
export class Fields {
  constructor(obj, where, keys) {
    if (!(obj instanceof Map)) throw new FormatError(`${where}: expected a JSON object`);
    this.obj = obj;
    this.where = where;
    if (keys) {
      const missing = keys.filter((k) => !obj.has(k));
      if (missing.length) throw new FormatError(`${where}: missing field ${JSON.stringify(missing[0])}`);
      const extra = [...obj.keys()].filter((k) => !keys.includes(k));
      if (extra.length) throw new FormatError(`${where}: unexpected field ${JSON.stringify(extra[0].slice(0, 40))}`);
    }
  }

  get(key, ...kinds) {
    if (!this.obj.has(key)) throw new FormatError(`${this.where}: missing field ${JSON.stringify(key)}`);
    const value = this.obj.get(key);
    if (!kinds.includes(kindOf(value))) {
      throw new FormatError(`${this.where}: field ${JSON.stringify(key)} must be a ${kinds.join(" or ")}`);
    }
    return value;
  }

  text(key) {
    return unicode(this.get(key, "string"), `${this.where}: field ${JSON.stringify(key)}`);
  }

  /** 0x and hex digits only (of `length` bytes when given). */
  hexBytes(key, length) {
    const text = this.text(key);
    const digits = text.slice(2);
    if (!text.startsWith("0x") || digits.length % 2 || !/^[0-9a-fA-F]*$/.test(digits)) {
      throw new FormatError(`${this.where}: field ${JSON.stringify(key)} must be 0x and an even number of hex digits`);
    }
    if (length !== undefined && digits.length !== 2 * length) {
      throw new FormatError(`${this.where}: field ${JSON.stringify(key)} must be ${length} bytes`);
    }
    return hexToBytes(digits);
  }
}

export function unicode(text, where) {
  if (!isWellFormed(text)) throw new FormatError(`${where}: not valid Unicode (a lone surrogate)`);
  return text;
}

/** A decimal string of digits below r. */
export function decimal(text, where) {
  if (typeof text !== "string" || !/^[0-9]+$/.test(text) || (text.length > 1 && text[0] === "0")) {
    throw new FormatError(`${where}: expected a decimal string of digits, got ${JSON.stringify(String(text).slice(0, 40))}`);
  }
  if (text.length > MAX_DIGITS) throw new FormatError(`${where}: a number of ${text.length} digits is not below the field modulus`);
  const value = BigInt(text);
  if (value >= R_MODULUS) throw new FormatError(`${where}: ${text} is not below the field modulus`);
  return value;
}

/**
 * An inclusion file's text as { roundId, userId, salt, assets, records: [{ row, slots: [[name|null, units]],
 * proof: [x, y] }], shard: the shard index (format /3) or null }; FormatError naming the field.
 */
export function parseInclusionFile(text, where = "inclusion file") {
  const obj = parseJson(text, where);
  const sharded = obj instanceof Map && obj.get("format") === SHARDED_INCLUSION_FORMAT;
  const f = new Fields(obj, where, ["format", "round_id", "user_id", "salt", "assets", "records",
    ...(sharded ? ["shard"] : [])]);
  if (![INCLUSION_FORMAT, SHARDED_INCLUSION_FORMAT].includes(f.text("format"))) {
    throw new FormatError(`${where}: format ${JSON.stringify(String(obj.get("format")))} is not ` +
      `${JSON.stringify(INCLUSION_FORMAT)} (or ${JSON.stringify(SHARDED_INCLUSION_FORMAT)} for a sharded round)`);
  }
  let shard = null;
  if (sharded) {
    const index = f.get("shard", "int");
    if (!(index >= 0n && index < BigInt(MAX_SHARDS))) {
      throw new FormatError(`${where}: shard must be a whole number from 0 to ${MAX_SHARDS - 1}`);
    }
    shard = Number(index);
  }
  const salt = f.hexBytes("salt", 32);
  const records = f.get("records", "list").map((r, i) => {
    const rf = new Fields(r, `${where}: records[${i}]`, ["row", "slots", "proof"]);
    const slots = rf.get("slots", "list").map((s, k) => {
      const sf = new Fields(s, `${rf.where}.slots[${k}]`, ["asset", "units"]);
      const asset = sf.get("asset", "string", "null");
      if (asset !== null) unicode(asset, `${sf.where}.asset`);
      return [asset, decimal(sf.get("units", "string"), `${sf.where}.units`)];
    });
    const proof = rf.hexBytes("proof", 64);
    const row = rf.get("row", "int");
    if (!(row >= 0n && row < MAX_ROW)) throw new FormatError(`${rf.where}: row must be a whole number from 0 to 2^64 - 1`);
    return { row, slots, proof: [bytesToBigInt(proof.slice(0, 32)), bytesToBigInt(proof.slice(32))] };
  });
  const assets = f.get("assets", "list");
  if (!assets.every((a) => typeof a === "string") || new Set(assets).size !== assets.length) {
    throw new FormatError(`${where}: assets must be a list of distinct names`);
  }
  assets.forEach((a, i) => unicode(a, `${where}: assets[${i}]`));
  return { roundId: f.text("round_id"), userId: f.text("user_id"), salt, assets, records, shard };
}

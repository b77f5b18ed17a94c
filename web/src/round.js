// A round.json as the page reads it, checked as zksolvency/audit.py's verify_round checks it: the key is the
// pinned one (and a development key only where allowed), the public inputs are the statement's, and the proof
// verifies (plonk.js, from the circuit's description the page was served with); a sharded round's shards add up
// and every shard's proof verifies under its shard tag. Then the inclusion keys of each shard: the proof's
// commitment and gamma, the key's G2 points, and a margin round's weights.
import { bn254 } from "@noble/curves/bn254";
import { FormatError, parseJson } from "./json.js";
import { Fields, MAX_SHARDS, decimal } from "./formats.js";
import {
  Q_MODULUS, R_MODULUS, bytesToBigInt, bytesToHex, concat, equalBytes, keccak256, uintBytes, utf8,
} from "./field.js";
import { FIRST_ASSET_KEY, SURPLUS_WORDS, SURPLUS_WORD_BITS } from "./inclusion.js";
import { PROTOCOL_DOMAIN, ProofError, verifyProof } from "./plonk.js";

export const ROUND_FORMAT = "zksolvency-round/1";
export const SHARDED_ROUND_FORMAT = "zksolvency-sharded-round/1";
export const ROUND_DOMAIN = utf8("zksolvency/round/v2");
export const SHARD_DOMAIN = utf8("zksolvency/shard/v1");
// The fields of round.json besides "totals" (public mode) or "reserves" (private mode), and a margin round's.
const ROUND_FIELDS = ["format", "round_id", "timestamp", "mode", "assets", "slots", "log_n", "n", "public_inputs",
  "inclusion_commitment", "proof", "verifying_key"];
// What every shard of a sharded round shares, stated once (artifacts.py's SHARED_FIELDS).
const SHARED_FIELDS = ["format", "round_id", "timestamp", "mode", "assets", "slots", "log_n", "n", "verifying_key"];
export const DEV_TAU_DOMAIN = utf8("zksolvency/dev-srs/tau");
export const DEV_SEED = "zksolvency-dev";
const BASIS_POINTS = 10000n;
const WEIGHT_BOUND = 1n << 128n;
const VK_MAGIC = utf8("ZKSVK");
const PROOF_MAGIC = utf8("ZKSP");
const FORMAT_VERSION = 1;

/** A round.json the page cannot use, or whose key is not the pinned one; `rule` for the verdict ("pin", "round"). */
export class RoundError extends Error {
  constructor(rule, message) {
    super(message);
    this.rule = rule;
  }
}

const Fp2 = bn254.fields.Fp2;
const G2 = bn254.G2.ProjectivePoint;
const G1 = bn254.G1.ProjectivePoint;

/** EVM encoding of G2: x1 | x0 | y1 | y0, checked on the twist and in the order-r subgroup. */
function g2FromBytes(bytes, what) {
  const [x1, x0, y1, y0] = [0, 32, 64, 96].map((i) => bytesToBigInt(bytes.slice(i, i + 32)));
  if ([x0, x1, y0, y1].some((c) => c >= Q_MODULUS)) throw new FormatError(`${what}: a coordinate is not below q`);
  try {
    const p = G2.fromAffine({ x: Fp2.fromBigTuple([x0, x1]), y: Fp2.fromBigTuple([y0, y1]) });
    p.assertValidity();
    return p;
  } catch {
    throw new FormatError(`${what}: not a point of G2's subgroup of order r`);
  }
}

function g1FromBytes(bytes, what) {
  const x = bytesToBigInt(bytes.slice(0, 32));
  const y = bytesToBigInt(bytes.slice(32, 64));
  if (x >= Q_MODULUS || y >= Q_MODULUS) throw new FormatError(`${what}: a coordinate is not below q`);
  if (x === 0n && y === 0n) return [x, y];
  try {
    G1.fromAffine({ x, y }).assertValidity();
  } catch {
    throw new FormatError(`${what}: not a point of G1`);
  }
  return [x, y];
}

/** The verifying key's canonical bytes (verifier/formats.py): the fields an inclusion check needs. */
export function parseVerifyingKey(bytes) {
  let pos = 0;
  const take = (k, item) => {
    if (pos + k > bytes.length) throw new FormatError(`verifying key: truncated at ${item}`);
    pos += k;
    return bytes.slice(pos - k, pos);
  };
  if (!equalBytes(take(5, "magic"), VK_MAGIC)) throw new FormatError("verifying key: bad magic");
  const [version, insecure, logN] = take(3, "header");
  if (version !== FORMAT_VERSION) throw new FormatError(`verifying key: unsupported format version ${version}`);
  if (insecure > 1) throw new FormatError("verifying key: insecure flag must be 0 or 1");
  const nameLength = Number(bytesToBigInt(take(2, "name length")));
  const circuit = new TextDecoder("utf-8", { fatal: true }).decode(take(nameLength, "name"));
  const circuitDigest = take(32, "circuit digest");
  take(32, "srs digest");
  const g1 = g1FromBytes(take(64, "[1]_1"), "verifying key: [1]_1");
  const g2 = g2FromBytes(take(128, "[1]_2"), "verifying key: [1]_2");
  const tauG2Bytes = take(128, "[tau]_2");
  const tauG2 = g2FromBytes(tauG2Bytes, "verifying key: [tau]_2");
  const fixed = Number(bytesToBigInt(take(2, "fixed count")));
  const fixedCommitments = Array.from({ length: fixed }, (_, i) =>
    pointOf(g1FromBytes(take(64, `fixed commitment ${i}`), `verifying key: fixed commitment ${i}`)));
  if (pos !== bytes.length) throw new FormatError(`verifying key: ${bytes.length - pos} trailing bytes`);
  return { circuit, logN, insecure: insecure === 1, g1, g1Point: pointOf(g1), g2, tauG2, circuitDigest,
    fixedCommitments, digest: keccak256(bytes) };
}

const pointOf = ([x, y]) => (x === 0n && y === 0n ? G1.ZERO : G1.fromAffine({ x, y }));

let devTauG2 = null;
/** [tau]_2 of the development SRS, whose tau is public (verifier/development.py). */
export function developmentTauG2() {
  if (!devTauG2) {
    let digest = keccak256(concat(DEV_TAU_DOMAIN, utf8(DEV_SEED)));
    while ([0n, 1n].includes(bytesToBigInt(digest) % R_MODULUS)) digest = keccak256(digest);
    devTauG2 = G2.BASE.multiply(bytesToBigInt(digest) % R_MODULUS);
  }
  return devTauG2;
}

/** Whether a key is the development setup's: its [tau]_2 is the public tau's, whatever its flag says, or flagged. */
export const isDevelopmentKey = (vk) => vk.insecure || vk.tauG2.equals(developmentTauG2());

/** Whether p is a price a margin round can state: positive and below 2^64 units of 10^-8 USD (margin.py's). */
export const isPrice = (p) => typeof p === "bigint" && p > 0n && p < 1n << 64n;
/** Whether r is a collateral ratio: 0 to 10,000 basis points. */
export const isRatio = (r) => typeof r === "bigint" && r >= 0n && r <= BASIS_POINTS;

/** Every key's weight of a margin round: 0, the surplus words' -2^(64t), then per asset price*ratio, -price*10^4. */
export function marginWeights(prices, ratios, decimals) {
  const top = Math.max(...decimals);
  const out = [0n];
  for (let t = 0; t < SURPLUS_WORDS; t++) out.push(-(1n << (SURPLUS_WORD_BITS * BigInt(t))));
  prices.forEach((p, j) => {
    const unit = p * 10n ** BigInt(top - decimals[j]);
    out.push(unit * ratios[j], -unit * BASIS_POINTS);
  });
  if (out.some((w) => (w < 0n ? -w : w) > WEIGHT_BOUND)) {
    throw new RoundError("round", "a margin weight exceeds 2^128 (a price too precise for the decimals)");
  }
  if (out.length !== FIRST_ASSET_KEY + 2 * prices.length) throw new Error("weights");
  return out;
}

const hex = (bytes) => "0x" + bytesToHex(bytes);

function prefixed(text) {
  const data = utf8(text);
  return concat(uintBytes(data.length, 4), data);
}

/** The round tag (zksolvency/hashing.py): Keccak chained over the round id, its time and every asset's name and decimals. */
export function roundTag(roundId, timestamp, assets) {
  let t = keccak256(concat(ROUND_DOMAIN, prefixed(roundId), prefixed(timestamp), uintBytes(assets.length, 4)));
  for (const a of assets) t = keccak256(concat(t, keccak256(utf8(a.name)), uintBytes(a.decimals, 1)));
  return bytesToBigInt(t) % R_MODULUS;
}

/** The public inputs a round's statement means (zksolvency/audit.py's statement_inputs). */
export function statementInputs(tag, values, privateTotals, weights, debts) {
  if (!weights) return [tag, ...values];
  const keyValues = new Array(weights.length).fill(0n);
  values.forEach((v, j) => { keyValues[FIRST_ASSET_KEY + 2 * j] = v; });
  if (!privateTotals) debts.forEach((d, j) => { keyValues[FIRST_ASSET_KEY + 2 * j + 1] = d; });
  return [tag, ...keyValues.flatMap((v, k) => [v, ((weights[k] % R_MODULUS) + R_MODULUS) % R_MODULUS])];
}

/** The tag shard `index` of `count` proves under (zksolvency/hashing.py's shard_tag; count > 1). */
export function shardTag(tag, index, count) {
  return bytesToBigInt(keccak256(concat(SHARD_DOMAIN, uintBytes(tag, 32), uintBytes(index, 4), uintBytes(count, 4)))) %
    R_MODULUS;
}

/**
 * A round.json's text (format zksolvency-round/1, or zksolvency-sharded-round/1) as { roundId, timestamp, assets:
 * [{name, decimals}], margin, shards: [keys of each shard, in index order], sharded, vkDigest, development }.
 * `pin`: { vkDigest: "0x..", circuit: description } (required: the key a round file carries is the exchange's
 * own), and `allowInsecureSrs`. RoundError: "pin" if the key is not the pinned one (or a development key not
 * allowed), "proof" if the statement is not what the proof proves (or, sharded, the shards do not add up).
 * Every shard's proof is verified: a customer's verdict is about the round, not only their shard.
 */
export function roundFromJson(text, pin, allowInsecureSrs, where = "round.json") {
  const obj = parseJson(text, where);
  if (!(obj instanceof Map)) throw new FormatError(`${where}: expected a JSON object`);
  const sharded = obj.get("format") === SHARDED_ROUND_FORMAT;
  // Exactly the fields of the round's mode (artifacts.py's RoundStatement.from_json, ShardedStatement.from_json).
  const privateMode = obj.get("mode") === "private";
  const valuesName = privateMode ? "reserves" : "totals";
  const marginFields = obj.has("prices") ? ["quote", "prices", "collateral_ratios_bps", ...(privateMode ? [] : ["debts"])] : [];
  const f = new Fields(obj, where, [...(sharded ? SHARED_FIELDS : ROUND_FIELDS), valuesName, ...marginFields,
    ...(sharded ? ["shard_count", "shards"] : [])]);
  if (f.text("format") !== (sharded ? SHARDED_ROUND_FORMAT : ROUND_FORMAT)) {
    throw new FormatError(`${where}: format is not ${ROUND_FORMAT} (or ${SHARDED_ROUND_FORMAT})`);
  }
  const roundId = f.text("round_id");
  const timestamp = f.text("timestamp");
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(timestamp)) {
    throw new FormatError(`${where}: field "timestamp" must be a UTC time as 2026-11-24T08:00:00Z`);
  }
  const mode = f.text("mode");
  if (!["public", "private"].includes(mode)) throw new FormatError(`${where}: mode must be "public" or "private"`);
  const assets = f.get("assets", "list").map((a, i) => {
    const af = new Fields(a, `${where}: assets[${i}]`, ["name", "decimals"]);
    const decimals = af.get("decimals", "int");
    if (decimals < 0n || decimals > 30n) throw new FormatError(`${af.where}: decimals must be 0 to 30`);
    return { name: af.text("name"), decimals: Number(decimals) };
  });
  if (assets.length === 0 || new Set(assets.map((a) => a.name)).size !== assets.length) {
    throw new FormatError(`${where}: assets must be a non-empty list of distinct names`);
  }
  const slots = Number(f.get("slots", "int"));
  const logN = Number(f.get("log_n", "int"));
  if (!(logN >= 0 && logN <= 28) || f.get("n", "int") !== 1n << BigInt(logN)) {
    throw new FormatError(`${where}: n must be 2^log_n with log_n <= 28`);
  }
  const perAsset = (fields, key, parse) => {
    const raw = fields.get(key, "dict");
    if (raw.size !== assets.length || !assets.every((a) => raw.has(a.name))) {
      throw new FormatError(`${fields.where}: ${key} must name every asset exactly once`);
    }
    return assets.map((a) => parse(raw.get(a.name), `${fields.where}: ${key}.${a.name}`));
  };
  // What each proof states: the round's own (one shard), or every shard's, listed in index order.
  const statements = (sharded ? shardEntries(f, where, privateMode, marginFields.length > 0) : [f]).map((sf) => ({
    where: sf.where,
    values: perAsset(sf, sharded && privateMode ? "allocation" : valuesName, decimal),
    debts: marginFields.includes("debts") ? perAsset(sf, "debts", decimal) : null,
    publicInputs: sf.get("public_inputs", "list").map((x, i) => decimal(x, `${sf.where}: public_inputs[${i}]`)),
    commitment: g1FromBytes(sf.hexBytes("inclusion_commitment", 64), `${sf.where}: inclusion_commitment`),
    proof: sf.hexBytes("proof"),
  }));
  const vkFields = new Fields(f.get("verifying_key", "dict"), `${where}: verifying_key`);
  const vk = parseVerifyingKey(vkFields.hexBytes("bytes"));
  const vkDigest = hex(vk.digest);

  // The pin first: nothing the exchange's key says counts unless it is the pinned key.
  if (!pin || !pin.vkDigest) {
    throw new RoundError("pin", "a round file's verifying key needs a pin: this page was served without --vk-digest");
  }
  if (vkDigest !== pin.vkDigest.toLowerCase()) {
    throw new RoundError("pin", `the round's verifying key ${vkDigest} is not the pinned ${pin.vkDigest.toLowerCase()}`);
  }
  const development = isDevelopmentKey(vk);
  if (development && !allowInsecureSrs) {
    throw new RoundError("pin", "the verifying key comes from an insecure development SRS (the page was not served " +
      "with --allow-insecure-srs)");
  }
  const margin = obj.has("prices");
  if (vk.logN !== logN) throw new RoundError("proof", "the verifying key is for another number of rows");
  // The statement's shape must be the key's circuit's (verify_round builds the circuit from the shape).
  const limb = logN >= 16 ? 16 : 8;
  if (vk.circuit !== `solvency/v3/slots=${slots}/rows=2/limb=${limb}/${mode}${margin ? "/margin" : ""}`) {
    throw new RoundError("proof", `the verifying key is for the circuit ${JSON.stringify(vk.circuit)}, not this round's shape`);
  }
  let weights = null;
  let terms = null;
  if (margin) {
    const quote = new Fields(f.get("quote", "dict"), `${where}: quote`, ["name", "decimals"]);
    if (quote.text("name") !== "USD" || quote.get("decimals", "int") !== 8n) {
      throw new FormatError(`${where}: quote must be {"name": "USD", "decimals": 8}`);
    }
    const prices = perAsset(f, "prices", (v, at) => {
      const p = decimal(v, at);
      if (!isPrice(p)) throw new FormatError(`${at}: a price must be positive and below 2^64 units`);
      return p;
    });
    const ratios = perAsset(f, "collateral_ratios_bps", (v, at) => {
      if (!isRatio(v)) throw new FormatError(`${at} must be 0 to 10000 basis points`);
      return v;
    });
    weights = marginWeights(prices, ratios, assets.map((a) => a.decimals));
    terms = { prices, ratios };
  }
  if (sharded) {
    checkShardSums(assets, statements, perAsset(f, valuesName, decimal),
      marginFields.includes("debts") ? perAsset(f, "debts", decimal) : null, privateMode);
  }
  // Every proof, from its circuit's description (bound to the pinned key by its digest).
  if (!pin.circuit) {
    throw new RoundError("pin", "this page was served without its circuit's description (zksolvency web --round)");
  }
  const tag = roundTag(roundId, timestamp, assets);
  const shards = statements.map((st, i) => {
    const shardOf = statements.length > 1 ? `shard ${i} of ${statements.length}: ` : "";
    const shardTagOrTag = statements.length > 1 ? shardTag(tag, i, statements.length) : tag;
    const expected = statementInputs(shardTagOrTag, st.values, mode === "private", weights, st.debts);
    if (expected.length !== st.publicInputs.length || expected.some((x, k) => x !== st.publicInputs[k])) {
      throw new RoundError("proof", `${shardOf}the public inputs are not the round tag (round id, time, asset names ` +
        `and decimals${statements.length > 1 ? ", shard and shard count" : ""}) and the stated values`);
    }
    let verified;
    try {
      verified = verifyProof(pin.circuit, vk, st.publicInputs, st.proof);
    } catch (e) {
      if (e instanceof ProofError) throw new RoundError("proof", `${shardOf}the round's proof does not verify: ${e.message}`);
      throw e;
    }
    const shown = verified.advice.get("inclusion");
    if (!shown || shown[0] !== st.commitment[0] || shown[1] !== st.commitment[1]) {
      throw new RoundError("proof", `${shardOf}the inclusion commitment is not the proof's`);
    }
    return { logN, slots, assetCount: assets.length, commitment: st.commitment, gamma: verified.gamma, g1: vk.g1Point,
      g2: vk.g2, tauG2: vk.tauG2, weights };
  });
  return { roundId, timestamp, assets, margin: terms, shards, sharded, vkDigest, development, source: "round" };
}

/** A sharded round's `shards`: M >= 2 entries, shard i at place i, each with exactly its own fields. */
function shardEntries(f, where, privateMode, margin) {
  const count = f.get("shard_count", "int");
  const listed = f.get("shards", "list");
  if (!(count >= 2n && count <= BigInt(MAX_SHARDS)) || BigInt(listed.length) !== count) {
    throw new FormatError(`${where}: shard_count must be 2 to ${MAX_SHARDS} and the number of shards listed`);
  }
  return listed.map((entry, i) => {
    const at = `${where}: shards[${i}]`;
    const ef = new Fields(entry, at, ["shard", privateMode ? "allocation" : "totals", "public_inputs",
      "inclusion_commitment", "proof", ...(margin && !privateMode ? ["debts"] : [])]);
    if (ef.get("shard", "int") !== BigInt(i)) {
      throw new FormatError(`${at}: field "shard" must be ${i} (the shards are listed in index order)`);
    }
    return ef;
  });
}

/**
 * audit.py's check_shard_sums: public totals (and debts) are the shards' sums; private allocations sum to at most
 * the reserves, so the liabilities each shard proves within its allocation sum to at most the reserves.
 */
function checkShardSums(assets, statements, values, debts, privateMode) {
  assets.forEach((a, j) => {
    const parts = statements.reduce((sum, st) => sum + st.values[j], 0n);
    if (privateMode && parts > values[j]) {
      throw new RoundError("proof", `the shards' allocations of ${a.name} sum to more than its reserves`);
    }
    if (!privateMode && parts !== values[j]) {
      throw new RoundError("proof", `the ${a.name} total is not the sum of the shards' totals`);
    }
    if (debts && statements.reduce((sum, st) => sum + st.debts[j], 0n) !== debts[j]) {
      throw new RoundError("proof", `the ${a.name} debt total is not the sum of the shards' debt totals`);
    }
  });
}

// A round.json as the page reads it: the statement's labels, its pinned verifying key, and the inclusion keys
// (commitment, gamma from the round's transcript, the key's G2 points, margin weights).
//
// What this does NOT do yet: verify the round's PLONK proof (the quotient identity and its openings). The
// customer's verdict on this path says so; the registry path has no such gap (the registry verified the proof
// when the round was submitted), nor has `zksolvency verify-inclusion --round` (Python verifies it).
import { bn254 } from "@noble/curves/bn254";
import { FormatError, parseJson } from "./json.js";
import { Fields, decimal } from "./formats.js";
import {
  Q_MODULUS, R_MODULUS, bytesToBigInt, bytesToHex, concat, equalBytes, keccak256, uintBytes, utf8,
} from "./field.js";
import { FIRST_ASSET_KEY, SURPLUS_WORDS, SURPLUS_WORD_BITS } from "./inclusion.js";

export const ROUND_FORMAT = "zksolvency-round/1";
export const PROTOCOL_DOMAIN = utf8("zksolvency/plonkish-kzg/v1");
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
  take(64, "digests");
  const g1 = g1FromBytes(take(64, "[1]_1"), "verifying key: [1]_1");
  const g2 = g2FromBytes(take(128, "[1]_2"), "verifying key: [1]_2");
  const tauG2Bytes = take(128, "[tau]_2");
  const tauG2 = g2FromBytes(tauG2Bytes, "verifying key: [tau]_2");
  const fixed = Number(bytesToBigInt(take(2, "fixed count")));
  for (let i = 0; i < fixed; i++) g1FromBytes(take(64, `fixed commitment ${i}`), `verifying key: fixed commitment ${i}`);
  if (pos !== bytes.length) throw new FormatError(`verifying key: ${bytes.length - pos} trailing bytes`);
  return { circuit, logN, insecure: insecure === 1, g1, g2, tauG2, digest: keccak256(bytes) };
}

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

/**
 * The solvency circuit's shape as the key's circuit name states it ("solvency/v3/slots=4/rows=2/limb=8/public",
 * then "/margin" for a margin round), and its count of witness-phase commitments: record_hash, S/2 asset
 * columns, S/2 x 64/w limbs, (margin: S/2 weights, account, and in public mode surplus_total), (private: total
 * and 2 x 64/w slack limbs), range.m, (margin: two multiplicities of the weights table). Node tests compare it
 * with the Python layout of every shape (tests/vectors/web/layouts.json).
 */
export function circuitShape(name) {
  const m = /^solvency\/v3\/slots=(\d+)\/rows=2\/limb=(8|16)\/(public|private)(\/margin)?$/.exec(name);
  if (!m) throw new RoundError("round", `the verifying key is for the circuit ${JSON.stringify(name)}, not a solvency circuit`);
  const slots = Number(m[1]);
  const limbs = 64 / Number(m[2]);
  const privateTotals = m[3] === "private";
  const margin = Boolean(m[4]);
  const half = slots / 2;
  const witness = 1 + half + half * limbs + (margin ? half + 1 + (privateTotals ? 0 : 1) : 0) +
    (privateTotals ? 1 + 2 * limbs : 0) + 1 + (margin ? 2 : 0);
  return { slots, limbBits: Number(m[2]), privateTotals, margin, witnessCommitments: witness };
}

/** beta, alpha, gamma: the transcript (verifier/transcript.py) up to the witness commitments. */
export function gammaOf(vkDigest, publicInputs, witnessBytes) {
  let state = keccak256(PROTOCOL_DOMAIN);
  const pending = concat(vkDigest, uintBytes(publicInputs.length, 32), ...publicInputs.map((x) => uintBytes(x, 32)),
    witnessBytes);
  state = keccak256(concat(state, pending)); // beta
  state = keccak256(state); // alpha
  state = keccak256(state); // gamma
  return bytesToBigInt(state) % R_MODULUS;
}

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

/**
 * A round.json's text as { roundId, timestamp, assets: [{name, decimals}], margin, keys, vkDigest, development }.
 * `pin`: { vkDigest: "0x.." } (required: the key a round file carries is the exchange's own), and
 * `allowInsecureSrs`. RoundError ("pin") if the key is not the pinned one or a development key not allowed.
 */
export function roundFromJson(text, pin, allowInsecureSrs, where = "round.json") {
  const obj = parseJson(text, where);
  const f = new Fields(obj, where);
  if (f.text("format") !== ROUND_FORMAT) throw new FormatError(`${where}: format is not ${ROUND_FORMAT}`);
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
  const publicInputs = f.get("public_inputs", "list").map((x, i) => decimal(x, `${where}: public_inputs[${i}]`));
  const commitment = g1FromBytes(f.hexBytes("inclusion_commitment", 64), `${where}: inclusion_commitment`);
  const proof = f.hexBytes("proof");
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
  const shape = circuitShape(vk.circuit);
  const margin = obj.has("prices");
  if (vk.logN !== logN || shape.slots !== slots || shape.privateTotals !== (mode === "private") || shape.margin !== margin) {
    throw new RoundError("round", "the round's shape (rows, slots, mode, margin) is not its verifying key's");
  }
  const witnessEnd = PROOF_MAGIC.length + 1 + 64 * shape.witnessCommitments;
  if (!equalBytes(proof.slice(0, 4), PROOF_MAGIC) || proof[4] !== FORMAT_VERSION || proof.length < witnessEnd) {
    throw new FormatError(`${where}: the proof is not a zksolvency proof of this circuit`);
  }
  const gamma = gammaOf(vk.digest, publicInputs, proof.slice(5, witnessEnd));

  let weights = null;
  let terms = null;
  if (margin) {
    const perAsset = (key, parse) => {
      const raw = f.get(key, "dict");
      if (raw.size !== assets.length || !assets.every((a) => raw.has(a.name))) {
        throw new FormatError(`${where}: ${key} must name every asset exactly once`);
      }
      return assets.map((a) => parse(raw.get(a.name), `${where}: ${key}.${a.name}`));
    };
    const prices = perAsset("prices", decimal);
    const ratios = perAsset("collateral_ratios_bps", (v, at) => {
      if (typeof v !== "bigint" || v < 0n || v > BASIS_POINTS) throw new FormatError(`${at} must be 0 to 10000 basis points`);
      return v;
    });
    weights = marginWeights(prices, ratios, assets.map((a) => a.decimals));
    terms = { prices, ratios };
  }
  const keys = { logN, slots, assetCount: assets.length, commitment, gamma, g1: G1.fromAffine({ x: vk.g1[0], y: vk.g1[1] }),
    g2: vk.g2, tauG2: vk.tauG2, weights };
  return { roundId, timestamp, assets, margin: terms, keys, vkDigest, development, source: "round" };
}

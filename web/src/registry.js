// The round's commitment from the registry, through an Ethereum JSON-RPC endpoint the customer chooses.
// The node is asked for public state only: inclusionContext(round id), the round's RoundSubmitted event (its
// asset names and, in a margin registry, the public inputs holding the key weights), each asset's registered
// decimals and margin(). Nothing about the customer is sent (never the registry's verifyInclusion view, which
// would send the whole record to whatever node answers).
import { bn254 } from "@noble/curves/bn254";
import { R_MODULUS, bytesToBigInt, bytesToHex, concat, hexToBytes, keccak256, uintBytes, utf8 } from "./field.js";
import { FIRST_ASSET_KEY, InclusionError, Rule } from "./inclusion.js";
import { RoundError, isDevelopmentKey } from "./round.js";

const selector = (signature) => keccak256(utf8(signature)).slice(0, 4);
const ROUND_SUBMITTED = "0x" + bytesToHex(keccak256(utf8("RoundSubmitted(string,bytes32,bool,string[],uint256[],bytes32)")));
const UNKNOWN_ROUND = "0x" + bytesToHex(selector("UnknownRound()"));

function pad32(bytes) {
  const out = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  out.set(bytes);
  return out;
}

/** ABI calldata of f(string). */
function callWithString(signature, text) {
  const data = utf8(text);
  return "0x" + bytesToHex(concat(selector(signature), uintBytes(32, 32), uintBytes(data.length, 32), pad32(data)));
}

/** ABI words of a hex return value, and dynamic values read from them. */
class AbiReader {
  constructor(hex, what) {
    if (typeof hex !== "string" || !/^0x([0-9a-fA-F]{64})*$/.test(hex)) throw new RoundError("registry", `${what}: not ABI data`);
    this.bytes = hexToBytes(hex.slice(2));
    this.what = what;
  }

  word(i) {
    if (32 * (i + 1) > this.bytes.length) throw new RoundError("registry", `${this.what}: too short`);
    return bytesToBigInt(this.bytes.slice(32 * i, 32 * (i + 1)));
  }

  /** The string at byte offset `at`. */
  stringAt(at) {
    const length = Number(this.word(at / 32));
    const start = at + 32;
    if (start + length > this.bytes.length) throw new RoundError("registry", `${this.what}: a string past the end`);
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.slice(start, start + length));
  }

  /** The uint256[] at byte offset `at`. */
  uintsAt(at) {
    const count = Number(this.word(at / 32));
    if (count > 4096) throw new RoundError("registry", `${this.what}: ${count} numbers`);
    return Array.from({ length: count }, (_, i) => this.word(at / 32 + 1 + i));
  }

  /** The string[] at byte offset `at`. */
  stringsAt(at) {
    const count = Number(this.word(at / 32));
    if (count > 1024) throw new RoundError("registry", `${this.what}: ${count} strings`);
    const base = at + 32;
    return Array.from({ length: count }, (_, i) => this.stringAt(base + Number(this.word(base / 32 + i))));
  }
}

async function rpc(url, method, params, fetchFn) {
  let response;
  try {
    response = await fetchFn(url, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
  } catch (e) {
    throw new RoundError("registry", `cannot reach the RPC endpoint ${url}: ${e.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new RoundError("registry", `the RPC endpoint ${url} answered ${method} with no JSON-RPC reply`);
  }
  if (body.error) {
    const data = typeof body.error.data === "string" ? body.error.data : body.error.data?.data;
    const err = new RoundError("registry", `the RPC endpoint refused ${method}: ${body.error.message}`);
    err.revert = typeof data === "string" ? data.slice(0, 10) : null;
    throw err;
  }
  return body.result;
}

const Fp2 = bn254.fields.Fp2;
const G2 = bn254.G2.ProjectivePoint;
const G1 = bn254.G1.ProjectivePoint;

/** EVM words (x1, x0, y1, y0) of a G2 point, checked in the subgroup. */
function g2Of(words) {
  const [x1, x0, y1, y0] = words;
  try {
    const p = G2.fromAffine({ x: Fp2.fromBigTuple([x0, x1]), y: Fp2.fromBigTuple([y0, y1]) });
    p.assertValidity();
    return p;
  } catch {
    throw new RoundError("registry", "the registry's G2 points are not points of G2");
  }
}

/**
 * A margin round's key weights as signed integers, from the public inputs its RoundSubmitted event recorded:
 * [tag, (value_k, weight_k) for every key k], so the weights sit at 2, 4, ... (onchain.py's _recorded_weights;
 * the one place the page reads that layout). Nothing else is needed to trust them: the registry made them itself
 * from the prices and ratios it was given, and a weight other than the proof's fails the opening of every slot
 * that uses it.
 */
export function recordedWeights(roundId, inputs, assetCount) {
  if (inputs.length !== 1 + 2 * (FIRST_ASSET_KEY + 2 * assetCount)) {
    throw new RoundError("registry", `the registry's record of margin round ${JSON.stringify(roundId)} holds no ` +
      `weights of its ${assetCount} assets`);
  }
  return inputs.filter((_, i) => i >= 2 && i % 2 === 0).map((w) => (w > R_MODULUS / 2n ? w - R_MODULUS : w));
}

/** Whether the registry takes margin rounds (its margin() answers true); a registry without margin() takes spot rounds. */
async function takesMarginRounds(rpcUrl, registry, fetchFn) {
  try {
    const answer = new AbiReader(await rpc(rpcUrl, "eth_call", [{ to: registry, data: "0x" + bytesToHex(selector("margin()")) }, "latest"], fetchFn), "margin");
    return answer.word(0) === 1n;
  } catch (e) {
    if (!(e instanceof RoundError) || e.message.startsWith("cannot reach")) throw e;
    return false;
  }
}

/**
 * The registry's record of `roundId` as { roundId, timestamp, assets, shards: [keys], sharded, block,
 * development, source }: onchain.py's recorded_round and chain_keys. A margin registry's rounds carry the key
 * weights it recorded. Rule.ROUND_ID (InclusionError) if the registry holds no such round; RoundError for an
 * answer that is not one.
 */
export async function roundFromRegistry(rpcUrl, registry, roundId, allowInsecureSrs, fetchFn = globalThis.fetch) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry)) throw new RoundError("pin", `${registry} is not a contract address`);
  let out;
  try {
    out = await rpc(rpcUrl, "eth_call", [{ to: registry, data: callWithString("inclusionContext(string)", roundId) }, "latest"], fetchFn);
  } catch (e) {
    if (e.revert === UNKNOWN_ROUND) throw new InclusionError(Rule.ROUND_ID, `the registry holds no round ${JSON.stringify(roundId)}`);
    throw e;
  }
  const r = new AbiReader(out, "inclusionContext");
  const [x, y, gamma, block, time, assetCount, n, slots] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => r.word(i));
  const g2 = g2Of([8, 9, 10, 11].map((i) => r.word(i)));
  const tauG2 = g2Of([12, 13, 14, 15].map((i) => r.word(i)));
  if (n <= 0n || (n & (n - 1n)) !== 0n) throw new RoundError("registry", `the registry reports ${n} rows, not a power of two`);
  const logN = n.toString(2).length - 1;

  const key = "0x" + bytesToHex(keccak256(utf8(roundId)));
  const blockHex = "0x" + block.toString(16);
  const logs = await rpc(rpcUrl, "eth_getLogs", [{ address: registry, fromBlock: blockHex, toBlock: blockHex,
    topics: [ROUND_SUBMITTED, key] }], fetchFn);
  if (!Array.isArray(logs) || logs.length !== 1) {
    throw new RoundError("registry", `the registry recorded round ${JSON.stringify(roundId)} in block ${block}, but that block holds ${logs?.length} records of it`);
  }
  // RoundSubmitted's data: roundId, privateTotals, assets, publicInputs, proofHash (roundKey is the topic).
  const event = new AbiReader(logs[0].data, "RoundSubmitted");
  const names = event.stringsAt(Number(event.word(2)));
  if (BigInt(names.length) !== assetCount) {
    throw new RoundError("registry", `the registry's record of round ${JSON.stringify(roundId)} names ${names.length} assets, not ${assetCount}`);
  }
  const assets = [];
  for (const name of names) {
    const info = new AbiReader(await rpc(rpcUrl, "eth_call", [{ to: registry, data: callWithString("assetOf(string)", name) }, "latest"], fetchFn), "assetOf");
    assets.push({ name, decimals: Number(info.word(1)) });
  }
  // A registry takes one kind of round: a margin registry's rounds are checked with the weights it recorded (a
  // spot file's labels are then equity keys whose weights its records do not open to; a margin file's labels
  // are unknown to a spot round: the same rules refuse both, as in Python).
  const margin = await takesMarginRounds(rpcUrl, registry, fetchFn);
  const weights = margin ? recordedWeights(roundId, event.uintsAt(Number(event.word(3))), names.length) : null;
  const development = isDevelopmentKey({ insecure: false, tauG2 });
  if (development && !allowInsecureSrs) {
    throw new RoundError("pin", "the registry's verifier was made with an insecure development SRS (the page was not served with --allow-insecure-srs)");
  }
  const keys = { logN, slots: Number(slots), assetCount: Number(assetCount), commitment: [x, y], gamma,
    g1: G1.BASE, g2, tauG2, weights };
  const timestamp = new Date(Number(time) * 1000).toISOString().replace(".000Z", "Z");
  // The registry records rounds of one shard only. A sharded round's record would list each shard's keys here
  // (commitment and gamma per shard, from the shard's record), with sharded: true; the check is then unchanged.
  return { roundId, timestamp, assets, shards: [keys], sharded: false, block, development, source: "registry" };
}

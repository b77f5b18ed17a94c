// The round's commitment from the registry, through an Ethereum JSON-RPC endpoint the customer chooses.
// The node is asked for public state only: inclusionContext(round id), the round's RoundSubmitted event (its
// asset names) or, in a margin registry, its MarginRoundSubmitted event (names and terms), each asset's registered
// decimals and margin(); for a sharded round's file, shardInclusionContext(round id, the file's shard),
// shardedRoundOf(round id) and the round's ShardedRoundOpened event (and, a sharded margin round's, its
// ShardedMarginTerms event) instead. Nothing about the customer is sent
// (never the registry's verifyInclusion view, which would send the whole record to whatever node answers).
import { bn254 } from "@noble/curves/bn254";
import { bytesToBigInt, bytesToHex, concat, hexToBytes, keccak256, uintBytes, utf8 } from "./field.js";
import { InclusionError, Rule } from "./inclusion.js";
import { RoundError, isDevelopmentKey, isPrice, isRatio, marginWeights } from "./round.js";

const selector = (signature) => keccak256(utf8(signature)).slice(0, 4);
const topic = (signature) => "0x" + bytesToHex(keccak256(utf8(signature)));
const ROUND_SUBMITTED = topic("RoundSubmitted(string,bytes32,bool,string[],uint256[],bytes32)");
const MARGIN_ROUND_SUBMITTED = topic("MarginRoundSubmitted(string,bytes32,bool,string[],uint256[],bytes32)");
const RATIO_BITS = 16n; // a margin round's terms: price << RATIO_BITS | ratio per asset (margin.py's packed)
const SHARDED_ROUND_OPENED = topic("ShardedRoundOpened(string,bytes32,bool,string[],uint256,uint256[],uint256[])");
const SHARDED_MARGIN_TERMS = topic("ShardedMarginTerms(bytes32,uint256[])");
const MAX_SHARDS = 1 << 20; // as zksolvency.shards and the registry

function pad32(bytes) {
  const out = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  out.set(bytes);
  return out;
}

/** ABI calldata of f(string) or, with `index`, of f(string, uint256). */
export function callWithString(signature, text, index = null) {
  const data = utf8(text);
  const head = index === null ? [uintBytes(32, 32)] : [uintBytes(64, 32), uintBytes(index, 32)];
  return "0x" + bytesToHex(concat(selector(signature), ...head, uintBytes(data.length, 32), pad32(data)));
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
    err.revertData = typeof data === "string" ? data : null;
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

// The registry's reverts that say why it holds no record for a file: the round's state, not the customer's records.
const REFUSALS = new Map(["UnknownRound()", "ShardedRound(uint256)", "NotSharded()", "BadShard(uint256,uint256)",
  "RoundNotComplete(uint256,uint256)"].map((signature) => [bytesToHex(selector(signature)), signature.split("(")[0]]));

/**
 * onchain.py's recorded_round on a revert of inclusionContext(roundId) (`shard` null) or shardInclusionContext(
 * roundId, shard): the InclusionError it stands for (ROUND_ID: no such round, or a sharded round not every shard of
 * which has verified; SHARD: a sharded round's file naming no shard, a one-shard round's file naming one, a shard
 * the round does not have), or null for any other revert. `revertData`: the revert's 0x hex.
 */
export function refusalOf(revertData, roundId, shard) {
  if (typeof revertData !== "string" || !/^0x[0-9a-fA-F]{8}([0-9a-fA-F]{64})*$/.test(revertData)) return null;
  const name = REFUSALS.get(revertData.slice(2, 10).toLowerCase());
  const args = (revertData.slice(10).match(/.{64}/g) ?? []).map((w) => BigInt("0x" + w));
  const id = JSON.stringify(roundId);
  const reason = `${name}(${args.join(", ")})`;
  if (name === "UnknownRound" && args.length === 0) {
    return new InclusionError(Rule.ROUND_ID, `the registry holds no round ${id}`);
  }
  if (name === "ShardedRound" && args.length === 1) {
    return new InclusionError(Rule.SHARD, `the registry holds round ${id} as a sharded round of ${args[0]} shards; ` +
      "the file names no shard");
  }
  if (name === "NotSharded" && args.length === 0) {
    return new InclusionError(Rule.SHARD, `the file names shard ${shard}; the registry holds round ${id} as a round of one shard`);
  }
  if (name === "BadShard" && args.length === 2) {
    return new InclusionError(Rule.SHARD, `the file names shard ${shard}; the registry's round ${id} has no such shard (${reason})`);
  }
  if (name === "RoundNotComplete" && args.length === 2) {
    return new InclusionError(Rule.ROUND_ID, `the registry's round ${id} is not complete (${reason}): not every shard has verified`);
  }
  return null;
}

/**
 * A margin round's key weights as signed integers, from the terms its MarginRoundSubmitted event recorded (one
 * word per asset, price << 16 | ratio) and its assets' registered decimals: the registry's own rule (onchain.py's
 * _recorded_weights). Nothing else is needed to trust them: the registry made the proof's weights from these
 * terms, and a weight other than the proof's fails the opening of every slot that uses it.
 */
export function recordedWeights(roundId, terms, decimals) {
  const where = `the registry's record of margin round ${JSON.stringify(roundId)}`;
  if (terms.length !== decimals.length) {
    throw new RoundError("registry", `${where} holds ${terms.length} terms for ${decimals.length} assets`);
  }
  const prices = terms.map((t) => t >> RATIO_BITS);
  const ratios = terms.map((t) => t & ((1n << RATIO_BITS) - 1n));
  if (!prices.every(isPrice) || !ratios.every(isRatio)) {
    throw new RoundError("registry", `${where} holds terms no registry makes`);
  }
  return marginWeights(prices, ratios, decimals);
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

/** eth_call of `data` on the registry; an answer that is not ABI words is refused, naming `what`. */
async function view(rpcUrl, registry, data, what, fetchFn) {
  return new AbiReader(await rpc(rpcUrl, "eth_call", [{ to: registry, data }, "latest"], fetchFn), what);
}

/** The one event `signature` of round `roundId` in `block` (the registry's record of it), as ABI words. */
async function roundEvent(rpcUrl, registry, signature, roundId, block, fetchFn) {
  const key = "0x" + bytesToHex(keccak256(utf8(roundId)));
  const blockHex = "0x" + block.toString(16);
  const logs = await rpc(rpcUrl, "eth_getLogs", [{ address: registry, fromBlock: blockHex, toBlock: blockHex,
    topics: [signature, key] }], fetchFn);
  if (!Array.isArray(logs) || logs.length !== 1) {
    throw new RoundError("registry", `the registry recorded round ${JSON.stringify(roundId)} in block ${block}, but that block holds ${logs?.length} records of it`);
  }
  const name = { [ROUND_SUBMITTED]: "RoundSubmitted", [MARGIN_ROUND_SUBMITTED]: "MarginRoundSubmitted",
    [SHARDED_MARGIN_TERMS]: "ShardedMarginTerms" }[signature];
  return new AbiReader(logs[0].data, name ?? "ShardedRoundOpened");
}

/**
 * (asset names, shard count) of a sharded round from shardedRoundOf and its ShardedRoundOpened event (onchain.py's
 * sharded_state and _recorded_names): the event's data is roundId, privateTotals, assets, shardCount, values,
 * allocations (roundKey is the topic).
 */
async function shardedRecord(rpcUrl, registry, roundId, fetchFn) {
  const state = await view(rpcUrl, registry, callWithString("shardedRoundOf(string)", roundId), "shardedRoundOf", fetchFn);
  const count = state.word(0);
  const event = await roundEvent(rpcUrl, registry, SHARDED_ROUND_OPENED, roundId, state.word(4), fetchFn);
  if (count < 2n || count > BigInt(MAX_SHARDS) || event.word(3) !== count) {
    throw new RoundError("registry", `the registry reports round ${JSON.stringify(roundId)} of ${count} shards, ` +
      `opened with ${event.word(3)}`);
  }
  return { names: event.stringsAt(Number(event.word(2))), count: Number(count), block: state.word(4) };
}

/**
 * The registry's record of `roundId` as { roundId, timestamp, assets, shards: [keys], sharded, block,
 * development, source }: onchain.py's recorded_round and chain_keys. `shard`: the shard the customer's file names
 * (null for a round of one shard); the record is then that shard's, of a complete sharded round of M shards, and
 * `shards` has M entries, the keys of that shard at its place and null at every other (their records are not
 * asked for: the node learns the customer's shard, which names no customer). A margin registry's rounds carry the
 * key weights made from the terms it recorded (a sharded margin round's in its ShardedMarginTerms event). Rule.ROUND_ID or Rule.SHARD (InclusionError) where
 * recorded_round refuses (refusalOf); RoundError for an answer that is not a record, or a registry that cannot
 * hold the file's round.
 */
export async function roundFromRegistry(rpcUrl, registry, roundId, shard, allowInsecureSrs, fetchFn = globalThis.fetch) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry)) throw new RoundError("pin", `${registry} is not a contract address`);
  const margin = await takesMarginRounds(rpcUrl, registry, fetchFn);
  let r;
  try {
    r = await view(rpcUrl, registry, shard === null ? callWithString("inclusionContext(string)", roundId)
      : callWithString("shardInclusionContext(string,uint256)", roundId, shard),
    shard === null ? "inclusionContext" : "shardInclusionContext", fetchFn);
  } catch (e) {
    throw refusalOf(e.revertData, roundId, shard) ?? e;
  }
  const [x, y, gamma, block, time, assetCount, n, slots] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => r.word(i));
  const g2 = g2Of([8, 9, 10, 11].map((i) => r.word(i)));
  const tauG2 = g2Of([12, 13, 14, 15].map((i) => r.word(i)));
  if (n <= 0n || (n & (n - 1n)) !== 0n) throw new RoundError("registry", `the registry reports ${n} rows, not a power of two`);
  const logN = n.toString(2).length - 1;

  let names;
  let count = 1;
  let terms = null;
  if (shard === null) {
    // (Margin)RoundSubmitted's data: roundId, privateTotals, assets, publicInputs or terms, proofHash (roundKey
    // is the topic).
    const event = await roundEvent(rpcUrl, registry, margin ? MARGIN_ROUND_SUBMITTED : ROUND_SUBMITTED, roundId,
      block, fetchFn);
    names = event.stringsAt(Number(event.word(2)));
    terms = margin ? event.uintsAt(Number(event.word(3))) : null;
  } else {
    let opened;
    ({ names, count, block: opened } = await shardedRecord(rpcUrl, registry, roundId, fetchFn));
    if (!(shard < count)) throw new RoundError("registry", `the registry answered for shard ${shard} of a round of ${count}`);
    // A sharded margin round's terms: its ShardedMarginTerms event, in the block it was opened in (data: terms).
    if (margin) {
      const event = await roundEvent(rpcUrl, registry, SHARDED_MARGIN_TERMS, roundId, opened, fetchFn);
      terms = event.uintsAt(Number(event.word(0)));
    }
  }
  if (BigInt(names.length) !== assetCount) {
    throw new RoundError("registry", `the registry's record of round ${JSON.stringify(roundId)} names ${names.length} assets, not ${assetCount}`);
  }
  const assets = [];
  for (const name of names) {
    const info = await view(rpcUrl, registry, callWithString("assetOf(string)", name), "assetOf", fetchFn);
    assets.push({ name, decimals: Number(info.word(1)) });
  }
  // A registry takes one kind of round: a margin registry's rounds are checked with the weights it recorded (a
  // spot file's labels are then equity keys whose weights its records do not open to; a margin file's labels
  // are unknown to a spot round: the same rules refuse both, as in Python).
  const weights = margin ? recordedWeights(roundId, terms, assets.map((a) => a.decimals)) : null;
  const development = isDevelopmentKey({ insecure: false, tauG2 });
  if (development && !allowInsecureSrs) {
    throw new RoundError("pin", "the registry's verifier was made with an insecure development SRS (the page was not served with --allow-insecure-srs)");
  }
  const keys = { logN, slots: Number(slots), assetCount: Number(assetCount), commitment: [x, y], gamma,
    g1: G1.BASE, g2, tauG2, weights };
  const timestamp = new Date(Number(time) * 1000).toISOString().replace(".000Z", "Z");
  const shards = shard === null ? [keys] : Array.from({ length: count }, (_, i) => (i === shard ? keys : null));
  return { roundId, timestamp, assets, shards, sharded: shard !== null, block, development, source: "registry" };
}

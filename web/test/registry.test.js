// The registry's record as the page reads it: a margin round's key weights from its MarginRoundSubmitted event's
// terms (onchain.py's _recorded_weights), the one function that knows that layout; the registry's refusals of a
// sharded round's file (recorded_round's); what a hostile node's answers get. Against anvil: tests/test_web.py
// (web/tools/chain_verdicts.mjs, and the page in Chromium).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bn254 } from "@noble/curves/bn254";
import { bytesToHex, keccak256, utf8 } from "../src/field.js";
import { InclusionError, Rule } from "../src/inclusion.js";
import { roundFromJson, statementInputs } from "../src/round.js";
import { callWithString, recordedWeights, refusalOf, roundFromRegistry } from "../src/registry.js";
import { RoundError } from "../src/round.js";

const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const read = (path) => readFileSync(VECTORS + path, "utf8");
const PINS = JSON.parse(read("web/pins.json"));
const CIRCUITS = JSON.parse(read("web/circuits.json"));

// The terms as submitMarginRound takes and records them: price << 16 | ratio per asset (margin.py's packed).
const packed = (margin) => margin.prices.map((p, j) => (p << 16n) | margin.ratios[j]);

test("the weights made from a margin round's recorded terms are the round file's, signs restored", () => {
  const path = "web/margin_round.json";
  const round = roundFromJson(read(path), { vkDigest: PINS[path], circuit: CIRCUITS[path] }, true);
  const decimals = round.assets.map((a) => a.decimals);
  const weights = recordedWeights(round.roundId, packed(round.margin), decimals);
  assert.deepEqual(weights, round.shards[0].weights);
  assert.ok(weights.some((w) => w < 0n)); // debt and surplus weights are negative
  const inputs = JSON.parse(read(path)).public_inputs.map(BigInt); // the proof's, which the registry made
  assert.deepEqual(statementInputs(inputs[0], [], true, weights, null).filter((_, i) => i >= 2 && i % 2 === 0),
    inputs.filter((_, i) => i >= 2 && i % 2 === 0));
});

test("a record whose terms are not one per asset, or not terms a registry makes, is refused, naming the round", () => {
  const good = [(65000n * 10n ** 8n << 16n) | 9000n, (1n << 16n) | 10000n];
  for (const [terms, words] of [
    [good.slice(1), /margin round "r1" holds 1 terms for 2 assets/],
    [[...good, good[0]], /margin round "r1" holds 3 terms for 2 assets/],
    [[good[0], 10000n], /margin round "r1" holds terms no registry makes/], // price 0
    [[good[0], (1n << 16n) | 10001n], /holds terms no registry makes/], // a ratio past 10,000 bps
    [[good[0], 1n << 80n], /holds terms no registry makes/], // a price of 2^64
  ]) {
    assert.throws(() => recordedWeights("r1", terms, [8, 6]), (e) => e instanceof RoundError && words.test(e.message));
  }
  assert.equal(recordedWeights("r1", good, [8, 6]).length, 4 + 2 * 2);
});

// The registry's reverts for a file it holds no record for (onchain.py's recorded_round): the round's state, each
// with recorded_round's rule and words. On anvil, with the Python chain paths: tests/test_web.py.
const revert = (signature, ...args) => "0x" + bytesToHex(keccak256(utf8(signature)).slice(0, 4)) +
  args.map((a) => BigInt(a).toString(16).padStart(64, "0")).join("");

test("a revert of the shard's view is recorded_round's refusal: ROUND_ID or SHARD, in its words", () => {
  const cases = [
    [revert("UnknownRound()"), null, Rule.ROUND_ID, 'the registry holds no round "r1"'],
    [revert("UnknownRound()"), 2, Rule.ROUND_ID, 'the registry holds no round "r1"'],
    [revert("ShardedRound(uint256)", 3), null, Rule.SHARD, 'the registry holds round "r1" as a sharded round of 3 shards; the file names no shard'],
    [revert("NotSharded()"), 0, Rule.SHARD, 'the file names shard 0; the registry holds round "r1" as a round of one shard'],
    [revert("BadShard(uint256,uint256)", 3, 3), 3, Rule.SHARD, 'the file names shard 3; the registry\'s round "r1" has no such shard (BadShard(3, 3))'],
    [revert("RoundNotComplete(uint256,uint256)", 1, 3), 1, Rule.ROUND_ID, 'the registry\'s round "r1" is not complete (RoundNotComplete(1, 3)): not every shard has verified'],
  ];
  for (const [data, shard, rule, words] of cases) {
    const e = refusalOf(data, "r1", shard);
    assert.ok(e instanceof InclusionError, data);
    assert.equal(e.rule, rule);
    assert.equal(e.message, words);
  }
});

test("any other revert, or one with other arguments than its error's, is no refusal of the file", () => {
  for (const data of [revert("BadInput(string)"), revert("ShardedRound(uint256)"), revert("BadShard(uint256,uint256)", 3),
    revert("UnknownRound()", 1), "0x", "0x45f9aeed00", null, undefined, 7]) {
    assert.equal(refusalOf(data, "r1", 0), null, String(data));
  }
});

/** A node that answers eth_call by the called function's selector (`answers`), and records what it is asked. */
function scriptedNode(answers) {
  const asked = [];
  const fetchFn = async (_, { body }) => {
    const request = JSON.parse(body);
    asked.push(request);
    const answer = request.method === "eth_call" ? answers[request.params[0].data.slice(0, 10)] : answers.logs;
    return { json: async () => (answer?.error ? { jsonrpc: "2.0", id: 1, error: answer.error } : { jsonrpc: "2.0", id: 1, result: answer }) };
  };
  return { asked, fetchFn };
}

const REGISTRY = "0x" + "11".repeat(20);
const selectorOf = (signature) => "0x" + bytesToHex(keccak256(utf8(signature)).slice(0, 4));
const words = (...values) => "0x" + values.map((v) => BigInt(v).toString(16).padStart(64, "0")).join("");

test("a margin registry is asked for a shard's record like any registry: a round of one shard there is rule SHARD", async () => {
  const node = scriptedNode({ [selectorOf("margin()")]: words(1),
    [selectorOf("shardInclusionContext(string,uint256)")]: { error: { code: 3, message: "execution reverted", data: revert("NotSharded()") } } });
  await assert.rejects(roundFromRegistry("http://127.0.0.1:1", REGISTRY, "r1", 0, true, node.fetchFn), (e) =>
    e instanceof InclusionError && e.rule === Rule.SHARD && /as a round of one shard/.test(e.message));
  assert.deepEqual(node.asked.map((r) => r.params[0].data),
    [selectorOf("margin()"), callWithString("shardInclusionContext(string,uint256)", "r1", 0)]);
});

test("the shard's record asked for is the file's shard of the file's round; a node's answer of another shard count is refused", async () => {
  // shardInclusionContext: (x, y, gamma, block, time, K), n, S, G2 and [tau]_2 (the real generator; tau = 1 for the test).
  const g2 = bn254.G2.ProjectivePoint.BASE.toAffine();
  const g2Words = [g2.x.c1, g2.x.c0, g2.y.c1, g2.y.c0];
  const context = words(1, 2, 3, 7, 1700000000, 1, 256, 2, ...g2Words, ...g2Words);
  const state = words(3, 3, 0, 1, 6, 0xc0, 0); // 3 shards, 3 verified, public, complete, opened in block 6
  // ShardedRoundOpened's data: roundId, privateTotals, assets, shardCount, values, allocations (round "r1", ["BTC"]).
  const text = (t) => bytesToHex(utf8(t)).padEnd(64, "0");
  const opened = (count) => words(0xc0, 0, 0x100, count, 0x180, 0x1a0, 2) + text("r1") + words(1, 0x20, 3).slice(2) +
    text("BTC") + words(0, 0).slice(2);
  for (const [count, ok] of [[3, true], [4, false]]) {
    const node = scriptedNode({ [selectorOf("margin()")]: words(0), [selectorOf("shardInclusionContext(string,uint256)")]: context,
      [selectorOf("shardedRoundOf(string)")]: state, [selectorOf("assetOf(string)")]: words(0, 8), logs: [{ data: opened(count) }] });
    const reading = roundFromRegistry("http://127.0.0.1:1", REGISTRY, "r1", 2, true, node.fetchFn);
    if (ok) {
      const round = await reading;
      assert.equal(round.sharded, true);
      assert.deepEqual(round.shards.map((k) => k?.gamma ?? null), [null, null, 3n]);
      assert.deepEqual(round.assets, [{ name: "BTC", decimals: 8 }]);
    } else {
      await assert.rejects(reading, (e) => e instanceof RoundError && /of 3 shards, opened with 4/.test(e.message));
    }
    const shardCall = node.asked.find((r) => r.params[0]?.data?.startsWith(selectorOf("shardInclusionContext(string,uint256)")));
    assert.equal(shardCall.params[0].data, callWithString("shardInclusionContext(string,uint256)", "r1", 2));
    assert.equal(shardCall.params[0].data.slice(10, 138), words(0x40, 2).slice(2)); // the string's offset, then shard 2
  }
});

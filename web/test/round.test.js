// The round's proof verified in the page's module, from its circuit's description: honest rounds pass, and a
// round.json or a description the exchange altered is refused, as verifier/plonk.py and audit.verify_round refuse it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RoundError, roundFromJson } from "../src/round.js";

const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const read = (path) => readFileSync(VECTORS + path, "utf8");
const PINS = JSON.parse(read("web/pins.json"));
const CIRCUITS = JSON.parse(read("web/circuits.json"));
const pinOf = (path) => ({ vkDigest: PINS[path], circuit: CIRCUITS[path] });

function refusal(text, pin, allow = true) {
  try {
    roundFromJson(text, pin, allow);
  } catch (e) {
    if (e instanceof RoundError) return [e.rule, e.message];
    return ["MALFORMED", e.message];
  }
  return ["VALID", ""];
}

for (const path of ["inclusion/round.json", "web/margin_round.json", "web/private_round.json", "web/sharded_round.json",
  "web/sharded_private_round.json"]) {
  test(`${path}: the proof verifies in the browser's module`, () => {
    const round = roundFromJson(read(path), pinOf(path), true);
    assert.equal(typeof round.shards[0].gamma, "bigint");
    assert.match(refusal(read(path), { vkDigest: PINS[path] })[1], /without its circuit's description/);
  });
}

const spot = read("inclusion/round.json");
const edits = {
  // A statement other than the proof's: the public inputs rebuilt from it differ.
  total_raised: [(o) => { o.totals.BTC = String(BigInt(o.totals.BTC) + 1n); }, "proof", "public inputs"],
  total_and_public_input_raised: [(o) => {
    o.totals.BTC = String(BigInt(o.totals.BTC) + 1n);
    o.public_inputs[1] = o.totals.BTC;
  }, "proof", "quotient identity"],
  another_time: [(o) => { o.timestamp = "2020-01-01T00:00:00Z"; }, "proof", "public inputs"],
  asset_renamed: [(o) => { o.assets[0].name = "WBTC"; o.totals.WBTC = o.totals.BTC; delete o.totals.BTC; }, "proof", "public inputs"],
  another_inclusion_commitment: [(o) => {
    o.inclusion_commitment = "0x" + "00".repeat(31) + "01" + "00".repeat(31) + "02";
  }, "proof", "inclusion commitment"],
  an_evaluation_changed: [(o) => {
    const at = o.proof.length - 64 * 2 - 64 - 1;
    o.proof = o.proof.slice(0, at) + (o.proof[at] === "0" ? "1" : "0") + o.proof.slice(at + 1);
  }, "proof", ""],
  a_proof_byte_short: [(o) => { o.proof = o.proof.slice(0, -2); }, "proof", "bytes"],
  slots_stated_otherwise: [(o) => { o.slots = 2; }, "proof", "not this round's shape"],
  an_unexpected_field: [(o) => { o.note = "trust me"; }, "MALFORMED", "unexpected field"],
  mode_stated_otherwise: [(o) => { o.mode = "private"; o.reserves = o.totals; delete o.totals; }, "proof", "shape"],
};
for (const [name, [edit, rule, reason]] of Object.entries(edits)) {
  test(`a round.json with ${name.replaceAll("_", " ")} is refused (${rule})`, () => {
    const obj = JSON.parse(spot);
    edit(obj);
    const [got, message] = refusal(JSON.stringify(obj), pinOf("inclusion/round.json"));
    assert.equal(got, rule, message);
    assert.match(message, new RegExp(reason));
  });
}

test("a circuit description other than the key's is refused, and so is another key or a development key", () => {
  const altered = CIRCUITS["inclusion/round.json"].replace("max_degree 4", "max_degree 5");
  assert.deepEqual(refusal(spot, { vkDigest: PINS["inclusion/round.json"], circuit: altered })[0], "proof");
  assert.match(refusal(spot, { vkDigest: PINS["inclusion/round.json"], circuit: CIRCUITS["web/margin_round.json"] })[1],
    /not the verifying key's/);
  assert.deepEqual(refusal(spot, { vkDigest: PINS["web/margin_round.json"] })[0], "pin");
  assert.match(refusal(spot, pinOf("inclusion/round.json"), false)[1], /development SRS/);
  assert.deepEqual(refusal(spot, {})[0], "pin");
});

test("a margin round.json with other prices, ratios or quote is refused", () => {
  const margin = read("web/margin_round.json");
  const pin = pinOf("web/margin_round.json");
  const cases = [
    [(o) => { o.prices.BTC = "0"; }, "MALFORMED", /price must be positive/],
    [(o) => { o.quote.name = "EUR"; }, "MALFORMED", /quote must be/],
    [(o) => { o.collateral_ratios_bps.BTC = 10001; }, "MALFORMED", /basis points/],
    [(o) => { o.prices.BTC = String(BigInt(o.prices.BTC) * 2n); }, "proof", /public inputs/],
    [(o) => { o.collateral_ratios_bps.ETH = 10000; }, "proof", /public inputs/],
    [(o) => { o.debts.USDT = "0"; }, "proof", /public inputs/],
    [(o) => { delete o.debts; }, "MALFORMED", /missing field/],
  ];
  for (const [edit, rule, reason] of cases) {
    const obj = JSON.parse(margin);
    edit(obj);
    const [got, message] = refusal(JSON.stringify(obj), pin);
    assert.equal(got, rule, message);
    assert.match(message, reason);
  }
});

// Sharded round files a cheating exchange could write (tests/vectors/web/sharded_forged_rounds.json, the table
// tests/test_web.py drives the Python verifier with): each refused with the same words.
for (const c of JSON.parse(read("web/sharded_forged_rounds.json"))) {
  test(`a sharded round.json with ${c.name.replaceAll("_", " ")} is refused (${c.verdict})`, () => {
    const path = c.source === "public" ? "web/sharded_round.json" : "web/sharded_private_round.json";
    const [got, message] = refusal(JSON.stringify(c.round), pinOf(path));
    assert.equal(got, c.verdict, message);
    assert.match(message, new RegExp(c.reason));
  });
}

test("the honest sharded rounds verify every shard, under the one pinned key", () => {
  for (const path of ["web/sharded_round.json", "web/sharded_private_round.json"]) {
    assert.deepEqual(refusal(read(path), pinOf(path)), ["VALID", ""]);
    assert.equal(refusal(read(path), pinOf("inclusion/round.json"))[0], "pin");
  }
});

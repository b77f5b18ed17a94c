// The registry's record as the page reads it: a margin round's key weights from its RoundSubmitted event's public
// inputs (onchain.py's _recorded_weights), the one function that knows that layout. Against anvil:
// tests/test_web.py (web/tools/chain_verdicts.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { R_MODULUS } from "../src/field.js";
import { roundFromJson, statementInputs } from "../src/round.js";
import { recordedWeights } from "../src/registry.js";
import { RoundError } from "../src/round.js";

const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const read = (path) => readFileSync(VECTORS + path, "utf8");
const PINS = JSON.parse(read("web/pins.json"));
const CIRCUITS = JSON.parse(read("web/circuits.json"));

test("the weights recorded with a margin round are the round file's, signs restored", () => {
  const path = "web/margin_round.json";
  const round = roundFromJson(read(path), { vkDigest: PINS[path], circuit: CIRCUITS[path] }, true);
  const inputs = JSON.parse(read(path)).public_inputs.map(BigInt); // what submitMarginRound recorded
  const weights = recordedWeights(round.roundId, inputs, round.assets.length);
  assert.deepEqual(weights, round.shards[0].weights);
  assert.ok(weights.some((w) => w < 0n)); // debt and surplus weights are negative
  assert.deepEqual(statementInputs(inputs[0], [], true, weights, null).filter((_, i) => i >= 2 && i % 2 === 0),
    weights.map((w) => ((w % R_MODULUS) + R_MODULUS) % R_MODULUS));
});

test("a record without every key's weight is refused, naming the round", () => {
  for (const inputs of [[1n, 2n, 3n], [], new Array(1 + 2 * (4 + 2 * 4) + 2).fill(0n)]) {
    assert.throws(() => recordedWeights("r1", inputs, 4), (e) => e instanceof RoundError &&
      /margin round "r1" holds no weights of its 4 assets/.test(e.message));
  }
});

// Files an exchange could write to crash a check (tests/test_inclusion.py's hostile files): one refusal each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseJson, toJsonText } from "../src/json.js";
import { roundFromJson } from "../src/round.js";
import { verdictOf } from "../src/verdict.js";

const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const read = (path) => readFileSync(VECTORS + path, "utf8");
const PINS = JSON.parse(read("web/pins.json"));
const CIRCUITS = JSON.parse(read("web/circuits.json"));
const round = roundFromJson(read("inclusion/round.json"),
  { vkDigest: PINS["inclusion/round.json"], circuit: CIRCUITS["inclusion/round.json"] }, true);
const honest = parseJson(read("inclusion/cases.json"), "cases").find((c) => c.get("name") === "honest_one_record");
const text = toJsonText(honest.get("file"));
const row = honest.get("file").get("records")[0].get("row");

const hostile = {
  "a row of 5000 digits": text.replace(`"row":${row}`, `"row":${"9".repeat(5000)}`),
  "units of 5000 digits": text.replace('"units":"0"', `"units":"${"9".repeat(5000)}"`),
  "arrays nested 100,000 deep": "[".repeat(100000) + "]".repeat(100000),
  "an object nested 65 deep": '{"a":'.repeat(65) + "1" + "}".repeat(65),
  "a lone surrogate in an asset name": text.replace('"BTC"', '"\\ud800"'),
  "NaN for a row": text.replace(`"row":${row}`, '"row":NaN'),
  "a row of 8.0": text.replace(`"row":${row}`, `"row":${row}.0`),
  "a key twice": text.replace('{"assets"', '{"salt":"0x00","assets"'),
  "a truncated file": text.slice(0, 100),
};

for (const [name, file] of Object.entries(hostile)) {
  test(`${name}: refused as MALFORMED, in one line`, () => {
    const got = verdictOf(file, round, "alice");
    assert.equal(got.valid ? "VALID" : got.rule, "MALFORMED", got.reason);
    assert.ok(!got.reason.includes("\n") && got.reason.length < 300, got.reason);
  });
}

test("the honest twin of every hostile file is valid", () => {
  assert.equal(verdictOf(text, round, "alice").valid, true);
});

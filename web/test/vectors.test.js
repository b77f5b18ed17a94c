// Every vector of the Python tables, checked by the page's module: the same verdict (Rule) as verifier/inclusion.py
// and audit.py's shard_of (a sharded round's files against their shards).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseJson, toJsonText } from "../src/json.js";
import { roundFromJson } from "../src/round.js";
import { verdictOf } from "../src/verdict.js";
import { Rule } from "../src/inclusion.js";

const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const read = (path) => readFileSync(VECTORS + path, "utf8");
const PINS = JSON.parse(read("web/pins.json"));
const CIRCUITS = JSON.parse(read("web/circuits.json"));

const tables = [
  ["spot", "inclusion/round.json", "inclusion/cases.json"],
  ["margin", "web/margin_round.json", "web/margin_cases.json"],
  ["private", "web/private_round.json", "web/private_cases.json"],
  ["sharded", "web/sharded_round.json", "web/sharded_cases.json"],
];

for (const [kind, roundPath, casesPath] of tables) {
  const round = roundFromJson(read(roundPath), { vkDigest: PINS[roundPath], circuit: CIRCUITS[roundPath] }, true);
  const cases = parseJson(read(casesPath), casesPath);
  for (const c of cases) {
    test(`${kind}: ${c.get("name")} -> ${c.get("verdict")}`, () => {
      const got = verdictOf(toJsonText(c.get("file")), round, c.get("user_id"));
      assert.equal(got.valid ? "VALID" : got.rule, c.get("verdict"), got.reason);
    });
  }
}

test("the tables hold every rule a file can break, and honest twins", () => {
  const verdicts = new Set(tables.flatMap(([, , p]) => parseJson(read(p), p).map((c) => c.get("verdict"))));
  const fileRules = Object.keys(Rule).filter((r) => !["VALID", "ROUND_RECORD", "RECORD_HASH", "NO_RECORDS"].includes(r));
  for (const r of [...fileRules, "VALID", "MALFORMED", "NO_RECORDS"]) assert.ok(verdicts.has(r), r);
});

test("balances are the file's units under the round's names", () => {
  const round = roundFromJson(read("inclusion/round.json"),
    { vkDigest: PINS["inclusion/round.json"], circuit: CIRCUITS["inclusion/round.json"] }, true);
  const alice = parseJson(read("inclusion/cases.json"), "cases").find((c) => c.get("name") === "honest_one_record");
  const got = verdictOf(toJsonText(alice.get("file")), round, "alice");
  assert.equal(got.balances.get("BTC"), 50000000n);
  assert.equal(got.balances.get("ETH"), 2000000000n);
  assert.equal(got.balances.get("RAW"), 0n);
});

test("a sharded round's file names its shard, and the verdict says which", () => {
  const round = roundFromJson(read("web/sharded_round.json"),
    { vkDigest: PINS["web/sharded_round.json"], circuit: CIRCUITS["web/sharded_round.json"] }, true);
  assert.equal(round.sharded, true);
  assert.equal(round.shards.length, 3);
  assert.equal(new Set(round.shards.map((k) => k.commitment[0])).size, 3); // a commitment per shard
  for (const c of parseJson(read("web/sharded_cases.json"), "cases").filter((c) => c.get("verdict") === "VALID")) {
    const got = verdictOf(toJsonText(c.get("file")), round, c.get("user_id"));
    assert.equal(got.shard, Number(c.get("file").get("shard")));
  }
});

test("a sharded round's file against a round of one shard, and a round of one's against a sharded round: SHARD", () => {
  const sharded = roundFromJson(read("web/sharded_round.json"),
    { vkDigest: PINS["web/sharded_round.json"], circuit: CIRCUITS["web/sharded_round.json"] }, true);
  const spot = parseJson(read("inclusion/cases.json"), "cases").find((c) => c.get("name") === "honest_one_record");
  const got = verdictOf(toJsonText(spot.get("file")), { ...sharded, roundId: spot.get("file").get("round_id") }, "alice");
  assert.equal(got.rule, "SHARD", got.reason);
  assert.match(got.reason, /names no shard; round .* has shards 0 to 2/);
});

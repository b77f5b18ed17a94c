// The page module's verdict on every case of a table, against a registry through a JSON-RPC endpoint:
//   node chain_verdicts.mjs RPC_URL REGISTRY CASES.json   -> {"case name": "VALID" | rule name, ...} on stdout
//   (CASES.json "-": the table on stdin)
// (tests/test_web.py runs it against anvil, beside the Python chain path.)
import { readFileSync } from "node:fs";
import { parseJson, toJsonText } from "../src/json.js";
import { parseInclusionFile } from "../src/formats.js";
import { roundFromRegistry } from "../src/registry.js";
import { verdictOf } from "../src/verdict.js";
import { InclusionError } from "../src/inclusion.js";
import { FormatError } from "../src/json.js";
import { RoundError } from "../src/round.js";

const [rpcUrl, registry, casesPath] = process.argv.slice(2);
const out = {};
for (const c of parseJson(readFileSync(casesPath === "-" ? 0 : casesPath, "utf8"), casesPath)) {
  const text = toJsonText(c.get("file"));
  let verdict;
  try {
    const file = parseInclusionFile(text);
    const round = await roundFromRegistry(rpcUrl, registry, file.roundId, file.shard, true);
    const v = verdictOf(text, round, c.get("user_id"));
    verdict = v.valid ? "VALID" : v.rule;
  } catch (e) {
    if (e instanceof InclusionError) verdict = e.ruleName;
    else if (e instanceof FormatError) verdict = "MALFORMED";
    else if (e instanceof RoundError) verdict = e.rule; // the registry's refusal to answer ("registry", "pin")
    else throw e;
  }
  out[c.get("name")] = verdict;
}
console.log(JSON.stringify(out));

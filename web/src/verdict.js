// The page's verdict on one inclusion file: VALID with the balances, or INVALID with the rule and the reason.
import { FormatError } from "./json.js";
import { parseInclusionFile } from "./formats.js";
import { InclusionError } from "./inclusion.js";
import { DEBT_LABEL, SURPLUS_LABEL, checkIdentity, checkInclusion, shardOf } from "./customer.js";
import { RoundError } from "./round.js";

/**
 * `round`: what roundFromJson (a round file) or roundFromRegistry (the chain) returned.
 * Returns { valid: true, balances: Map label -> units, shard } or { valid: false, rule, reason }, rule the name of the
 * refusing Rule, "MALFORMED" for a file that does not parse (as the Python table names them).
 */
export function verdictOf(fileText, round, userId) {
  let file = null;
  try {
    file = parseInclusionFile(fileText);
    // As verify-inclusion: the file's round and id, then its shard (one of the round's), then the records against
    // that shard's keys.
    checkIdentity(file, round.roundId, userId);
    const shard = shardOf(round, file);
    const balances = checkInclusion(file, round.shards[shard], round.roundId, round.assets.map((a) => a.name), userId);
    return { valid: true, balances, shard };
  } catch (e) {
    if (e instanceof FormatError) return { valid: false, rule: "MALFORMED", reason: e.message };
    if (e instanceof InclusionError) return { valid: false, rule: e.ruleName, reason: e.message + kindHint(file, round) };
    if (e instanceof RoundError) return { valid: false, rule: e.rule, reason: e.message };
    throw e;
  }
}

/** Where a file's labels show that it is a margin round's (debt or surplus slots) and the round is a spot one. */
function kindHint(file, round) {
  const marginLabels = file?.records.some((r) => r.slots.some(([label]) =>
    label !== null && (label.endsWith(DEBT_LABEL) || label.startsWith(SURPLUS_LABEL))));
  if (!marginLabels || round.shards.some((k) => k?.weights)) return ""; // k null: a shard the registry was not asked for
  const where = round.source === "registry" ? "this registry takes spot rounds" : "this round is a spot round";
  return ` (the file is a margin round's: it holds debt or surplus slots, and ${where})`;
}

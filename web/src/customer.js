// One customer's check of their file against a round's keys: zksolvency/audit.py's check_inclusion, the same order.
import { accountKey, recordHash, userPrefix } from "./hashing.js";
import { FIRST_ASSET_KEY, InclusionError, Rule, checkRecords, isMarginAccount, slotWeights } from "./inclusion.js";

export const DEBT_LABEL = ":debt";
const BASIS_POINTS = 10000n;
export const SURPLUS_LABEL = "surplus:";

/** Slot label -> index (spot: asset 1..K) or key (margin: "BTC", "BTC:debt", "surplus:1".."surplus:3"). */
export function slotLabels(assetNames, margin) {
  const labels = new Map();
  if (!margin) {
    assetNames.forEach((name, j) => labels.set(name, j + 1));
    return labels;
  }
  for (let t = 1; t < FIRST_ASSET_KEY; t++) labels.set(`${SURPLUS_LABEL}${t}`, t);
  assetNames.forEach((name, j) => {
    for (const [label, key] of [[name, FIRST_ASSET_KEY + 2 * j], [name + DEBT_LABEL, FIRST_ASSET_KEY + 2 * j + 1]]) {
      if (labels.has(label)) {
        throw new InclusionError(Rule.ASSET_LIST, `the asset name ${JSON.stringify(label)} is also a slot label of the round`);
      }
      labels.set(label, key);
    }
  });
  return labels;
}

/** The label a slot key carries (null for an empty slot). */
export function labelOf(key, assetNames, margin) {
  if (key === 0) return null;
  if (!margin) return assetNames[key - 1];
  if (key < FIRST_ASSET_KEY) return `${SURPLUS_LABEL}${key}`;
  const j = Math.floor((key - FIRST_ASSET_KEY) / 2);
  return assetNames[j] + ((key - FIRST_ASSET_KEY) % 2 ? DEBT_LABEL : "");
}

/** The file's records as the integers the rules check: names as indices, hashes recomputed (audit.records_of). */
export function recordsOf(file, assetNames, keys) {
  const margin = Boolean(keys.weights);
  const index = slotLabels(assetNames, margin);
  const unknown = margin ? FIRST_ASSET_KEY + 2 * assetNames.length : assetNames.length + 1;
  const prefix = userPrefix(file.roundId, file.userId, file.salt);
  const count = file.records.length;
  let out = file.records.map((r, k) => {
    const slots = r.slots.map(([name, units]) => [name === null ? 0 : (index.get(name) ?? unknown), units]);
    return { row: r.row, hash: recordHash(prefix, k, count, slots), slots, proof: r.proof, account: 0n, weights: null };
  });
  if (margin) {
    const indebted = isMarginAccount(out);
    const account = indebted ? accountKey(prefix) : 0n;
    out = out.map((r) => ({ ...r, account, weights: slotWeights(keys, r.slots, indebted) }));
  }
  return out;
}

/** Rules 16 and 17: the file is for this round and this customer's id. */
export function checkIdentity(file, roundId, userId) {
  if (file.roundId !== roundId) {
    throw new InclusionError(Rule.ROUND_ID, `the inclusion file is for round ${JSON.stringify(file.roundId)}, not ${JSON.stringify(roundId)}`);
  }
  if (file.userId !== userId) {
    throw new InclusionError(Rule.USER_ID, `the inclusion file is for user id ${JSON.stringify(file.userId)}, not ${JSON.stringify(userId)}`);
  }
}

/**
 * audit.py's shard_of: the index of the shard whose keys the file's records open against. A round of one shard
 * takes only a file naming none; a sharded round only a file naming one of its shards (Rule.SHARD otherwise).
 */
export function shardOf(round, file) {
  const count = round.shards.length;
  if (!round.sharded) {
    if (file.shard !== null) {
      throw new InclusionError(Rule.SHARD, `the file names shard ${file.shard}; round ${JSON.stringify(round.roundId)} has no shards`);
    }
    return 0;
  }
  if (file.shard === null || !(file.shard >= 0 && file.shard < count)) {
    const named = file.shard === null ? "no shard" : `shard ${file.shard}`;
    throw new InclusionError(Rule.SHARD, `the file names ${named}; round ${JSON.stringify(round.roundId)} has shards 0 to ${count - 1}`);
  }
  return file.shard;
}

/** Every label's units in checked records (each asset in at most one slot); every asset named, 0 if absent. */
export function balancesOf(records, assetNames, margin) {
  const balances = new Map(assetNames.map((name) => [name, 0n]));
  for (const r of records) {
    for (const [key, units] of r.slots) {
      if (key) {
        const label = labelOf(key, assetNames, margin);
        balances.set(label, (balances.get(label) ?? 0n) + units);
      }
    }
  }
  return balances;
}

/**
 * Raise InclusionError unless the customer's file proves their records in the round; return their balances.
 * `file` from parseInclusionFile; `keys` from the round (roundKeys or the registry); `userId` the customer's own.
 */
export function checkInclusion(file, keys, roundId, assetNames, userId) {
  checkIdentity(file, roundId, userId);
  if (file.assets.length !== assetNames.length || file.assets.some((a, i) => a !== assetNames[i]) ||
      assetNames.length !== keys.assetCount) {
    throw new InclusionError(Rule.ASSET_LIST, `the file lists ${file.assets.length} asset names, not the round's ` +
      `${keys.assetCount} in its order`);
  }
  const records = recordsOf(file, assetNames, keys);
  checkRecords(keys, records);
  return balancesOf(records, assetNames, Boolean(keys.weights));
}

/**
 * A checked margin account (audit.py's account_summary): equity and debt per asset, and its haircut collateral
 * and debt in units of 10^-8 USD (collateral rounded down, debt up; the check itself was exact, rule 20), from the
 * round's key weights (round.json's terms, or the registry's record of them).
 */
export function accountSummary(balances, assets, weights) {
  const scale = 10n ** BigInt(Math.max(...assets.map((a) => a.decimals))) * BASIS_POINTS;
  let collateral = 0n;
  let debt = 0n;
  const equity = new Map();
  const debts = new Map();
  assets.forEach((a, j) => {
    equity.set(a.name, balances.get(a.name) ?? 0n);
    debts.set(a.name, balances.get(a.name + DEBT_LABEL) ?? 0n);
    collateral += equity.get(a.name) * weights[FIRST_ASSET_KEY + 2 * j];
    debt += debts.get(a.name) * -weights[FIRST_ASSET_KEY + 2 * j + 1];
  });
  const floorDiv = (x, d) => (x >= 0n ? x / d : -((-x + d - 1n) / d));
  return { equity, debts, collateralUsdUnits: floorDiv(collateral, scale), debtUsdUnits: -floorDiv(-debt, scale),
    covered: collateral >= debt };
}

// A user's inclusion check: the canonical form of their records and KZG openings of the round's inclusion column.
// The same rules, codes and order as verifier/inclusion.py (whose docstring argues why they bind); the Node and
// Chromium tests drive both with one table of vectors (tests/vectors/).
import { bn254 } from "@noble/curves/bn254";
import {
  CURVE_B, Q_MODULUS, R_MODULUS, bytesToBigInt, concat, domainGenerator, keccak256, mod, powMod, uintBytes,
} from "./field.js";

export const UNITS_BOUND = 1n << 64n; // balances are range-checked below 2^64 units
export const RECORD_ROWS = 2n; // a record of S slots spans two rows
export const SURPLUS_WORDS = 3;
export const SURPLUS_WORD_BITS = 64n;
export const FIRST_ASSET_KEY = 1 + SURPLUS_WORDS; // margin keys: 0 empty, 1..3 surplus words, then 2j+2, 2j+3

/** Why a user's records are refused, in the order the rules are checked (verifier/inclusion.py's Rule). */
export const Rule = Object.freeze({
  VALID: 0, NO_RECORDS: 1, SHAPE: 2, ROW_RANGE: 3, ODD_ROW: 4, DUPLICATE_ROW: 5, UNKNOWN_ASSET: 6, UNITS_RANGE: 7,
  EMPTY_SLOT_UNITS: 8, ZERO_UNITS: 9, EMPTY_NOT_LAST: 10, ASSET_ORDER: 11, EMPTY_RECORD: 12, RECORD_HASH: 13,
  PROOF_POINT: 14, OPENING: 15, ROUND_ID: 16, USER_ID: 17, ASSET_LIST: 18, ROUND_RECORD: 19, SURPLUS: 20, SHARD: 21,
});
export const ruleName = (code) => Object.keys(Rule).find((k) => Rule[k] === code);

export class InclusionError extends Error {
  constructor(rule, message) {
    super(message);
    this.rule = rule;
    this.ruleName = ruleName(rule);
  }
}

/**
 * What records are checked against (verifier/inclusion.py's InclusionKeys):
 * { logN, slots, assetCount, commitment: [x, y], gamma, g1, g2, tauG2 (noble points), weights: BigInt[] or null }.
 */
export const keyCount = (keys) => (keys.weights ? keys.weights.length : keys.assetCount + 1);

/** sum_j gamma^j values[j] mod r. */
export function combine(values, gamma) {
  let acc = 0n;
  for (let i = values.length - 1; i >= 0; i--) acc = (acc * gamma + values[i]) % R_MODULUS;
  return acc;
}

/** The inclusion column's value at the record's row: h, (margin: account twice), then every slot. */
export function openedValue(record, gamma) {
  if (!record.weights) return combine([record.hash, ...record.slots.flat().map(BigInt)], gamma);
  const values = [record.hash, record.account, record.account];
  record.slots.forEach(([key, units], k) => values.push(BigInt(key), units, mod(record.weights[k])));
  return combine(values, gamma);
}

const isDebtKey = (key) => key >= FIRST_ASSET_KEY && (key - FIRST_ASSET_KEY) % 2 === 1;
const isEquityKey = (key) => key >= FIRST_ASSET_KEY && (key - FIRST_ASSET_KEY) % 2 === 0;

/** An account with debts: some slot holds a debt key. */
export const isMarginAccount = (records) => records.some((r) => r.slots.some(([key]) => isDebtKey(Number(key))));

/** Each slot's weight as its owner expects it: its key's, but 0 for the equity of an account without debts. */
export function slotWeights(keys, slots, marginAccount) {
  return slots.map(([key]) => {
    const k = Number(key);
    const w = k >= 0 && k < keys.weights.length ? keys.weights[k] : 0n;
    return marginAccount || !isEquityKey(k) ? w : 0n;
  });
}

/** Margin rounds (rule 20): the surplus words are exactly sum units * weight over the account's other slots. */
export function checkSurplus(keys, records) {
  if (!keys.weights) return;
  const margin = isMarginAccount(records);
  let words = 0n;
  let value = 0n;
  for (const r of records) {
    for (const [key, units] of r.slots) {
      const k = Number(key);
      if (k >= 1 && k < FIRST_ASSET_KEY) {
        if (!margin) throw new InclusionError(Rule.SURPLUS, "surplus words in an account without debts");
        words += units << (SURPLUS_WORD_BITS * BigInt(k - 1));
      } else if (k >= FIRST_ASSET_KEY) {
        value += units * keys.weights[k];
      }
    }
  }
  if (margin && words !== value) {
    throw new InclusionError(Rule.SURPLUS, "the surplus words are not this account's haircut collateral less its " +
      "debt at the round's prices");
  }
}

/** Rules 1 and 2: there are records, each of S slots. */
export function checkShape(keys, records) {
  if (records.length === 0) throw new InclusionError(Rule.NO_RECORDS, "no records");
  records.forEach((r, i) => {
    if (r.slots.length !== keys.slots) {
      throw new InclusionError(Rule.SHAPE, `record ${i}: ${r.slots.length} slots, the round has ${keys.slots}`);
    }
  });
}

/** Rules 1..12: the records' rows and slots are in the one canonical form. */
export function checkCanonical(keys, records) {
  checkShape(keys, records);
  const n = 1n << BigInt(keys.logN);
  const seen = new Set();
  let lastAsset = 0;
  let emptySeen = false;
  records.forEach((r, i) => {
    const where = `record ${i} (row ${r.row})`;
    if (!(r.row >= 0n && r.row < n)) throw new InclusionError(Rule.ROW_RANGE, `${where}: the round has ${n} rows`);
    if (r.row % RECORD_ROWS) throw new InclusionError(Rule.ODD_ROW, `${where}: odd; records start at even rows`);
    if (seen.has(r.row)) throw new InclusionError(Rule.DUPLICATE_ROW, `${where}: the row is shown twice`);
    seen.add(r.row);
    r.slots.forEach(([asset, units], k) => {
      const at = `${where}, slot ${k}`;
      if (!(asset >= 0 && asset < keyCount(keys))) {
        throw new InclusionError(Rule.UNKNOWN_ASSET, `${at}: not one of the round's ${keys.assetCount} assets`);
      }
      if (!(units >= 0n && units < UNITS_BOUND)) {
        throw new InclusionError(Rule.UNITS_RANGE, `${at}: ${units} units is not below 2^64`);
      }
      if (asset === 0) {
        if (units) throw new InclusionError(Rule.EMPTY_SLOT_UNITS, `${at}: an empty slot holds ${units} units`);
        emptySeen = true;
        return;
      }
      if (units === 0n) throw new InclusionError(Rule.ZERO_UNITS, `${at}: a labelled slot with zero units`);
      if (emptySeen) throw new InclusionError(Rule.EMPTY_NOT_LAST, `${at}: a balance after an empty slot`);
      if (asset <= lastAsset) throw new InclusionError(Rule.ASSET_ORDER, `${at}: assets must be distinct and increasing`);
      lastAsset = asset;
    });
  });
  const last = records[records.length - 1];
  if (records.length > 1 && last.slots.every(([asset]) => asset === 0)) {
    throw new InclusionError(Rule.EMPTY_RECORD, `record ${records.length - 1}: empty, yet not the only record`);
  }
}

/** Whether (x, y) is a point of G1 in canonical coordinates ((0, 0) is infinity). */
export function isG1Point([x, y]) {
  if (!(x >= 0n && x < Q_MODULUS && y >= 0n && y < Q_MODULUS)) return false;
  return (x === 0n && y === 0n) || mod(y * y - x * x * x - CURVE_B, Q_MODULUS) === 0n;
}

/** Raise InclusionError unless `records` (a user's, in index order) are canonical and open correctly. */
export function checkRecords(keys, records) {
  checkCanonical(keys, records);
  checkSurplus(keys, records);
  records.forEach((r, i) => {
    if (!(r.hash > 0n && r.hash < R_MODULUS)) {
      throw new InclusionError(Rule.RECORD_HASH, `record ${i}: a zero hash is padding, not a record`);
    }
  });
  records.forEach((r, i) => {
    if (!isG1Point(r.proof)) throw new InclusionError(Rule.PROOF_POINT, `record ${i}: the opening is not a point of G1`);
  });
  const claims = records.map((r) => [r.row, openedValue(r, keys.gamma), r.proof]);
  if (!openingsHold(keys, claims)) {
    throw new InclusionError(Rule.OPENING, "the openings do not match these records (pairing check failed)");
  }
}

/** rho: Keccak over the commitment, gamma and every claim (1 for a single claim). */
export function batchWeight(keys, claims) {
  if (claims.length === 1) return 1n;
  const words = [keys.commitment[0], keys.commitment[1], keys.gamma];
  for (const [row, value, [x, y]] of claims) words.push(row, value, x, y);
  const rho = bytesToBigInt(keccak256(concat(...words.map((w) => uintBytes(w, 32))))) % R_MODULUS;
  return rho || 1n;
}

const G1 = bn254.G1.ProjectivePoint;
const g1Point = ([x, y]) => (x === 0n && y === 0n ? G1.ZERO : G1.fromAffine({ x, y }));
const times = (point, scalar) => point.multiplyUnsafe(mod(scalar));

/** e(P, Q1) e(-Pi, Q2) == 1 with infinity terms dropped (a pairing with infinity is 1). */
function pairingProductIsOne(pairs) {
  const live = pairs.filter(({ g1 }) => !g1.equals(G1.ZERO));
  if (live.length === 0) return true;
  const Fp12 = bn254.fields.Fp12;
  return Fp12.eql(bn254.pairingBatch(live), Fp12.ONE);
}

/**
 * Whether every claim (row, value, opening) opens the commitment, as one random combination:
 * e(sum rho^k (C - [v_k]_1 + z_k pi_k), [1]_2) = e(sum rho^k pi_k, [tau]_2).
 */
export function openingsHold(keys, claims) {
  const rho = batchWeight(keys, claims);
  const w = domainGenerator(keys.logN);
  let weight = 1n;
  let cWeight = 0n;
  let vWeight = 0n;
  let lhs = G1.ZERO;
  let pi = G1.ZERO;
  for (const [row, value, proof] of claims) {
    const p = g1Point(proof);
    lhs = lhs.add(times(p, weight * powMod(w, row, R_MODULUS)));
    pi = pi.add(times(p, weight));
    cWeight = (cWeight + weight) % R_MODULUS;
    vWeight = (vWeight + weight * value) % R_MODULUS;
    weight = (weight * rho) % R_MODULUS;
  }
  lhs = lhs.add(times(g1Point(keys.commitment), cWeight)).add(times(keys.g1, -vWeight));
  return pairingProductIsOne([{ g1: lhs, g2: keys.g2 }, { g1: pi.negate(), g2: keys.tauG2 }]);
}

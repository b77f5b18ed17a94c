// The hashes that put records into the field: zksolvency/hashing.py, byte for byte.
import { R_MODULUS, bytesToBigInt, concat, keccak256, uintBytes, utf8 } from "./field.js";

export const RECORD_DOMAIN = utf8("zksolvency/record/v1");
export const ACCOUNT_DOMAIN = utf8("zksolvency/account/v1");
export const SALT_BYTES = 32;
const WORD_BYTES = 32;

function prefixed(text) {
  const data = utf8(text);
  return concat(uintBytes(data.length, 4), data);
}

/** The part of every record hash of one user in one round: domain | len | round id | len | user id | salt. */
export function userPrefix(roundId, userId, salt) {
  if (salt.length !== SALT_BYTES) throw new Error(`a salt is ${SALT_BYTES} bytes, got ${salt.length}`);
  return concat(RECORD_DOMAIN, prefixed(roundId), prefixed(userId), salt);
}

/** keccak256(prefix | index | count | (asset, units) x S) mod r. */
export function recordHash(prefix, index, count, slots) {
  const words = slots.flatMap(([asset, units]) => [uintBytes(asset, WORD_BYTES), uintBytes(units, WORD_BYTES)]);
  return bytesToBigInt(keccak256(concat(prefix, uintBytes(index, 4), uintBytes(count, 4), ...words))) % R_MODULUS;
}

/** A margin account's key, from its user prefix. */
export function accountKey(prefix) {
  return bytesToBigInt(keccak256(concat(ACCOUNT_DOMAIN, prefix))) % R_MODULUS;
}

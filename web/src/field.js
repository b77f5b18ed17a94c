// BN254 constants and the byte encodings the Python side uses (zksolvency/constants.py, zksolvency/encoding.py).
import { keccak_256 } from "@noble/hashes/sha3";

// Scalar field r and base field q.
export const R_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const Q_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
export const CURVE_B = 3n;
export const TWO_ADICITY = 28;
// omega of order 2^28: 5^((r - 1) / 2^28) mod r.
export const ROOT_OF_UNITY_2_28 = powMod(5n, (R_MODULUS - 1n) >> 28n, R_MODULUS);
if (powMod(ROOT_OF_UNITY_2_28, 1n << 27n, R_MODULUS) === 1n || powMod(ROOT_OF_UNITY_2_28, 1n << 28n, R_MODULUS) !== 1n) {
  throw new Error("the root of unity is not of order 2^28");
}

export function mod(a, m = R_MODULUS) {
  const x = a % m;
  return x < 0n ? x + m : x;
}

export function powMod(base, exp, m) {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** omega, the generator of the subgroup of size 2^log_n of Fr. */
export function domainGenerator(logN) {
  if (!(logN >= 0 && logN <= TWO_ADICITY)) throw new Error(`no subgroup of size 2^${logN} in Fr`);
  return powMod(ROOT_OF_UNITY_2_28, 1n << BigInt(TWO_ADICITY - logN), R_MODULUS);
}

export const keccak256 = (bytes) => keccak_256(bytes);
export const utf8 = (text) => new TextEncoder().encode(text);

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** `value` (0 <= value < 256^length) as `length` big-endian bytes. */
export function uintBytes(value, length) {
  const out = new Uint8Array(length);
  let v = BigInt(value);
  for (let i = length - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  if (v !== 0n) throw new Error(`${value} does not fit in ${length} bytes`);
  return out;
}

export function bytesToBigInt(bytes) {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const bytesToHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

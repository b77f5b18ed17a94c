// The round's PLONK proof verified in the browser, from the circuit's canonical description (the text whose
// Keccak is the verifying key's circuit digest, so a pinned key pins it): verifier/plonk.py and verifier/kzg.py,
// step for step. The description is read, never trusted: its digest must be the key's.
import { bn254 } from "@noble/curves/bn254";
import {
  R_MODULUS, bytesToBigInt, bytesToHex, concat, domainGenerator, equalBytes, keccak256, mod, powMod, uintBytes, utf8,
} from "./field.js";
import { isG1Point } from "./inclusion.js";

// Hashed first into every transcript (verifier/transcript.py).
export const PROTOCOL_DOMAIN = utf8("zksolvency/plonkish-kzg/v1");

export class ProofError extends Error {}

const G1 = bn254.G1.ProjectivePoint;
const inverse = (x) => powMod(x, R_MODULUS - 2n, R_MODULUS);

/** An expression of the description: (+ a b), (* a b), (- a), kind[index]@rotation, $challenge or a constant. */
function parseExpression(text) {
  let pos = 0;
  const node = () => {
    while (text[pos] === " ") pos++;
    if (text[pos] === "(") {
      const op = text[pos + 1];
      pos += 2;
      const a = node();
      let out;
      if (op === "-") out = { op, a };
      else out = { op, a, b: node() };
      while (text[pos] === " ") pos++;
      if (text[pos++] !== ")") throw new ProofError("the circuit description: an unbalanced expression");
      return out;
    }
    const m = /^[^ ()]+/.exec(text.slice(pos, pos + 200));
    if (!m) throw new ProofError("the circuit description: an empty term");
    pos += m[0].length;
    const t = m[0];
    if (t.startsWith("$")) return { op: "$", name: t.slice(1) };
    const q = /^(advice|fixed|instance)\[(\d+)\]@(-?\d+)$/.exec(t);
    if (q) return { op: "q", kind: q[1], index: Number(q[2]), rotation: Number(q[3]), key: t };
    if (!/^\d+$/.test(t)) throw new ProofError(`the circuit description: a term ${t.slice(0, 20)}`);
    return { op: "c", value: BigInt(t) };
  };
  const out = node();
  if (pos !== text.length) throw new ProofError("the circuit description: trailing text after an identity");
  return out;
}

function degree(e) {
  if (e.op === "q") return 1;
  if (e.op === "c" || e.op === "$") return 0;
  if (e.op === "-") return degree(e.a);
  return e.op === "*" ? degree(e.a) + degree(e.b) : Math.max(degree(e.a), degree(e.b));
}

function queriesOf(e, out) {
  if (e.op === "q") out.set(e.key, e);
  else if (e.a) { queriesOf(e.a, out); if (e.b) queriesOf(e.b, out); }
  return out;
}

function evaluate(e, query, scalar) {
  switch (e.op) {
    case "c": return e.value % R_MODULUS;
    case "q": return query(e);
    case "$": return scalar(e.name);
    case "-": return mod(-evaluate(e.a, query, scalar));
    case "+": return (evaluate(e.a, query, scalar) + evaluate(e.b, query, scalar)) % R_MODULUS;
    default: return (evaluate(e.a, query, scalar) * evaluate(e.b, query, scalar)) % R_MODULUS;
  }
}

/** The compiled circuit as the description states it, with the layout the proof follows (verifier/protocol.py). */
export function parseCircuit(text) {
  const c = { columns: [], instances: [], runningSums: [], keyedSums: [], identities: [] };
  for (const line of text.split("\n")) {
    let m;
    if ((m = /^circuit (.+)$/.exec(line))) c.name = m[1];
    else if ((m = /^max_degree (\d+)$/.exec(line))) c.maxDegree = Number(m[1]);
    else if ((m = /^column (advice|fixed|instance)\[(\d+)\] phase (\d) (.+)$/.exec(line))) {
      c.columns.push({ kind: m[1], index: Number(m[2]), phase: Number(m[3]), name: m[4], key: `${m[1]}[${m[2]}]` });
    } else if ((m = /^instance (\d+) public_start (\d+) row_start (\d+)(?: stride (\d+))?( half)?$/.exec(line))) {
      c.instances.push({ index: Number(m[1]), publicStart: Number(m[2]), rowStart: Number(m[3]), stride: Number(m[4] ?? 1),
                         half: m[5] !== undefined });
    } else if ((m = /^running_sum (\S+) rhs (\S+)$/.exec(line))) {
      c.runningSums.push({ column: m[1], rhs: m[2] === "None" ? null : m[2] });
    } else if (/^combination /.test(line)) {
      // the combination's identity is among the identities
    } else if ((m = /^keyed_sum (\S+) public_start (\S+)(?: stride (\d+) first_key (\d+) challenge (\w+) zero (\w+))?$/.exec(line))) {
      c.keyedSums.push({ name: m[1], publicStart: m[2] === "None" ? null : Number(m[2]), stride: Number(m[3] ?? 1),
        firstKey: Number(m[4] ?? 1), challenge: m[5] ?? "alpha" });
    } else if ((m = /^identity (\S+) (.+)$/.exec(line))) {
      c.identities.push({ name: m[1], expression: parseExpression(m[2]) });
    } else {
      throw new ProofError(`the circuit description: an unknown line ${JSON.stringify(line.slice(0, 40))}`);
    }
  }
  const withRhs = c.runningSums.filter((r) => r.rhs !== null);
  if (withRhs.length > 1) throw new ProofError("the circuit description: more than one running sum with public totals");
  const order = new Map(c.columns.map((col, i) => [col.key, i]));
  const found = new Map();
  for (const ident of c.identities) queriesOf(ident.expression, found);
  const queries = [...found.values()].sort((a, b) =>
    order.get(`${a.kind}[${a.index}]`) - order.get(`${b.kind}[${b.index}]`) || a.rotation - b.rotation);
  c.degree = Math.max(1, ...c.identities.map((i) => degree(i.expression)));
  c.witness = c.columns.filter((col) => col.kind === "advice" && col.phase === 0);
  c.argument = c.columns.filter((col) => col.kind === "advice" && col.phase === 1);
  c.fixed = c.columns.filter((col) => col.kind === "fixed");
  c.evaluated = queries.filter((q) => q.kind !== "instance");
  c.quotientChunks = Math.max(1, c.degree);
  return c;
}

/** L_i(x) = omega^i (x^n - 1) / (n (x - omega^i)). */
function lagrangeAt(i, x, logN) {
  const n = 1n << BigInt(logN);
  const wi = powMod(domainGenerator(logN), BigInt(i), R_MODULUS);
  return mod(wi * (powMod(x, n, R_MODULUS) - 1n) % R_MODULUS * inverse(mod(n * (x - wi))));
}

/** The opening claims combined (verifier/kzg.py): e(sum u^k W_k, [tau]_2) = e(sum u^k (z_k W_k + ...), [1]_2). */
function openingsVerify(claims, v, u, g1, g2, tauG2) {
  let left = G1.ZERO;
  let right = G1.ZERO;
  let uk = 1n;
  const times = (p, s) => p.multiplyUnsafe(mod(s));
  for (const claim of claims) {
    left = left.add(times(claim.witness, uk));
    right = right.add(times(claim.witness, uk * claim.point));
    let vj = 1n;
    let combined = 0n;
    claim.commitments.forEach((c, j) => {
      right = right.add(times(c, uk * vj));
      combined = (combined + vj * claim.values[j]) % R_MODULUS;
      vj = (vj * v) % R_MODULUS;
    });
    right = right.add(times(g1, -uk * combined));
    uk = (uk * u) % R_MODULUS;
  }
  const pairs = [{ g1: left, g2: tauG2 }, { g1: right.negate(), g2 }].filter((p) => !p.g1.equals(G1.ZERO));
  if (!pairs.length) return true;
  return bn254.fields.Fp12.eql(bn254.pairingBatch(pairs), bn254.fields.Fp12.ONE);
}

/**
 * Raise ProofError unless `proof` proves the described circuit for `publicInputs` under the key; return the
 * challenges and the proof's commitment to each advice column by name (verifier/plonk.py's verify).
 */
export function verifyProof(descriptionText, vk, publicInputs, proof) {
  if (!equalBytes(keccak256(utf8(descriptionText)), vk.circuitDigest)) {
    throw new ProofError("the circuit description is not the verifying key's (its digest differs)");
  }
  const c = parseCircuit(descriptionText);
  if (c.name !== vk.circuit) throw new ProofError("the verifying key is for another circuit");
  if (vk.fixedCommitments.length !== c.fixed.length) throw new ProofError("the verifying key has the wrong number of fixed commitments");
  const n = 1n << BigInt(vk.logN);
  if (n <= 2n * BigInt(c.degree)) throw new ProofError(`a domain of ${n} rows is too small for this circuit`);
  if (c.instances.length) {
    // ConstraintSystem.max_public_inputs: a "half" column holds public inputs in its first n/2 rows only.
    const rows = (i) => (i.half ? Number(n) / 2 : Number(n)) - i.rowStart;
    const limit = Math.min(...c.instances.map((i) => i.publicStart + i.stride * rows(i)));
    if (publicInputs.length > limit) throw new ProofError(`${publicInputs.length} public inputs do not fit the instance columns`);
  }
  // The proof's bytes (verifier/formats.py): "ZKSP" | version | commitments | evaluations | two openings.
  const points = c.witness.length + c.argument.length + c.quotientChunks + 2;
  const evaluations = c.evaluated.length + c.quotientChunks;
  if (proof.length !== 5 + 64 * points + 32 * evaluations) {
    throw new ProofError(`proof: expected ${5 + 64 * points + 32 * evaluations} bytes for this circuit, got ${proof.length}`);
  }
  // Points: witness, argument and quotient commitments, then (after the evaluations) the two openings.
  const evaluationsAt = 5 + 64 * (points - 2);
  const point = (k) => {
    const at = k < points - 2 ? 5 + 64 * k : evaluationsAt + 32 * evaluations + 64 * (k - points + 2);
    const xy = [bytesToBigInt(proof.slice(at, at + 32)), bytesToBigInt(proof.slice(at + 32, at + 64))];
    if (!isG1Point(xy)) throw new ProofError(`proof: point ${k} is not a point of G1`);
    return { xy, p: xy[0] === 0n && xy[1] === 0n ? G1.ZERO : G1.fromAffine({ x: xy[0], y: xy[1] }) };
  };
  const pts = Array.from({ length: points }, (_, k) => point(k));
  const evals = Array.from({ length: evaluations }, (_, k) => {
    const at = evaluationsAt + 32 * k;
    const e = bytesToBigInt(proof.slice(at, at + 32));
    if (e >= R_MODULUS) throw new ProofError(`proof: evaluation ${k} is not below r`);
    return e;
  });
  const bytesOf = (from, to) => proof.slice(5 + 64 * from, 5 + 64 * to);
  const w = c.witness.length;
  const a = w + c.argument.length;
  const q = a + c.quotientChunks;

  // The transcript, in protocol order (verifier/protocol.py).
  let state = keccak256(PROTOCOL_DOMAIN);
  const squeeze = (...parts) => {
    state = keccak256(concat(state, ...parts));
    return bytesToBigInt(state) % R_MODULUS;
  };
  const beta = squeeze(vk.digest, uintBytes(publicInputs.length, 32), ...publicInputs.map((x) => uintBytes(x, 32)), bytesOf(0, w));
  const alpha = squeeze();
  const gamma = squeeze();
  const y = squeeze(bytesOf(w, a));
  const zeta = squeeze(bytesOf(a, q));
  const v = squeeze(...evals.map((e) => uintBytes(e, 32)));
  const u = squeeze(proof.slice(evaluationsAt + 32 * evaluations));

  const zetaN = powMod(zeta, n, R_MODULUS);
  const vanishing = mod(zetaN - 1n);
  if (vanishing === 0n) throw new ProofError("zeta fell in the domain");
  const omega = domainGenerator(vk.logN);
  const values = new Map(c.evaluated.map((qq, i) => [`${qq.key}`, evals[i]]));
  const instanceAt = (index, x) => {
    const inst = c.instances.find((i) => i.index === index);
    let acc = 0n;
    for (let k = 0, j = inst.publicStart; j < publicInputs.length; k++, j += inst.stride) {
      if (publicInputs[j]) acc = (acc + publicInputs[j] * lagrangeAt(inst.rowStart + k, x, vk.logN)) % R_MODULUS;
    }
    return acc;
  };
  const query = (e) => (e.kind === "instance"
    ? instanceAt(e.index, (zeta * powMod(omega, BigInt(e.rotation), R_MODULUS)) % R_MODULUS) : values.get(e.key));
  const scalars = { beta, alpha, gamma };
  for (const rs of c.runningSums) {
    if (rs.rhs === null) continue;
    let rhs = 0n;
    for (const ks of c.keyedSums) {
      if (ks.publicStart === null) continue;
      for (let i = 0, j = ks.publicStart; j < publicInputs.length; i++, j += ks.stride) {
        rhs = (rhs + publicInputs[j] * inverse(mod(alpha - BigInt(ks.firstKey + i)))) % R_MODULUS;
      }
    }
    scalars[rs.rhs] = (rhs * inverse(n)) % R_MODULUS;
  }
  const scalar = (name) => {
    if (!(name in scalars)) throw new ProofError(`the circuit description names an unknown scalar ${name}`);
    return scalars[name];
  };
  let numerator = 0n;
  let yPower = 1n;
  for (const ident of c.identities) {
    numerator = (numerator + yPower * evaluate(ident.expression, query, scalar)) % R_MODULUS;
    yPower = (yPower * y) % R_MODULUS;
  }
  const chunks = evals.slice(c.evaluated.length);
  let tZeta = 0n;
  let zetaKn = 1n;
  for (const t of chunks) {
    tZeta = (tZeta + zetaKn * t) % R_MODULUS;
    zetaKn = (zetaKn * zetaN) % R_MODULUS;
  }
  if (numerator !== (vanishing * tZeta) % R_MODULUS) throw new ProofError("the constraints do not hold (quotient identity fails at zeta)");

  const commitment = new Map();
  c.witness.forEach((col, i) => commitment.set(col.key, pts[i].p));
  c.argument.forEach((col, i) => commitment.set(col.key, pts[w + i].p));
  c.fixed.forEach((col, i) => commitment.set(col.key, vk.fixedCommitments[i]));
  const openedAt = (rotation) => c.evaluated.map((qq, i) => [i, qq]).filter(([, qq]) => qq.rotation === rotation);
  const atZeta = openedAt(0);
  const atNext = openedAt(1);
  const claims = [
    { point: zeta, commitments: [...atZeta.map(([, qq]) => commitment.get(`${qq.kind}[${qq.index}]`)), ...pts.slice(a, q).map((x) => x.p)],
      values: [...atZeta.map(([i]) => evals[i]), ...chunks], witness: pts[q].p },
    { point: (zeta * omega) % R_MODULUS, commitments: atNext.map(([, qq]) => commitment.get(`${qq.kind}[${qq.index}]`)),
      values: atNext.map(([i]) => evals[i]), witness: pts[q + 1].p },
  ];
  if (!openingsVerify(claims, v, u, vk.g1Point, vk.g2, vk.tauG2)) throw new ProofError("the openings do not verify (pairing check failed)");
  const advice = new Map([...c.witness.map((col, i) => [col.name, pts[i].xy]), ...c.argument.map((col, i) => [col.name, pts[w + i].xy])]);
  return { gamma, advice, circuit: c };
}

export const hexOf = (bytes) => "0x" + bytesToHex(bytes);

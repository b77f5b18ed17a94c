"""The prover: key generation and the five rounds, each absorbing into the shared transcript.

Round 1 commits the witness (blinded), round 2 the log-derivative helper
columns, round 3 the quotient, round 4 evaluates at zeta, round 5 opens. The
order is ``zksolvency.verifier.protocol``'s; the challenges come from the
verifier's own ``Transcript``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from zksolvency.circuits.assignment import ArrayEvaluator, Assignment, instance_values
from zksolvency.circuits.constraint_system import ALPHA, BETA, GAMMA, ZETA, Y, ConstraintSystem
from zksolvency.constants import FR_MULTIPLICATIVE_GENERATOR, R_MODULUS
from zksolvency.prover.arguments import argument_columns, multiplicities
from zksolvency.prover.field import Fr
from zksolvency.prover.kzg import commit
from zksolvency.prover.ntt import domain
from zksolvency.prover.polynomial import Polynomial
from zksolvency.verifier.formats import Proof, VerifyingKey
from zksolvency.verifier.plonk import circuit_digest, derived_scalars, domain_generator
from zksolvency.verifier.protocol import U, V, Layout, layout
from zksolvency.verifier.transcript import Transcript


@dataclass
class ProvingKey:
    cs: ConstraintSystem
    layout: Layout
    vk: VerifyingKey
    srs: object  # zksolvency.prover.srs.SRS
    fixed: Assignment  # fixed column values on H
    fixed_polys: dict  # Column -> Polynomial


def keygen(cs: ConstraintSystem, log_n: int, srs, fixed: Assignment) -> ProvingKey:
    """Commit the fixed columns; the verifying key binds them, the circuit and the SRS."""
    lay = layout(cs, log_n)
    if srs.max_degree < lay.n + BLINDING - 1:
        raise ValueError(
            f"the SRS serves circuits up to 2^{srs.max_log_size} rows; this one has 2^{log_n} (set up a larger SRS)"
        )
    if fixed.n != lay.n:
        raise ValueError("fixed assignment has the wrong number of rows")
    d = domain(log_n)
    polys = {c: Polynomial(d.intt(fixed[c])) for c in lay.fixed_columns}
    vk = VerifyingKey(
        circuit=cs.name,
        log_n=log_n,
        circuit_digest=circuit_digest(cs),
        srs_digest=srs.digest,
        insecure=srs.insecure,
        g1=srs.g1_generator,
        g2=srs.g2,
        tau_g2=srs.tau_g2,
        fixed_commitments=tuple(commit(srs, polys[c]) for c in lay.fixed_columns),
    )
    return ProvingKey(cs, lay, vk, srs, fixed, polys)


def _random_scalars(k: int) -> list:
    return [secrets.randbelow(R_MODULUS) for _ in range(k)]


# Random coefficients of the blinding polynomial b(X) of every committed column: a
# column is seen through its commitment and at most two evaluations (zeta, zeta*omega).
BLINDING = 3


def blind(poly: Polynomial, n: int, blinding) -> Polynomial:
    """p(X) + Z_H(X) * sum b_i X^i: unchanged on H, random elsewhere."""
    out = np.zeros((n + len(blinding), 4), dtype=np.uint64)
    out[: len(poly)] = poly.coeffs
    b = Fr.from_ints(blinding)
    k = len(blinding)
    out[:k] = Fr.sub(out[:k], b)
    out[n : n + k] = Fr.add(out[n : n + k], b)
    return Polynomial(out)


def _coset_values(poly: Polynomial, log_n: int, shift: int) -> np.ndarray:
    """p on shift * H, reducing p modulo X^n - shift^n first (p may be longer than n)."""
    n = 1 << log_n
    coeffs = np.zeros((n, 4), dtype=np.uint64)
    length = min(len(poly), n)
    coeffs[:length] = poly.coeffs[:length]
    if len(poly) > n:
        tail = poly.coeffs[n:]
        coeffs[: len(tail)] = Fr.add(coeffs[: len(tail)], Fr.scale(tail, pow(shift, n, R_MODULUS)))
        if len(poly) > 2 * n:
            raise ValueError("polynomial longer than 2n")
    return domain(log_n).coset_ntt(coeffs, shift)


def quotient(pk: ProvingKey, polys: dict, challenges: dict) -> Polynomial:
    """t = sum_i y^i I_i / Z_H, computed on `extension` cosets of H and interpolated."""
    lay, cs = pk.layout, pk.cs
    n, ext = lay.n, lay.extension
    log_ext = ext.bit_length() - 1
    omega_big = domain_generator(lay.log_n + log_ext)
    g = FR_MULTIPLICATIVE_GENERATOR
    y = challenges[Y]
    big = np.empty((ext * n, 4), dtype=np.uint64)
    for j in range(ext):
        shift = g * pow(omega_big, j, R_MODULUS) % R_MODULUS
        values = Assignment(n, {c: _coset_values(p, lay.log_n, shift) for c, p in polys.items()})
        ev = ArrayEvaluator(values, challenges)
        acc = None
        for ident in reversed(cs.identities):
            term = ev.result(ident.expression.evaluate(ev))
            acc = term if acc is None else ev.add(ev.mul(acc, ("scalar", y)), term)
        z_h_inv = pow((pow(shift, n, R_MODULUS) - 1) % R_MODULUS, -1, R_MODULUS)
        big[j::ext] = Fr.scale(acc, z_h_inv)
    return Polynomial(domain(lay.log_n + log_ext).coset_intt(big, g))


def split_quotient(t: Polynomial, n: int, chunks: int, strict: bool = True) -> list:
    """t = sum_k X^(k n) t_k with each t_k blinded by b_k X^n - b_{k-1} (the sum is unchanged)."""
    if strict and not np.all(t.coeffs[chunks * n :] == 0):
        raise AssertionError("quotient degree exceeds its chunks: the witness does not satisfy the circuit")
    parts = []
    for k in range(chunks):
        c = np.zeros((n + 1, 4), dtype=np.uint64)
        c[:n] = t.coeffs[k * n : (k + 1) * n]
        parts.append(c)
    b = Fr.from_ints(_random_scalars(chunks - 1))
    for k in range(chunks - 1):
        parts[k][n] = Fr.add(parts[k][n : n + 1], b[k : k + 1])[0]
        parts[k + 1][0] = Fr.sub(parts[k + 1][0:1], b[k : k + 1])[0]
    return [Polynomial(p) for p in parts]


def _challenge_elements(ch: dict) -> dict:
    return {k: Fr.from_int(v) for k, v in ch.items()}


def prove(pk: ProvingKey, witness: Assignment, public_inputs, strict: bool = True, progress=None) -> bytes:
    """A proof that `witness` satisfies the circuit with these public inputs (see ``prove_with_polynomials``)."""
    return prove_with_polynomials(pk, witness, public_inputs, strict, progress)[0]


def prove_with_polynomials(pk: ProvingKey, witness: Assignment, public_inputs, strict: bool = True, progress=None):
    """(proof bytes, {Column: committed Polynomial}): a proof that `witness` satisfies the circuit.

    The polynomials are the blinded ones the proof commits to; openings of
    them at points of H (inclusion proofs) verify against its commitments.

    The witness is checked first (``ConstraintFailure`` names the gate and row).
    ``strict=False`` skips every check and proves whatever it is given: the
    cheating prover of the soundness tests, whose proofs must be rejected.
    """
    cs, lay, srs = pk.cs, pk.layout, pk.srs
    if strict:
        from zksolvency.circuits.checker import check

        check(cs, pk.fixed.with_columns({c: witness[c] for c in cs.witness_columns}), public_inputs)
    n, log_n = lay.n, lay.log_n
    public_inputs = [int(x) % R_MODULUS for x in public_inputs]
    d = domain(log_n)
    t = Transcript(pk.vk.digest())
    t.absorb_scalar("public input count", len(public_inputs))
    t.absorb_scalars("public inputs", public_inputs)

    say = progress or (lambda message: None)
    # Round 1: the witness and the lookup multiplicities, blinded and committed.
    say(f"committing {len(lay.witness_columns)} witness columns")
    values = pk.fixed.with_columns(instance_values(cs, n, public_inputs))
    values = values.with_columns({c: witness[c] for c in cs.witness_columns})
    for lk in cs.lookups:
        ev = ArrayEvaluator(values)

        def rows(entries):
            return tuple(ev.result(e.evaluate(ev)) for e in entries)

        counts = multiplicities([rows(t) for t in lk.tables], [rows(f) for f in lk.inputs], strict)
        for m, column in zip(cs.multiplicities[lk.name], counts):
            values[m] = column
    polys = dict(pk.fixed_polys)
    for inst in cs.instances:
        polys[inst.column] = Polynomial(d.intt(values[inst.column]))
    commitments = []
    for c in lay.witness_columns:
        polys[c] = blind(Polynomial(d.intt(values[c])), n, _random_scalars(BLINDING))
        commitments.append(commit(srs, polys[c]))
    t.absorb_points("witness commitments", commitments)
    ch = {BETA: t.challenge(BETA), ALPHA: t.challenge(ALPHA), GAMMA: t.challenge(GAMMA)}
    ch.update(derived_scalars(cs, lay, public_inputs, ch[ALPHA]))

    # Round 2: fractions and the running sum of the log-derivative argument, combinations.
    say(f"committing {len(lay.argument_columns)} argument columns")
    argument_values = argument_columns(cs, values, _challenge_elements(ch), strict)
    argument_commitments = []
    for c in lay.argument_columns:
        polys[c] = blind(Polynomial(d.intt(argument_values[c])), n, _random_scalars(BLINDING))
        argument_commitments.append(commit(srs, polys[c]))
    t.absorb_points("argument commitments", argument_commitments)
    ch[Y] = t.challenge(Y)

    # Round 3: the quotient, split into blinded chunks.
    say(f"quotient on {lay.extension} cosets")
    chunks = split_quotient(quotient(pk, polys, _challenge_elements(ch)), n, lay.quotient_chunks, strict)
    quotient_commitments = [commit(srs, p) for p in chunks]
    t.absorb_points("quotient commitments", quotient_commitments)
    zeta = ch[ZETA] = t.challenge(ZETA)

    # Round 4: evaluations at zeta and zeta * omega.
    say("evaluations and openings")
    omega = domain_generator(log_n)
    points = [zeta, zeta * omega % R_MODULUS]
    evaluations = [polys[q.column].evaluate(points[q.rotation]) for q in lay.evaluated_queries]
    evaluations += [p.evaluate(zeta) for p in chunks]
    t.absorb_scalars("evaluations", evaluations)
    v = t.challenge(V)

    # Round 5: one opening proof per point for the v-combination of its polynomials.
    openings = []
    for rotation, extra in ((0, chunks), (1, [])):
        opened = [polys[q.column] for _, q in lay.opened_at(rotation)] + list(extra)
        powers = [pow(v, j, R_MODULUS) for j in range(len(opened))]
        combined = Polynomial.linear_combination(opened, powers)
        w, _ = combined.divide_by_linear(points[rotation])
        openings.append(commit(srs, w))
    t.absorb_point("opening at zeta", openings[0])
    t.absorb_point("opening at zeta*omega", openings[1])
    t.challenge(U)

    proof = Proof(
        witness_commitments=tuple(commitments),
        argument_commitments=tuple(argument_commitments),
        quotient_commitments=tuple(quotient_commitments),
        evaluations=tuple(evaluations),
        opening_zeta=openings[0],
        opening_zeta_omega=openings[1],
    )
    return proof.to_bytes(), polys

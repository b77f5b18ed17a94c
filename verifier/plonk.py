"""The Python verifier: replays the transcript, checks the quotient identity at zeta and the openings.

Entry point ``verify(cs, vk, public_inputs, proof_bytes)`` takes untrusted
bytes and raises ``VerificationError`` with a one-sentence reason; it never
imports the prover.
"""

from __future__ import annotations

from dataclasses import dataclass

from zksolvency.circuits.constraint_system import ALPHA, BETA, GAMMA, ZETA, Y, ConstraintSystem
from zksolvency.circuits.expression import ColumnKind, ScalarEvaluator
from zksolvency.constants import R_MODULUS, ROOT_OF_UNITY_2_28, TWO_ADICITY
from zksolvency.encoding import EncodingError, G1Point
from zksolvency.verifier.development import is_development_key
from zksolvency.verifier.formats import Proof, VerifyingKey
from zksolvency.verifier.kzg import OpeningClaim, verify_openings
from zksolvency.verifier.protocol import U, V, Layout, layout
from zksolvency.verifier.transcript import Transcript, keccak256


class VerificationError(Exception):
    """The proof does not verify; the message says why."""


def domain_generator(log_n: int) -> int:
    if not 0 <= log_n <= TWO_ADICITY:
        raise ValueError(f"no subgroup of size 2^{log_n} in Fr")
    return pow(ROOT_OF_UNITY_2_28, 1 << (TWO_ADICITY - log_n), R_MODULUS)


def circuit_digest(cs: ConstraintSystem) -> bytes:
    return keccak256(cs.canonical_description().encode())


def lagrange_at(i: int, x: int, log_n: int) -> int:
    """L_i(x) = omega^i (x^n - 1) / (n (x - omega^i)) on H of size n = 2^log_n (x not in H)."""
    n = 1 << log_n
    wi = pow(domain_generator(log_n), i, R_MODULUS)
    return wi * (pow(x, n, R_MODULUS) - 1) * pow(n * (x - wi), -1, R_MODULUS) % R_MODULUS


def keyed_rhs(totals, alpha: int) -> int:
    """sum_j total_j / (alpha - j) over (j, total_j) pairs."""
    acc = 0
    for j, total in totals:
        acc = (acc + total * pow(alpha - j, -1, R_MODULUS)) % R_MODULUS
    return acc


class Challenges(dict):
    """Named transcript challenges and the scalars derived from them and the public inputs."""


@dataclass(frozen=True)
class VerifiedProof:
    """What a successful verification established: the parsed proof and its challenges."""

    layout: Layout
    proof: Proof
    challenges: Challenges

    def commitment(self, column) -> "G1Point":
        """The proof's commitment to an advice column."""
        for columns, points in (
            (self.layout.witness_columns, self.proof.witness_commitments),
            (self.layout.argument_columns, self.proof.argument_commitments),
        ):
            if column in columns:
                return points[columns.index(column)]
        raise KeyError(f"column {column.name!r} is not committed in the proof")


def replay_transcript(vk: VerifyingKey, public_inputs, proof: Proof) -> Challenges:
    """Absorb the statement and the proof in protocol order; return every challenge."""
    t = Transcript(vk.digest())
    t.absorb_scalar("public input count", len(public_inputs))
    t.absorb_scalars("public inputs", public_inputs)
    t.absorb_points("witness commitments", proof.witness_commitments)
    ch = Challenges()
    ch[BETA] = t.challenge(BETA)
    ch[ALPHA] = t.challenge(ALPHA)
    ch[GAMMA] = t.challenge(GAMMA)
    t.absorb_points("argument commitments", proof.argument_commitments)
    ch[Y] = t.challenge(Y)
    t.absorb_points("quotient commitments", proof.quotient_commitments)
    ch[ZETA] = t.challenge(ZETA)
    t.absorb_scalars("evaluations", proof.evaluations)
    ch[V] = t.challenge(V)
    t.absorb_point("opening at zeta", proof.opening_zeta)
    t.absorb_point("opening at zeta*omega", proof.opening_zeta_omega)
    ch[U] = t.challenge(U)
    return ch


def derived_scalars(cs: ConstraintSystem, lay: Layout, public_inputs, alpha: int) -> dict:
    """The public right-hand sides of the keyed sums, added and divided by n (named as in the identities)."""
    n_inv = pow(lay.n, -1, R_MODULUS)
    out = {}
    for rs in cs.running_sums:
        if rs.rhs_constant is not None:
            rhs = sum(keyed_rhs(ks.public_totals(public_inputs), alpha) for ks in rs.public_sums)
            out[rs.rhs_constant] = rhs * n_inv % R_MODULUS
    return out


def instance_evaluation(cs, lay: Layout, column, x: int, public_inputs) -> int:
    inst = next(i for i in cs.instances if i.column == column)
    acc = 0
    for k, value in enumerate(inst.values(public_inputs)):
        if value:
            acc = (acc + value * lagrange_at(inst.row_start + k, x, lay.log_n)) % R_MODULUS
    return acc


def verify(
    cs: ConstraintSystem,
    vk: VerifyingKey,
    public_inputs,
    proof_bytes: bytes,
    allow_insecure_srs: bool = False,
) -> VerifiedProof:
    """Raise VerificationError unless ``proof_bytes`` proves ``cs`` for these public inputs."""
    if is_development_key(vk) and not allow_insecure_srs:
        raise VerificationError("the verifying key comes from an insecure development SRS (use --allow-insecure-srs)")
    if vk.circuit != cs.name or vk.circuit_digest != circuit_digest(cs):
        raise VerificationError("the verifying key is for another circuit")
    lay = layout(cs, vk.log_n)
    if len(vk.fixed_commitments) != len(lay.fixed_columns):
        raise VerificationError("the verifying key has the wrong number of fixed commitments")
    public_inputs = list(public_inputs)
    for i, x in enumerate(public_inputs):
        if not isinstance(x, int) or not 0 <= x < R_MODULUS:
            raise VerificationError(f"public input {i} is not a field element")
    limit = cs.max_public_inputs(lay.n)
    if limit is not None and len(public_inputs) > limit:
        raise VerificationError(f"{len(public_inputs)} public inputs do not fit the circuit's instance columns "
                                f"of {lay.n} rows (at most {limit})")
    try:
        proof = Proof.from_bytes(proof_bytes, lay)
    except EncodingError as e:
        raise VerificationError(str(e)) from None

    ch = replay_transcript(vk, public_inputs, proof)
    zeta, n = ch[ZETA], lay.n
    omega = domain_generator(lay.log_n)
    zeta_n = pow(zeta, n, R_MODULUS)
    vanishing = (zeta_n - 1) % R_MODULUS
    if vanishing == 0:
        raise VerificationError("zeta fell in the domain")

    values = {q: proof.evaluations[i] for i, q in enumerate(lay.evaluated_queries)}

    def query_value(q):
        if q.column.kind == ColumnKind.INSTANCE:
            x = zeta * pow(omega, q.rotation, R_MODULUS) % R_MODULUS
            return instance_evaluation(cs, lay, q.column, x, public_inputs)
        return values[q]

    scalars = {BETA: ch[BETA], ALPHA: ch[ALPHA], GAMMA: ch[GAMMA], **derived_scalars(cs, lay, public_inputs, ch[ALPHA])}
    ev = ScalarEvaluator(query_value, scalars)
    numerator, y_power = 0, 1
    for ident in cs.identities:
        numerator = (numerator + y_power * ident.expression.evaluate(ev)) % R_MODULUS
        y_power = y_power * ch[Y] % R_MODULUS
    chunks = proof.evaluations[len(lay.evaluated_queries) :]
    t_zeta, zeta_kn = 0, 1
    for t_k in chunks:
        t_zeta = (t_zeta + zeta_kn * t_k) % R_MODULUS
        zeta_kn = zeta_kn * zeta_n % R_MODULUS
    if numerator != vanishing * t_zeta % R_MODULUS:
        raise VerificationError("the constraints do not hold (quotient identity fails at zeta)")

    commitment = {c: p for c, p in zip(lay.witness_columns, proof.witness_commitments)}
    commitment.update(zip(lay.argument_columns, proof.argument_commitments))
    commitment.update(zip(lay.fixed_columns, vk.fixed_commitments))
    at_zeta = lay.opened_at(0)
    at_next = lay.opened_at(1)
    claims = [
        OpeningClaim(
            zeta,
            tuple(commitment[q.column] for _, q in at_zeta) + proof.quotient_commitments,
            tuple(proof.evaluations[i] for i, _ in at_zeta) + tuple(chunks),
            proof.opening_zeta,
        ),
        OpeningClaim(
            zeta * omega % R_MODULUS,
            tuple(commitment[q.column] for _, q in at_next),
            tuple(proof.evaluations[i] for i, _ in at_next),
            proof.opening_zeta_omega,
        ),
    ]
    if not verify_openings(claims, ch[V], ch[U], vk.g1, vk.g2, vk.tau_g2):
        raise VerificationError("the openings do not verify (pairing check failed)")
    return VerifiedProof(lay, proof, ch)

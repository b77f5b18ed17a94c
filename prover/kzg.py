"""KZG commitments over the SRS: [p(tau)]_1 = sum_i p_i [tau^i]_1, and opening witnesses.

Openings follow the verifier's ``zksolvency.verifier.kzg``: for a claim
p(z) = s the witness is [w(tau)]_1 with w(X) = (p(X) - s) / (X - z); several
polynomials opened at one point are first combined with powers of a
challenge, so each point costs one witness.
"""

from __future__ import annotations

from zksolvency.encoding import G1Point
from zksolvency.prover.msm import msm
from zksolvency.prover.polynomial import Polynomial


def commit(srs, poly: Polynomial) -> G1Point:
    """[p(tau)]_1 by one MSM over the first len(p) powers."""
    if len(poly) > srs.g1_powers.shape[0]:
        raise ValueError(f"cannot commit to degree {len(poly) - 1}: the SRS stops at degree {srs.max_degree}")
    return msm(srs.g1_powers[: len(poly)], poly.canonical_limbs())


def open_at(srs, poly: Polynomial, z: int) -> tuple[int, G1Point]:
    """(p(z), [(p(X) - p(z)) / (X - z)]_1)."""
    quotient, value = poly.divide_by_linear(z)
    return value, commit(srs, quotient)

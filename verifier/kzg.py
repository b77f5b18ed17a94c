"""KZG verification: batched openings at several points, checked with one pairing product (py_ecc)."""

from __future__ import annotations

from dataclasses import dataclass

from py_ecc.optimized_bn128 import neg

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point, G2Point
from zksolvency.verifier.msm import lincomb
from zksolvency.verifier.pairing import pairing_product_is_one


@dataclass(frozen=True)
class OpeningClaim:
    """Polynomials committed in ``commitments`` take ``values`` at ``point``; ``witness`` proves it."""

    point: int
    commitments: tuple  # G1Point
    values: tuple  # int
    witness: G1Point


def _lincomb(points, scalars):
    """sum s_i P_i of G1Points as a py_ecc point, or None for the point at infinity."""
    total = lincomb([(p.x, p.y) for p in points], scalars)
    return None if total is None else G1Point(*total).to_py_ecc()


def verify_openings(claims, v: int, u: int, g1: G1Point, g2: G2Point, tau_g2: G2Point) -> bool:
    """Check every claim at once.

    For each claim at point z with W: sum_j v^j (C_j - [y_j]_1) = (tau - z) W. Claims
    are combined with powers of u:
    e(sum u^k W_k, [tau]_2) = e(sum u^k (z_k W_k + sum_j v^j C_j - [sum_j v^j y_j]_1), [1]_2).
    """
    left_points, left_scalars, right_points, right_scalars = [], [], [], []
    uk = 1
    for claim in claims:
        left_points.append(claim.witness)
        left_scalars.append(uk)
        right_points.append(claim.witness)
        right_scalars.append(uk * claim.point)
        vj, combined_value = 1, 0
        for c, y in zip(claim.commitments, claim.values):
            right_points.append(c)
            right_scalars.append(uk * vj)
            combined_value = (combined_value + vj * y) % R_MODULUS
            vj = vj * v % R_MODULUS
        right_points.append(g1)
        right_scalars.append(-uk * combined_value)
        uk = uk * u % R_MODULUS
    left = _lincomb(left_points, left_scalars)
    right = _lincomb(right_points, right_scalars)
    return pairing_product_is_one(
        [(left, tau_g2.to_py_ecc()), (None if right is None else neg(right), g2.to_py_ecc())]
    )

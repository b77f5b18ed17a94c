"""A user's inclusion check: one KZG opening of the round's inclusion column at the user's record.

The solvency circuit's ``inclusion`` column holds, on the even row i where a
record starts, ``G(omega^i) = user_hash + gamma asset_0 + gamma^2 balance_0 + ...``
over the record's two rows, with gamma drawn by the round's transcript after
the witness commitments. Odd rows are refused: there G would pair the halves
of two records. Given the record's values (recomputed by the user: the hash from their id and salt, the
slots from what the exchange shows them), the opening pi proves

    e(C_G - [v]_1 + omega^i pi, [1]_2) = e(pi, [tau]_2),    v = sum_j gamma^j values_j

where C_G is the proof's commitment to the column. Since the values were
fixed by commitments made before gamma was drawn, a wrong balance, asset,
hash or row passes with probability at most (number of values) / r.
"""

from __future__ import annotations

from py_ecc.optimized_bn128 import add, multiply, neg

from zksolvency.circuits.solvency import RECORD_ROWS
from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.verifier.formats import VerifyingKey
from zksolvency.verifier.kzg import pairing_product_is_one
from zksolvency.verifier.plonk import domain_generator


class InclusionError(Exception):
    """An inclusion proof that does not hold; the message says which row and why."""


def combine(values, gamma: int) -> int:
    """sum_j gamma^j values[j] mod r."""
    acc = 0
    for value in reversed(values):
        acc = (acc * gamma + value) % R_MODULUS
    return acc


def opening_holds(vk: VerifyingKey, commitment: G1Point, row: int, value: int, opening: G1Point) -> bool:
    """The pairing check of one opening of ``commitment`` at omega^row to ``value``."""
    z = pow(domain_generator(vk.log_n), row, R_MODULUS)
    lhs = add(commitment.to_py_ecc(), neg(multiply(vk.g1.to_py_ecc(), value % R_MODULUS)))
    lhs = add(lhs, multiply(opening.to_py_ecc(), z))
    return pairing_product_is_one([(lhs, vk.g2.to_py_ecc()), (neg(opening.to_py_ecc()), vk.tau_g2.to_py_ecc())])


def verify_row(vk: VerifyingKey, commitment: G1Point, gamma: int, row: int, values, opening: G1Point) -> None:
    """Raise InclusionError unless ``values`` ([user_hash, asset_0, balance_0, ..]) sit at ``row``."""
    n = 1 << vk.log_n
    if not isinstance(row, int) or not 0 <= row < n:
        raise InclusionError(f"row {row} is outside the round's {n} rows")
    if row % RECORD_ROWS:
        raise InclusionError(f"row {row} is odd: records start at even rows")
    if values[0] % R_MODULUS == 0:
        raise InclusionError(f"row {row}: a zero user hash is padding, not a user")
    if any(not 0 <= v < R_MODULUS for v in values):
        raise InclusionError(f"row {row}: a value is not a field element")
    if not opening_holds(vk, commitment, row, combine(values, gamma), opening):
        raise InclusionError(f"row {row}: the opening does not match these values (pairing check failed)")

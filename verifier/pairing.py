"""Products of BN254 pairings, fast enough for a customer's check: G2 lines prepared once, a split final exponentiation.

The same optimal ate Miller loop as py_ecc's ``optimized_pairing`` (same
loop, same line functions, same FQ12 representation), so every value equals
py_ecc's, but reorganised as verifiers use it, where the G2 points are fixed
(``[1]_2`` and ``[tau]_2`` of a verifying key):

- a line through points of the twisted G2 evaluated at an affine G1 point
  ``(x, y)`` is ``A x + B y + C`` with A, B, C depending on G2 only, and its
  denominator depends on G2 only: both are computed once per G2 point
  (``prepare``) and reused for every G1 point;
- a product of pairings shares one squaring per step of the loop;
- the final exponentiation by (q^12 - 1)/r is split as (q^6 - 1)(q^2 + 1)
  (Frobenius maps: linear maps on FQ12's coefficients, prepared once) times
  the hard part (q^4 - q^2 + 1)/r, a 762-bit power instead of a 2,790-bit one.

Tests compare it with py_ecc's pairing on random points.
"""

from __future__ import annotations

from functools import lru_cache

from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import add, double, is_inf, neg, normalize, twist
from py_ecc.optimized_bn128.optimized_pairing import linefunc, pseudo_binary_encoding

from zksolvency.constants import Q_MODULUS, R_MODULUS

HARD_EXPONENT = (Q_MODULUS**4 - Q_MODULUS**2 + 1) // R_MODULUS
assert (Q_MODULUS**4 - Q_MODULUS**2 + 1) % R_MODULUS == 0


class PreparedG2:
    """A G2 point's Miller loop, less the G1 point: each step's line as (A, B, C), and the product of denominators."""

    def __init__(self, q):
        self.steps = []  # per loop step: [(A, B, C), ..] of the lines it multiplies in (one or two)
        self.finals = []  # the two lines through Frobenius images after the loop
        if q is None or is_inf(q):
            self.trivial = True
            return
        self.trivial = False
        Q = twist(q)
        R, den = Q, FQ12.one()
        for v in pseudo_binary_encoding[63::-1]:
            lines = []
            d = _line(R, R, lines)
            den = den * den * d
            R = double(R)
            if v:
                other = Q if v == 1 else neg(Q)
                den = den * _line(R, other, lines)
                R = add(R, other)
            self.steps.append(lines)
        p = Q_MODULUS
        Q1 = (Q[0] ** p, Q[1] ** p, Q[2] ** p)
        nQ2 = (Q1[0] ** p, -(Q1[1] ** p), Q1[2] ** p)
        den = den * _line(R, Q1, self.finals)
        R = add(R, Q1)
        den = den * _line(R, nQ2, self.finals)
        self.den = den


def _line(r1, r2, out) -> FQ12:
    """Append (A, B, C) of the line through r1, r2 (py_ecc's linefunc at a point (x, y, 1)); return its denominator.

    linefunc(r1, r2, (x, y, 1)) is linear in (x, y): its value at (0, 0), (1, 0) and (0, 1) gives C, A and B.
    """
    one, zero = FQ12.one(), FQ12.zero()
    c, d = linefunc(r1, r2, (zero, zero, one))
    a = linefunc(r1, r2, (one, zero, one))[0] - c
    b = linefunc(r1, r2, (zero, one, one))[0] - c
    out.append((a, b, c))
    return d


@lru_cache(maxsize=64)
def _prepared(q_affine) -> PreparedG2:
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2

    (x0, x1), (y0, y1) = q_affine
    return PreparedG2((FQ2([x0, x1]), FQ2([y0, y1]), FQ2.one()))


def prepare(q) -> PreparedG2:
    """The prepared form of a py_ecc G2 point (cached by its affine coordinates)."""
    if q is None or is_inf(q):
        return PreparedG2(None)
    x, y = normalize(q)
    return _prepared((tuple(int(c) for c in x.coeffs), tuple(int(c) for c in y.coeffs)))


def miller_product(pairs) -> FQ12:
    """prod_i f_{Q_i}(P_i), the Miller loop values (equal to py_ecc's) of (G1 point, G2 point) pairs."""
    points = []
    for p, q in pairs:
        if p is None or is_inf(p):
            continue
        prepared = prepare(q)
        if prepared.trivial:
            continue
        x, y = normalize(p)
        points.append((int(x), int(y), prepared))
    f, den = FQ12.one(), FQ12.one()
    if not points:
        return f
    for step in range(len(points[0][2].steps)):
        f = f * f
        for x, y, prepared in points:
            for a, b, c in prepared.steps[step]:
                f = f * (a * x + b * y + c)
    for x, y, prepared in points:
        for a, b, c in prepared.finals:
            f = f * (a * x + b * y + c)
        den = den * prepared.den
    return f / den


@lru_cache(maxsize=None)
def _frobenius_basis(k: int) -> tuple:
    """(w^i)^(q^k) for i < 12, w the generator of FQ12 over Fq: f^(q^k) = sum_i f_i (w^i)^(q^k)."""
    w = FQ12([0, 1] + [0] * 10)
    wk = w ** (Q_MODULUS**k)
    out, acc = [], FQ12.one()
    for _ in range(12):
        out.append(acc)
        acc = acc * wk
    return tuple(out)


def frobenius(f: FQ12, k: int) -> FQ12:
    """f^(q^k): Frobenius fixes Fq, so it acts on FQ12's basis alone."""
    basis = _frobenius_basis(k)
    acc = FQ12.zero()
    for c, b in zip(f.coeffs, basis):
        if int(c):
            acc = acc + b * int(c)
    return acc


def final_exponentiation(f: FQ12) -> FQ12:
    """f^((q^12 - 1) / r), as f^((q^6 - 1)(q^2 + 1)) then the hard part."""
    f = frobenius(f, 6) / f
    f = frobenius(f, 2) * f
    return f**HARD_EXPONENT


def pairing_product_is_one(pairs) -> bool:
    """prod e(P_i, Q_i) == 1 for (G1 py_ecc point or None, G2 py_ecc point) pairs."""
    return final_exponentiation(miller_product(pairs)) == FQ12.one()

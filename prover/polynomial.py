"""Polynomials over Fr with their basis in the type: coefficients or evaluations on a domain.

``Polynomial`` holds coefficients (lowest degree first); ``Evaluations`` holds
values on the subgroup H of size n in natural order. Converting between them is
an NTT, so it is never forgotten or done twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from zksolvency.prover import field as fe
from zksolvency.prover.field import FR_PARAMS, Fr

F = FR_PARAMS


@njit(cache=True, parallel=True)
def _horner(coeffs, x, F):
    """p(x) by Horner in independent chunks, recombined with powers of x."""
    n = coeffs.shape[0]
    chunks = max(1, min(16, n // 4096))
    partial = np.zeros((chunks, 4), dtype=np.uint64)
    for c in prange(chunks):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        acc = fe.zero()
        for i in range(hi - 1, lo - 1, -1):
            acc = fe.add(fe.mul(acc, x, F), fe.load(coeffs, i), F)
        fe.store(partial, c, acc)
    result = fe.zero()
    for c in range(chunks - 1, -1, -1):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        # result = result * x^(hi - lo) + partial[c]
        step = fe.one(F)
        base = x
        e = hi - lo
        while e:
            if e & 1:
                step = fe.mul(step, base, F)
            base = fe.mul(base, base, F)
            e >>= 1
        result = fe.add(fe.mul(result, step, F), fe.load(partial, c), F)
    return result


@njit(cache=True)
def _divide_by_linear(coeffs, z, out, F):
    """out = (p(X) - p(z)) / (X - z); returns p(z). out has len(coeffs) - 1 entries."""
    n = coeffs.shape[0]
    acc = fe.zero()
    for i in range(n - 1, 0, -1):
        acc = fe.add(fe.mul(acc, z, F), fe.load(coeffs, i), F)
        fe.store(out, i - 1, acc)
    return fe.add(fe.mul(acc, z, F), fe.load(coeffs, 0), F)


@njit(cache=True, parallel=True)
def _axpy(acc, a, c, F):
    """acc[i] += c * a[i] over the length of a."""
    for i in prange(a.shape[0]):
        fe.store(acc, i, fe.add(fe.load(acc, i), fe.mul(fe.load(a, i), c, F), F))


@dataclass
class Polynomial:
    """Coefficients c_0 .. c_d of sum c_i X^i, as an Fr Montgomery ``(d + 1, 4)`` array."""

    coeffs: np.ndarray

    def __len__(self) -> int:
        return self.coeffs.shape[0]

    def evaluate(self, x: int) -> int:
        if len(self) == 0:
            return 0
        return Fr.to_int(_horner(self.coeffs, Fr.from_int(x), F))

    def divide_by_linear(self, z: int) -> tuple["Polynomial", int]:
        """((p - p(z)) / (X - z), p(z))."""
        out = np.zeros((max(len(self) - 1, 1), 4), dtype=np.uint64)
        value = _divide_by_linear(self.coeffs, Fr.from_int(z), out, F)
        return Polynomial(out), Fr.to_int(value)

    @staticmethod
    def linear_combination(polys, scalars) -> "Polynomial":
        """sum s_i p_i, with the length of the longest."""
        length = max(len(p) for p in polys)
        acc = np.zeros((length, 4), dtype=np.uint64)
        for p, s in zip(polys, scalars):
            _axpy(acc, p.coeffs, Fr.from_int(s), F)
        return Polynomial(acc)

    def canonical_limbs(self) -> np.ndarray:
        """Coefficients as canonical (non-Montgomery) limbs, the form MSM scalars take."""
        return Fr.to_canonical_limbs(self.coeffs)


@dataclass
class Evaluations:
    """Values on the subgroup H = {omega^i} of size n, natural order."""

    values: np.ndarray
    log_n: int

    def interpolate(self) -> Polynomial:
        from zksolvency.prover.ntt import domain

        return Polynomial(domain(self.log_n).intt(self.values))

    @staticmethod
    def of(poly: Polynomial, log_n: int) -> "Evaluations":
        from zksolvency.prover.ntt import domain

        n = 1 << log_n
        if len(poly) > n:
            raise ValueError("polynomial too long for the domain")
        coeffs = np.zeros((n, 4), dtype=np.uint64)
        coeffs[: len(poly)] = poly.coeffs
        return Evaluations(domain(log_n).ntt(coeffs), log_n)

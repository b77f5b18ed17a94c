"""Exact LLL reduction, and lattice attacks forging slot values whose linear combination hits a target modulo a prime."""

from __future__ import annotations

import random
from fractions import Fraction

# Fixed so that a failing adversarial test reproduces exactly.
_SEED = 0x5EED
_ATTEMPTS = 8


def lll(basis: list[list[int]], delta=Fraction(99, 100)) -> list[list[int]]:
    """LLL-reduce the rows of `basis` exactly and return the reduced rows.

    Integral LLL (Cohen, Algorithm 2.6.7, after de Weger): the Gram-Schmidt data is kept as
    the integers d_i = prod_{j<i} |b_j*|^2 and lambda_ij = d_j * mu_ij, so every step is exact
    integer arithmetic and all divisions are exact. The rows must be linearly independent;
    `delta` must lie in (1/4, 1].
    """
    delta = Fraction(delta)
    if not Fraction(1, 4) < delta <= 1:
        raise ValueError("delta must lie in (1/4, 1]")
    dp, dq = delta.numerator, delta.denominator
    b = [[int(x) for x in row] for row in basis]
    n = len(b)
    if n == 0:
        return b
    if len({len(row) for row in b}) != 1:
        raise ValueError("rows must have equal length")

    # d[i] is the Gram determinant of the first i rows (d[0] = 1), lam[k][j] = d[j+1] * mu_kj.
    d = [1] + [0] * n
    lam = [[0] * n for _ in range(n)]

    def gram_schmidt(k):
        bk, lk = b[k], lam[k]
        for j in range(k + 1):
            u = sum(x * y for x, y in zip(bk, b[j]))
            lj = lam[j]
            for i in range(j):
                u = (d[i + 1] * u - lk[i] * lj[i]) // d[i]
            if j < k:
                lk[j] = u
            elif u == 0:
                raise ValueError("basis rows are linearly dependent")
            else:
                d[k + 1] = u

    def size_reduce(k, l):
        lk, dl = lam[k], d[l + 1]
        if 2 * abs(lk[l]) > dl:
            q = (2 * lk[l] + dl) // (2 * dl)
            b[k] = [x - q * y for x, y in zip(b[k], b[l])]
            lk[l] -= q * dl
            ll = lam[l]
            for i in range(l):
                lk[i] -= q * ll[i]

    def swap(k):
        b[k], b[k - 1] = b[k - 1], b[k]
        lk, lk1 = lam[k], lam[k - 1]
        for j in range(k - 1):
            lk[j], lk1[j] = lk1[j], lk[j]
        la = lk[k - 1]
        dk, dk1 = d[k + 1], d[k]
        new = (d[k - 1] * dk + la * la) // dk1
        for i in range(k + 1, kmax + 1):
            li = lam[i]
            t = li[k]
            li[k] = (dk * li[k - 1] - la * t) // dk1
            li[k - 1] = (new * t + la * li[k]) // dk
        d[k] = new

    gram_schmidt(0)
    k, kmax = 1, 0
    while k < n:
        if k > kmax:
            kmax = k
            gram_schmidt(k)
        size_reduce(k, k - 1)
        # Lovasz condition fails, |b_k*|^2 < (delta - mu^2) |b_{k-1}*|^2, with denominators
        # cleared (times dq * d[k] * d[k-1]) so that only integers are compared.
        if dq * d[k + 1] * d[k - 1] < dp * d[k] * d[k] - dq * lam[k][k - 1] ** 2:
            swap(k)
            k = max(1, k - 1)
        else:
            for l in range(k - 2, -1, -1):
                size_reduce(k, l)
            k += 1
    return b


def _close_vectors(directions, offset, center, coeffs, rhs, modulus, radius, rng):
    """Candidate points offset + sum y_j directions[j] near `center`, with coeffs . y = rhs (mod modulus).

    Kannan's embedding: a row per free unknown y_j carrying its image in point space and its
    weighted coefficient, a row for the modulus, and the centred target row tagged with M.
    M is taken about the size of the box so the target row ends up reduced last, against an
    already reduced kernel (which is Babai's nearest plane); W is far larger than any vector
    of interest so that the congruence holds exactly in every short vector.
    """
    n, dim = len(directions), len(offset)
    big_m = max(1, radius)
    weight = 1 << (big_m.bit_length() + n + dim + 16)
    order = list(range(n))
    rng.shuffle(order)  # the reduced basis depends on row order; shuffling re-randomises it
    rows = [list(directions[j]) + [weight * coeffs[j], 0] for j in order]
    rows.append([0] * dim + [weight * modulus, 0])
    rows.append([o - c for o, c in zip(offset, center)] + [-weight * rhs, big_m])
    reduced = lll(rows)

    kernel = [r[:dim] for r in reduced if r[dim] == 0 and r[dim + 1] == 0]
    for r in reduced:
        if r[dim] != 0 or abs(r[dim + 1]) != big_m:
            continue
        sign = 1 if r[dim + 1] == big_m else -1
        point = [sign * x + c for x, c in zip(r[:dim], center)]
        yield point
        # A Babai point just outside the box is often one short kernel step from inside it.
        for v in kernel:
            yield [p + x for p, x in zip(point, v)]
            yield [p - x for p, x in zip(point, v)]


def forge_split(coefficients: list[int], target: int, modulus: int, total: int) -> list[int] | None:
    """Non-negative u with sum(u) == total and sum(c_i u_i) = target (mod modulus), or None.

    The sum constraint is removed by substituting u_{m-1} = total - sum(u_0..u_{m-2}); the
    remaining congruence is solved as a close-vector problem around the even split total/m.
    """
    c = [int(x) % modulus for x in coefficients]
    target, total, m = int(target) % modulus, int(total), len(c)

    def valid(u):
        return (
            len(u) == m
            and all(0 <= x <= total for x in u)
            and sum(u) == total
            and sum(ci * ui for ci, ui in zip(c, u)) % modulus == target
        )

    if total < 0 or m == 0:
        return None
    if m == 1:
        return [total] if valid([total]) else None

    n = m - 1
    last = c[-1]
    coeffs = [(ci - last) % modulus for ci in c[:n]]
    rhs = (target - last * total) % modulus
    # Each free unknown moves itself up and the last slot down by the same amount.
    directions = [[int(i == j) for i in range(n)] + [-1] for j in range(n)]
    offset = [0] * n + [total]
    radius = max(1, total // m)
    rng = random.Random(_SEED)
    for attempt in range(_ATTEMPTS):
        center = [total // m + (i < total % m) for i in range(m)]
        if attempt:
            # Move the centre inside the box (keeping its sum) to get a different close vector.
            for i in range(n):
                shift = rng.randint(-radius // 4, radius // 4)
                center[i] += shift
                center[-1] -= shift
        for u in _close_vectors(directions, offset, center, coeffs, rhs, modulus, radius, rng):
            if valid(u):
                return u
    return None


def forge_bounded(coefficients: list[int], target: int, modulus: int, bound: int) -> list[int] | None:
    """Integers 0 <= u_i < bound with sum(c_i u_i) = target (mod modulus), or None."""
    c = [int(x) % modulus for x in coefficients]
    target, bound, m = int(target) % modulus, int(bound), len(c)

    def valid(u):
        return (
            len(u) == m
            and all(0 <= x < bound for x in u)
            and sum(ci * ui for ci, ui in zip(c, u)) % modulus == target
        )

    if bound <= 0:
        return None
    if m == 0:
        return [] if target == 0 else None

    directions = [[int(i == j) for i in range(m)] for j in range(m)]
    offset = [0] * m
    radius = max(1, (bound - 1) // 2)
    rng = random.Random(_SEED)
    for attempt in range(_ATTEMPTS):
        center = [(bound - 1) // 2] * m
        if attempt:
            center = [x + rng.randint(-radius // 4, radius // 4) for x in center]
        for u in _close_vectors(directions, offset, center, c, target, modulus, radius, rng):
            if valid(u):
                return u
    return None

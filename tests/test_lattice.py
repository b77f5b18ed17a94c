"""The exact LLL reduction and the lattice forgeries built on it, checked with exact rational arithmetic."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from lattice import forge_bounded, forge_split, lll

from zksolvency.constants import R_MODULUS

SATOSHI_100_BTC = 10**10


def _gram_schmidt(basis):
    """Exact Gram-Schmidt: the orthogonalised rows and the mu coefficients."""
    ortho, mu = [], [[Fraction(0)] * len(basis) for _ in basis]
    for i, row in enumerate(basis):
        v = [Fraction(x) for x in row]
        for j, w in enumerate(ortho):
            mu[i][j] = sum(x * y for x, y in zip(row, w)) / sum(y * y for y in w)
            v = [a - mu[i][j] * c for a, c in zip(v, w)]
        ortho.append(v)
    return ortho, mu


def _assert_lll_reduced(basis, delta):
    ortho, mu = _gram_schmidt(basis)
    norms = [sum(x * x for x in v) for v in ortho]
    for i in range(len(basis)):
        assert norms[i] > 0
        for j in range(i):
            assert abs(mu[i][j]) <= Fraction(1, 2), ("size reduction", i, j)
    for k in range(1, len(basis)):
        assert norms[k] >= (delta - mu[k][k - 1] ** 2) * norms[k - 1], ("Lovasz", k)


def _solve(matrix, rhs_rows):
    """Rows x with x . matrix = rhs for a square non-singular matrix, exactly (Gauss-Jordan)."""
    n = len(matrix)
    # Solving x M = y is solving M^T x^T = y^T; augment M^T with every right-hand side.
    aug = [[Fraction(matrix[j][i]) for j in range(n)] + [Fraction(r[i]) for r in rhs_rows] for i in range(n)]
    for col in range(n):
        piv = next(i for i in range(col, n) if aug[i][col] != 0)
        aug[col], aug[piv] = aug[piv], aug[col]
        inv = 1 / aug[col][col]
        aug[col] = [x * inv for x in aug[col]]
        for i in range(n):
            if i != col and aug[i][col] != 0:
                f = aug[i][col]
                aug[i] = [a - f * b for a, b in zip(aug[i], aug[col])]
    return [[aug[i][n + k] for i in range(n)] for k in range(len(rhs_rows))]


def _det(matrix):
    m = [[Fraction(x) for x in row] for row in matrix]
    n, det = len(m), Fraction(1)
    for col in range(n):
        piv = next((i for i in range(col, n) if m[i][col] != 0), None)
        if piv is None:
            return Fraction(0)
        if piv != col:
            m[col], m[piv] = m[piv], m[col]
            det = -det
        det *= m[col][col]
        for i in range(col + 1, n):
            f = m[i][col] / m[col][col]
            m[i] = [a - f * b for a, b in zip(m[i], m[col])]
    return det


def _assert_same_lattice(original, reduced):
    # Every reduced row an integer combination of the original rows, and the same volume,
    # means the transformation is unimodular.
    assert abs(_det(reduced)) == abs(_det(original)) != 0
    for coords in _solve(original, reduced):
        assert all(x.denominator == 1 for x in coords)


def _powers(seed, m):
    """Powers of a random challenge gamma and a random opened value, as the exchange sees them."""
    rng = random.Random(seed)
    gamma, value = rng.randrange(1, R_MODULUS), rng.randrange(R_MODULUS)
    return [pow(gamma, i, R_MODULUS) for i in range(m)], value


def _combination(coefficients, u):
    return sum(c * x for c, x in zip(coefficients, u)) % R_MODULUS


@pytest.mark.parametrize("delta", [Fraction(3, 4), Fraction(99, 100), Fraction(1)])
def test_lll_on_a_known_basis(delta):
    basis = [[1, 1, 1], [-1, 0, 2], [3, 5, 6]]
    reduced = lll(basis, delta)
    _assert_lll_reduced(reduced, delta)
    _assert_same_lattice(basis, reduced)
    # The lattice has determinant 3 and contains (0, 1, 0), so its minimum is 1.
    assert sum(x * x for x in reduced[0]) == 1
    assert basis == [[1, 1, 1], [-1, 0, 2], [3, 5, 6]]


@pytest.mark.parametrize("seed", range(12))
def test_lll_on_random_bases(seed):
    rng = random.Random(seed)
    n, bits = rng.randint(2, 8), rng.choice([3, 16, 64, 260])
    while True:
        basis = [[rng.randint(-(1 << bits), 1 << bits) for _ in range(n)] for _ in range(n)]
        if _det(basis) != 0:
            break
    reduced = lll(basis)
    _assert_lll_reduced(reduced, Fraction(99, 100))
    _assert_same_lattice(basis, reduced)


def test_lll_on_a_knapsack_lattice_of_dimension_18():
    rng = random.Random(18)
    n, bits = 18, 260
    basis = [[int(i == j) for i in range(n - 1)] + [rng.getrandbits(bits)] for j in range(n - 1)]
    basis.append([0] * (n - 1) + [rng.getrandbits(bits) | 1 << (bits - 1)])
    reduced = lll(basis)
    _assert_lll_reduced(reduced, Fraction(99, 100))
    _assert_same_lattice(basis, reduced)
    # Gaussian heuristic: the shortest vector is near det^(1/n) = 2^(260/18) ~ 2^14.4.
    assert max(abs(x) for x in reduced[0]) < 1 << 18


def test_lll_rejects_dependent_rows():
    with pytest.raises(ValueError):
        lll([[1, 2, 3], [2, 4, 6]])


@pytest.mark.parametrize("seed", range(4))
def test_forge_split_with_16_slots(seed):
    coefficients, value = _powers(seed, 16)
    u = forge_split(coefficients, value, R_MODULUS, SATOSHI_100_BTC)
    assert u is not None
    assert len(u) == 16 and all(type(x) is int and 0 <= x <= SATOSHI_100_BTC for x in u)
    assert sum(u) == SATOSHI_100_BTC
    assert _combination(coefficients, u) == value


@pytest.mark.parametrize("seed", range(3))
def test_forge_split_fails_with_4_slots(seed):
    # About 2^97 ways to split 10^10 into 4 parts against 2^254 targets: no solution to find.
    coefficients, value = _powers(seed, 4)
    assert forge_split(coefficients, value, R_MODULUS, SATOSHI_100_BTC) is None


def test_forge_split_with_one_slot():
    assert forge_split([5], 5 * 7 % R_MODULUS, R_MODULUS, 7) == [7]
    assert forge_split([5], 1, R_MODULUS, 7) is None


@pytest.mark.parametrize("m,bound", [(6, 1 << 64), (16, 1 << 22)])
@pytest.mark.parametrize("seed", range(3))
def test_forge_bounded(m, bound, seed):
    coefficients, value = _powers(100 + seed, m)
    u = forge_bounded(coefficients, value, R_MODULUS, bound)
    assert u is not None
    assert len(u) == m and all(type(x) is int and 0 <= x < bound for x in u)
    assert _combination(coefficients, u) == value


def test_forge_bounded_fails_when_the_box_is_too_small():
    # 3 slots below 2^32 reach at most 2^96 of the 2^254 residues.
    coefficients, value = _powers(9, 3)
    assert forge_bounded(coefficients, value, R_MODULUS, 1 << 32) is None

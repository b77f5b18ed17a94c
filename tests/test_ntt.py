"""NTTs over Fr against galois: values on H and its cosets, interpolation, both implementations.

The reference does not use the module under test: galois's GF(r), its primitive
2^k-th root of unity and its polynomial evaluation. Each transform runs on the
AVX-512 IFMA vector implementation (where the CPU has it) and on the scalar one,
forced in turn; a spy on the two kernels checks which one actually ran.
"""

from __future__ import annotations

import contextlib
import functools
import random

import galois
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zksolvency.constants import R_MODULUS
from zksolvency.prover import ntt
from zksolvency.prover.field import Fr

P = R_MODULUS
TRANSFORMS = ("ntt", "intt", "coset_ntt", "coset_intt")
# Above this size the galois reference is evaluated at a sample of the points (it costs n^2).
FULL_REFERENCE_LOG_SIZE = 9
SAMPLED_POINTS = 192

needs_simd = pytest.mark.skipif(not ntt.SIMD_AVAILABLE, reason="this CPU has no AVX-512 IFMA")


def _path_params(log_sizes):
    """(log_n, path) pairs: the scalar path at every size, the vector path from its smallest size."""
    out = []
    for log_n in log_sizes:
        out.append(pytest.param(log_n, "scalar", id=f"2^{log_n}-scalar"))
        if log_n >= ntt.SIMD_MIN_LOG_SIZE:
            out.append(pytest.param(log_n, "simd", id=f"2^{log_n}-simd", marks=needs_simd))
    return out


def _expected_kernel(path: str, log_n: int) -> str:
    return "simd" if path == "simd" and log_n >= ntt.SIMD_MIN_LOG_SIZE else "scalar"


@contextlib.contextmanager
def forced(path: str):
    """Run the transforms on one implementation; yields the list of kernels that ran, in order."""
    if path == "simd" and not ntt.SIMD_AVAILABLE:
        pytest.skip("this CPU has no AVX-512 IFMA")
    ran = []

    def spy(name, kernel):
        def run(*args, **kwargs):
            ran.append(name)
            return kernel(*args, **kwargs)

        return run

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ntt, "SIMD_AVAILABLE", path == "simd")
        mp.setattr(ntt, "_simd_transform", spy("simd", ntt._simd_transform))
        mp.setattr(ntt, "_scalar_transform", spy("scalar", ntt._scalar_transform))
        yield ran


def run_all(d: ntt.Domain, a: np.ndarray, shift: int, path: str) -> dict:
    """The four transforms of ``a`` on one implementation; checks the kernel used and that ``a`` is untouched."""
    before = a.copy()
    with forced(path) as ran:
        out = {
            "ntt": d.ntt(a),
            "intt": d.intt(a),
            "coset_ntt": d.coset_ntt(a, shift),
            "coset_intt": d.coset_intt(a, shift),
        }
    assert ran == [_expected_kernel(path, d.log_size)] * 4
    assert np.array_equal(a, before), "a transform modified its input"
    return out


# ---------------------------------------------------------------- the reference


def subgroup(gf, log_n: int):
    """H = {omega^i : i < n} in natural order, omega galois's primitive n-th root of unity."""
    return gf.primitive_root_of_unity(1 << log_n) ** np.arange(1 << log_n)


def evaluate(gf, coeffs, points) -> list:
    """The polynomial sum_j coeffs[j] X^j at each point (galois)."""
    return [int(v) for v in galois.Poly(list(coeffs)[::-1], field=gf)(points)]


def check_interpolation(gf, log_n: int, values, shift: int, results: dict) -> None:
    """intt(v) and coset_intt(v) are polynomials taking the values v on H and on shift * H."""
    H = subgroup(gf, log_n)
    assert evaluate(gf, Fr.to_ints(results["intt"]), H) == list(values)
    assert evaluate(gf, Fr.to_ints(results["coset_intt"]), gf(shift) * H) == list(values)


def checked_indices(log_n: int, rng: random.Random) -> list:
    n = 1 << log_n
    if log_n <= FULL_REFERENCE_LOG_SIZE:
        return list(range(n))
    ends = {0, 1, n // 2 - 1, n // 2, n - 1}
    return sorted(ends | set(rng.sample(range(n), SAMPLED_POINTS - len(ends))))


@functools.cache
def random_case(gf, log_n: int):
    """Seeded random elements x, a random shift s, the indices I checked, and from galois alone
    what each transform of x must hold at I:

    ntt: x(w^i); coset_ntt: x(s w^i); intt: (1/n) sum_i x_i w^(-ij) = x(w^-j) / n;
    coset_intt: s^-j x(w^-j) / n (the inverse transform, then a_j divided by s^j).
    """
    rng = random.Random(1000 + log_n)
    n = 1 << log_n
    x = [rng.randrange(P) for _ in range(n)]
    shift = rng.randrange(2, P)
    indices = checked_indices(log_n, rng)
    points = subgroup(gf, log_n)[indices]
    s, inv_n = gf(shift), gf(n) ** -1
    at_inverses = gf(evaluate(gf, x, points**-1))
    expected = {
        "ntt": evaluate(gf, x, points),
        "coset_ntt": evaluate(gf, x, s * points),
        "intt": [int(v) for v in inv_n * at_inverses],
        "coset_intt": [int(v) for v in inv_n * s ** -np.array(indices) * at_inverses],
    }
    return x, shift, indices, expected


@pytest.mark.parametrize(("log_n", "path"), _path_params(range(11)))
def test_transforms_match_galois(gf_r, log_n, path):
    """Values on H and shift * H, inverse transforms, round trips: 2^0 .. 2^10, each implementation."""
    x, shift, indices, expected = random_case(gf_r, log_n)
    a = Fr.from_ints(x)
    d = ntt.domain(log_n)
    results = run_all(d, a, shift, path)
    for name in TRANSFORMS:
        got = Fr.to_ints(results[name])
        assert [got[i] for i in indices] == expected[name], name
    # Round trips, on the same implementation.
    with forced(path):
        assert np.array_equal(d.intt(results["ntt"]), a)
        assert np.array_equal(d.coset_intt(results["coset_ntt"], shift), a)
        assert np.array_equal(d.ntt(results["intt"]), a)
        assert np.array_equal(d.coset_ntt(results["coset_intt"], shift), a)


_element = st.one_of(st.sampled_from([0, 1, 2, P - 2, P - 1, (P - 1) // 2]), st.integers(0, P - 1))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    log_n=st.integers(0, 7),
    shift=st.one_of(st.sampled_from([1, 2, P - 1, ntt.COSET_SHIFT]), st.integers(1, P - 1)),
    path=st.sampled_from(["scalar", "simd"] if ntt.SIMD_AVAILABLE else ["scalar"]),
)
def test_small_transforms_match_galois_property(gf_r, data, log_n, shift, path):
    """Any elements, any non-zero shift, sizes 2^0 .. 2^7, either implementation."""
    n = 1 << log_n
    coeffs = data.draw(st.lists(_element, min_size=n, max_size=n), label="coeffs")
    d = ntt.domain(log_n)
    a = Fr.from_ints(coeffs)
    results = run_all(d, a, shift, path)
    H = subgroup(gf_r, log_n)
    assert Fr.to_ints(results["ntt"]) == evaluate(gf_r, coeffs, H)
    assert Fr.to_ints(results["coset_ntt"]) == evaluate(gf_r, coeffs, gf_r(shift) * H)
    check_interpolation(gf_r, log_n, coeffs, shift, results)


# ---------------------------------------------------------------- edge inputs, in closed form


@pytest.mark.parametrize(("log_n", "path"), _path_params([*range(11), 12]))
def test_edge_inputs(gf_r, log_n, path):
    """All zeros, all p - 1, a single 1: each transform has a closed form."""
    n = 1 << log_n
    d = ntt.domain(log_n)
    shift = 7
    s = gf_r(shift)
    H = subgroup(gf_r, log_n)
    one, inv_n = gf_r(1), gf_r(n) ** -1

    def ints(values):
        return [int(v) for v in np.broadcast_to(values, (n,))]

    # All zeros: every transform of 0 is 0.
    for name, out in run_all(d, Fr.zeros(n), shift, path).items():
        assert not out.any(), name

    # All p - 1, the polynomial -(1 + X + ... + X^{n-1}): -n at X = 1, 0 elsewhere on H,
    # -(s^n - 1) / (s w^i - 1) on the coset; as values, the constant -1.
    out = run_all(d, Fr.from_ints([P - 1] * n), shift, path)
    minus_one = [P - 1] + [0] * (n - 1)
    assert Fr.to_ints(out["ntt"]) == [P - n] + [0] * (n - 1)
    assert Fr.to_ints(out["coset_ntt"]) == ints(-(s**n - one) / (s * H - one))
    assert Fr.to_ints(out["intt"]) == minus_one
    assert Fr.to_ints(out["coset_intt"]) == minus_one

    # A single 1 at index m, the monomial X^m: values (w^i)^m, (s w^i)^m; as values, the
    # interpolant (1/n) sum_j (X / (t w^m))^j with t = 1 on H and t = s on the coset.
    for m in sorted({m % n for m in (0, 1, n // 2, n - 1)}):
        e = Fr.zeros(n)
        e[m] = Fr.from_ints([1])[0]
        out = run_all(d, e, shift, path)
        j = np.arange(n)
        w_m = H[m]
        assert Fr.to_ints(out["ntt"]) == ints(H**m)
        assert Fr.to_ints(out["coset_ntt"]) == ints((s * H) ** m)
        assert Fr.to_ints(out["intt"]) == ints(inv_n * (w_m**-1) ** j)
        assert Fr.to_ints(out["coset_intt"]) == ints(inv_n * ((s * w_m) ** -1) ** j)


# ---------------------------------------------------------------- the two implementations


@needs_simd
@pytest.mark.parametrize("log_n", [12, 14])
def test_vector_and_scalar_implementations_agree(log_n):
    """Byte for byte, on every transform (the scalar one is the CPU-independent fallback)."""
    d = ntt.domain(log_n)
    a = Fr.random(1 << log_n, np.random.default_rng(log_n))
    shift = random.Random(log_n).randrange(2, P)
    vector = run_all(d, a, shift, "simd")
    scalar = run_all(d, a, shift, "scalar")
    for name in TRANSFORMS:
        assert np.array_equal(vector[name], scalar[name]), name


@needs_simd
@pytest.mark.parametrize(("log_n", "max_log_block", "max_log_tile"), [(10, 3, 2), (10, 4, 3), (9, 3, 4), (12, 5, 3)])
def test_vector_transform_in_several_passes(log_n, max_log_block, max_log_tile):
    """Schedules with several column passes (used by default only from 2^21) against the scalar path."""
    plan = ntt._SimdPlan(log_n, max_log_block=max_log_block, max_log_tile=max_log_tile)
    assert len(plan.passes) > 1
    d = ntt.Domain(log_n)  # a private domain: the cached one keeps its default plan
    d._simd_plan = plan
    a = Fr.random(1 << log_n, np.random.default_rng(log_n + max_log_tile))
    shift = 3 + max_log_block
    vector = run_all(d, a, shift, "simd")
    scalar = run_all(ntt.domain(log_n), a, shift, "scalar")
    for name in TRANSFORMS:
        assert np.array_equal(vector[name], scalar[name]), name


# ---------------------------------------------------------------- the interface


def test_default_shift_is_the_multiplicative_generator(gf_r):
    assert ntt.COSET_SHIFT == int(gf_r.primitive_element)
    d = ntt.domain(5)
    a = Fr.random(32, np.random.default_rng(5))
    assert np.array_equal(d.coset_ntt(a), d.coset_ntt(a, ntt.COSET_SHIFT))
    assert np.array_equal(d.coset_intt(a), d.coset_intt(a, ntt.COSET_SHIFT))


def test_shifts_are_taken_mod_r_and_may_lie_in_h():
    """A shift in H makes the coset H itself: shift omega rotates the values by one."""
    d = ntt.domain(6)
    a = Fr.random(64, np.random.default_rng(6))
    values = d.ntt(a)
    assert np.array_equal(d.coset_ntt(a, 1), values)
    assert np.array_equal(d.coset_ntt(a, d.omega), np.roll(values, -1, axis=0))
    assert np.array_equal(d.coset_intt(np.roll(values, -1, axis=0), d.omega), a)
    assert np.array_equal(d.coset_ntt(a, 7 + P), d.coset_ntt(a, 7))
    assert np.array_equal(d.coset_ntt(a, -1), d.coset_ntt(a, P - 1))


@pytest.mark.parametrize("shift", [0, P, -P, 2 * P])
@pytest.mark.parametrize("name", ["coset_ntt", "coset_intt"])
def test_zero_shift_is_refused(name, shift):
    d = ntt.domain(4)
    with pytest.raises(ValueError, match="shift"):
        getattr(d, name)(Fr.random(16, np.random.default_rng(0)), shift)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((8, 4), dtype=np.uint64),  # another size
        np.zeros((32, 4), dtype=np.uint64),
        np.zeros((16, 3), dtype=np.uint64),  # not four limbs
        np.zeros((16,), dtype=np.uint64),
        np.zeros((16, 4, 1), dtype=np.uint64),
        np.zeros((16, 4), dtype=np.int64),  # not uint64
        np.zeros((16, 4), dtype=np.uint32),
        np.zeros((16, 4), dtype=np.float64),
        np.zeros((16, 4), dtype=object),
        [[0, 0, 0, 0]] * 16,  # a list becomes int64
    ],
    ids=["n8", "n32", "limbs3", "1d", "3d", "int64", "uint32", "float64", "object", "list"],
)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_bad_arrays_are_refused(name, bad):
    with pytest.raises(ValueError):
        getattr(ntt.domain(4), name)(bad)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_out_argument(name):
    d = ntt.domain(7)
    a = Fr.random(128, np.random.default_rng(7))
    expected = getattr(d, name)(a)
    out = np.empty_like(a)
    assert getattr(d, name)(a, out=out) is out
    assert np.array_equal(out, expected)
    for bad in (np.empty((64, 4), dtype=np.uint64), np.empty((128, 4), dtype=np.int64),
                np.empty((4, 128), dtype=np.uint64).T, a, a[:]):
        with pytest.raises(ValueError):
            getattr(d, name)(a, out=bad)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_non_contiguous_inputs_are_read_correctly(name):
    d = ntt.domain(7)
    a = Fr.random(256, np.random.default_rng(8))
    strided = a[::2]
    fortran = np.asfortranarray(a[:128])
    assert not strided.flags.c_contiguous and not fortran.flags.c_contiguous
    assert np.array_equal(getattr(d, name)(strided), getattr(d, name)(np.ascontiguousarray(strided)))
    assert np.array_equal(getattr(d, name)(fortran), getattr(d, name)(a[:128].copy()))


@pytest.mark.parametrize("log_size", [-1, ntt.MAX_LOG_SIZE + 1])
def test_sizes_without_a_subgroup_are_refused(log_size):
    with pytest.raises(ValueError):
        ntt.Domain(log_size)

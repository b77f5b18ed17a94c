"""All n KZG openings of one polynomial at the points of H, in O(n log n) group operations.

For p of degree <= n + 2 (a column blinded by Z_H(X) B(X), deg B <= 2), the
opening at w^i (w generating H, |H| = n) is pi_i = [q_i(tau)]_1 with
q_i = (p - p(w^i)) / (X - w^i). Split p = f + Z_H B with f = p mod (X^n - 1)
(deg f < n; f[k] = p[k] + p[k + n]) and B = p[n:]. Since Z_H(w^i) = 0,

    q_i = (f - f(w^i)) / (X - w^i) + B(X) Z_H(X) / (X - w^i).

The first term, for every i at once, is Feist–Khovratovich (eprint 2023/033):
with s_m = [tau^m]_1,

    pi_i^f = sum_l h_l w^(i l),   h_l = sum_{m >= 0} f_(l + 1 + m) s_m   (l < n - 1, h_(n-1) = 0),

h is a Toeplitz product, read off the cyclic convolution of length 2n of f
with the reversed powers s^rev_t = s_(n-2-t): h_l = c_(l + n - 1). So
h = G1-IDFT_2n(DFT_2n(f) * S) (its upper half), S = G1-DFT_2n(s^rev), and
pi = G1-DFT_n(h). S depends on the SRS only. Taking the upper half and
transforming again is linear in Y = DFT_2n(f) * S: with u = w_2n,

    pi_i^f = Y'_2i + sum_t Y'_(2t+1) kappa(i - t),   kappa(d) = 1 / (1 - u^(2d - 1)),

where Y'_k = sigma_k S_k, sigma_k = DFT_2n(f)_k u^k times 1/2 (k even) or -1/n
(k odd) (``_fk_scalars``). The sum is a cyclic convolution of size n, done as
G1-IDFT_n(DFT_n(kappa) / n * G1-DFT_n(Y'_odd)): two G1 transforms of size n
instead of one of 2n and one of n.

The second term: B(X) Z_H(X) / (X - w^i) = B(w^i) Z_H(X) / (X - w^i)
+ Z_H(X) (B_1 + B_2 (X + w^i)). With E_i = [Z_H(tau) / (tau - w^i)]_1 =
sum_{k < n} w^(-i (k + 1)) s_k and S_2i = sum_{k <= n-2} w^(-i (k + 2)) s_k,
E_i = w^i S_2i + s_(n-1), hence

    pi_i^B = B(w^i) w^i S_2i + c_0 + w^i c_1 + w^(2i) c_2,

c_0 = B_0 s_(n-1) + B_1 Z + B_2 T, c_1 = B_1 s_(n-1) + B_2 Z, c_2 = B_2 s_(n-1),
Z = [Z_H(tau)]_1 = s_n - s_0, T = [tau Z_H(tau)]_1 = s_(n+1) - s_1. The first
part joins the scalar sigma_2i; c_0, c_1, c_2 enter the inverse transform at
positions 0, n - 1 and n - 2 (there w^(-i k) is 1, w^i, w^(2i)). Blinding
costs three small multi-scalar multiplications.

The SRS-only transform S is computed once per SRS digest and size, kept in
memory and on disk (``ZKSOLVENCY_CACHE_DIR``, default ``~/.cache/zksolvency``),
each file checked against a digest of its content when read.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.files import cache_dir, write_atomic
from zksolvency.prover import g1, g1_fft
from zksolvency.prover.field import LIMBS, Fr
from zksolvency.prover.kzg import open_at
from zksolvency.prover.msm import msm_affine
from zksolvency.prover.ntt import domain
from zksolvency.prover.polynomial import Polynomial
from zksolvency.verifier.plonk import domain_generator

CACHE_FORMAT = b"zksolvency/fk-cache/v2"
BLINDING_COEFFICIENTS = 3  # deg B <= 2
MIN_LOG_N = 2  # below, B = p[n:] is not the quotient by X^n - 1; openings are taken one by one
_MEMORY_ENTRIES = 4
_memory: OrderedDict = OrderedDict()


def _cache_path(srs_digest: bytes, log_n: int) -> Path:
    return cache_dir() / f"fk-{srs_digest.hex()[:32]}-{log_n}.npy"


def _content_digest(a: np.ndarray) -> bytes:
    return hashlib.sha256(CACHE_FORMAT + a.tobytes()).digest()


def _load(path: Path, shape) -> np.ndarray | None:
    """The cached array, or None if the file is missing, of the wrong size, or not what was written."""
    try:
        with open(path, "rb") as f:
            digest = f.read(32)
            data = np.fromfile(f, dtype="<u8")
    except OSError:
        return None
    if data.size != int(np.prod(shape)):
        return None
    data = data.astype(np.uint64, copy=False).reshape(shape)
    return data if _content_digest(data) == digest else None


def _store(path: Path, a: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _content_digest(a), np.ascontiguousarray(a, dtype="<u8").tobytes())
    except OSError:
        pass  # the cache is an optimisation only


def srs_transforms(srs, log_n: int, progress=None) -> np.ndarray:
    """S = G1-DFT_2n of the reversed powers s_(n-2), .., s_0 (zero-padded): ``(2n, 2, 4)`` affine."""
    n = 1 << log_n
    key = (srs.digest, log_n)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]
    powers = srs.g1_powers
    if powers.shape[0] < n + 2:
        raise ValueError(f"the SRS has {powers.shape[0]} powers; all openings at 2^{log_n} rows need {n + 2}")
    shape = (2 * n, 2, LIMBS)
    path = _cache_path(srs.digest, log_n)
    s_hat = _load(path, shape)
    if s_hat is None:
        if progress:
            progress(f"SRS transform of 2^{log_n + 1} points (once per SRS and size)")
        reversed_powers = g1.infinity(2 * n)
        reversed_powers[: n - 1] = powers[n - 2 :: -1]
        s_hat = g1_fft.transform(reversed_powers)
        _store(path, s_hat)
    _memory[key] = s_hat
    while len(_memory) > _MEMORY_ENTRIES:
        _memory.popitem(last=False)
    return s_hat


def all_openings(srs, poly: Polynomial, log_n: int, progress=None) -> np.ndarray:
    """pi_i for every i < n as affine ``(n, 2, 4)`` (see the module docstring)."""
    n = 1 << log_n
    if len(poly) > n + BLINDING_COEFFICIENTS:
        raise ValueError(f"all openings take polynomials of degree <= n + 2, got {len(poly) - 1}")
    if log_n < MIN_LOG_N:
        return g1.from_g1points([single_opening(srs, poly, log_n, i) for i in range(n)])
    say = progress or (lambda message: None)
    s_hat = srs_transforms(srs, log_n, progress)

    coeffs = np.zeros((n + BLINDING_COEFFICIENTS, LIMBS), dtype=np.uint64)
    coeffs[: len(poly)] = poly.coeffs
    f = coeffs[:n].copy()
    f[:BLINDING_COEFFICIENTS] = Fr.add(f[:BLINDING_COEFFICIENTS], coeffs[n:])
    b = coeffs[n:]
    blinded = bool(b.any())

    say("all openings: scalars")
    sigma = _fk_scalars(f, log_n)
    if blinded:
        sigma[0::2] = Fr.add(sigma[0::2], _x_times(b, log_n))
    say(f"all openings: 2^{log_n + 1} products with the SRS transform")
    y = g1_fft.multiply_pointwise(s_hat, Fr.to_canonical_limbs(sigma))
    say(f"all openings: convolution of 2^{log_n} points")
    odd = g1_fft.transform(np.ascontiguousarray(y[1::2]))
    odd = g1_fft.multiply_pointwise(odd, Fr.to_canonical_limbs(_kernel_transform(log_n)))
    if blinded:
        at = [0, n - 1, n - 2]
        odd[at] = g1.add(odd[at], _blinding_points(srs.g1_powers, n, Fr.to_ints(b)))
    odd = g1_fft.transform(odd, inverse=True)
    return g1.add(np.ascontiguousarray(y[0::2]), odd)


def _x_times(b: np.ndarray, log_n: int) -> np.ndarray:
    """w^i B(w^i) for i < n: the values on H of X B(X) (Montgomery coefficients b, n >= 4)."""
    n = 1 << log_n
    coeffs = np.zeros((n, LIMBS), dtype=np.uint64)
    coeffs[1 : 1 + BLINDING_COEFFICIENTS] = b
    return domain(log_n).ntt(coeffs)


def _blinding_points(powers: np.ndarray, n: int, b: list) -> np.ndarray:
    """c_0, c_1, c_2 of the module docstring, affine ``(3, 2, 4)``."""
    b0, b1, b2 = b
    s = {k: powers[k] for k in (0, 1, n - 1, n, n + 1)}
    terms = [
        [(s[n - 1], b0), (s[n], b1), (s[0], -b1), (s[n + 1], b2), (s[1], -b2)],
        [(s[n - 1], b1), (s[n], b2), (s[0], -b2)],
        [(s[n - 1], b2)],
    ]
    out = np.empty((3, 2, LIMBS), dtype=np.uint64)
    for j, pairs in enumerate(terms):
        points = np.stack([p for p, _ in pairs])
        out[j] = msm_affine(points, Fr.canonical_limbs([k for _, k in pairs]))
    return out


def _fk_scalars(f: np.ndarray, log_n: int) -> np.ndarray:
    """sigma_k = DFT_2n(f)_k u^k (1/2 for even k, -1/n for odd k), u = omega_2n.

    With Y'_k = sigma_k S_k (S = G1-DFT_2n of the reversed powers), the openings are
    pi_i = Y'_2i + sum_t Y'_(2t+1) kappa(i - t), kappa(d) = 1 / (1 - u^(2d - 1)):
    h = (upper half of IDFT_2n(DFT_2n(f) S)) and pi = DFT_n(h) give, summed over
    l < n, n at k = 2i, 0 at other even k, and 2 / (1 - u^(2i - k)) at odd k,
    with u^(-(n - 1) k) = u^k for even and -u^k for odd k.
    """
    n = 1 << log_n
    padded = np.zeros((2 * n, LIMBS), dtype=np.uint64)
    padded[:n] = f
    d = domain(log_n + 1)
    factors = np.empty((2 * n, LIMBS), dtype=np.uint64)
    factors[0::2] = Fr.from_ints([pow(2, -1, R_MODULUS)])[0]
    factors[1::2] = Fr.from_ints([R_MODULUS - pow(n, -1, R_MODULUS)])[0]
    return Fr.mul(Fr.mul(d.ntt(padded), d.elements()), factors)


def _kernel_transform(log_n: int) -> np.ndarray:
    """DFT_n(kappa) / n, kappa(d) = 1 / (1 - u^(2d - 1)) with u = omega_2n: the convolution's kernel."""
    n = 1 << log_n
    u_powers = domain(log_n + 1).elements()
    # u^(2d - 1) = u_powers[(2d - 1) mod 2n]
    odd_powers = np.roll(u_powers, 1, axis=0)[0::2]
    kappa = Fr.batch_inverse(Fr.sub(Fr.ones(n), odd_powers))
    return Fr.scale(domain(log_n).ntt(kappa), pow(n, -1, R_MODULUS))


def single_opening(srs, poly: Polynomial, log_n: int, row: int) -> G1Point:
    """pi_row by one MSM: the check on ``all_openings``, and a single proof on demand."""
    _, witness = open_at(srs, poly, pow(domain_generator(log_n), row, R_MODULUS))
    return witness

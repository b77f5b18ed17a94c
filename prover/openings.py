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
h = G1-IDFT_2n( DFT_2n(f) * G1-DFT_2n(s^rev) ) (its upper half), then
pi = G1-DFT_n(h). The G1 transform of s^rev depends on the SRS only. Taking
the upper half and transforming again is linear in Y = DFT_2n(f) * S: its even
entries give pi directly and its odd ones enter through one cyclic convolution
of size n (``_fk_scalars``), so two G1 transforms of size n replace one of 2n
and one of n (a third less work).

The second term: B(X) Z_H(X) / (X - w^i) = B(w^i) Z_H(X) / (X - w^i)
+ Z_H(X) (B_1 + B_2 (X + w^i)), so with E_i = [Z_H(tau) / (tau - w^i)]_1 =
sum_{k < n} w^(-i (k + 1)) s_k (again SRS-only: w^-i times a G1 transform),

    pi_i^B = B(w^i) w^(-i) D_i + B_2 w^i [Z_H(tau)] + [(B_1 + B_2 tau) Z_H(tau)],

D = G1-IDFT_n(s_0 .. s_(n-1)) (unscaled), [Z_H(tau)] = s_n - s_0, [tau Z_H(tau)] = s_(n+1) - s_1.

SRS-only transforms are computed once per SRS digest and size, kept in
memory and on disk (``ZKSOLVENCY_CACHE_DIR``, default ``~/.cache/zksolvency``),
each file checked against a digest of its content when read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.files import write_atomic
from zksolvency.prover import g1, g1_fft
from zksolvency.prover.field import LIMBS, Fr
from zksolvency.prover.kzg import open_at
from zksolvency.prover.ntt import domain
from zksolvency.prover.polynomial import Polynomial
from zksolvency.prover.srs import fixed_base_multiply
from zksolvency.verifier.plonk import domain_generator

CACHE_FORMAT = b"zksolvency/fk-cache/v1"
_memory: dict = {}


def cache_dir() -> Path:
    return Path(os.environ.get("ZKSOLVENCY_CACHE_DIR") or Path.home() / ".cache" / "zksolvency")


def _cache_path(srs_digest: bytes, log_n: int) -> Path:
    return cache_dir() / f"fk-{srs_digest.hex()[:32]}-{log_n}.npy"


def _content_digest(a: np.ndarray) -> bytes:
    return hashlib.sha256(CACHE_FORMAT + a.tobytes()).digest()


def _load(path: Path, shape) -> np.ndarray | None:
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
    """``(3n, 2, 4)``: G1-DFT_2n of the reversed powers (2n points), then D (n points)."""
    n = 1 << log_n
    key = (srs.digest, log_n)
    if key in _memory:
        return _memory[key]
    shape = (3 * n, 2, LIMBS)
    path = _cache_path(srs.digest, log_n)
    cached = _load(path, shape)
    if cached is None:
        say = progress or (lambda message: None)
        powers = srs.g1_powers
        if powers.shape[0] < n + 2:
            raise ValueError(f"the SRS has {powers.shape[0]} powers; all openings at 2^{log_n} rows need {n + 2}")
        reversed_powers = g1.infinity(2 * n)
        reversed_powers[: n - 1] = powers[n - 2 :: -1]
        say(f"SRS transform of 2^{log_n + 1} points (once per SRS and size)")
        s_hat = g1_fft.transform(reversed_powers)
        say(f"SRS transform of 2^{log_n} points (once per SRS and size)")
        d = g1_fft.transform(np.ascontiguousarray(powers[:n]), inverse=True)
        cached = np.concatenate([s_hat, d])
        _store(path, cached)
    _memory[key] = cached
    return cached


def all_openings(srs, poly: Polynomial, log_n: int, progress=None) -> np.ndarray:
    """pi_i for every i < n as affine ``(n, 2, 4)`` (see the module docstring)."""
    n = 1 << log_n
    if len(poly) > n + 3:
        raise ValueError(f"all openings take polynomials of degree <= n + 2, got {len(poly) - 1}")
    say = progress or (lambda message: None)
    transforms = srs_transforms(srs, log_n, progress)
    s_hat, d_points = transforms[: 2 * n], transforms[2 * n :]

    coeffs = np.zeros((n + 3, LIMBS), dtype=np.uint64)
    coeffs[: len(poly)] = poly.coeffs
    f = coeffs[:n].copy()
    f[:3] = Fr.add(f[:3], coeffs[n : n + 3])
    b = Fr.to_ints(coeffs[n : n + 3])

    # Feist–Khovratovich for f, with the inverse transform of size 2n and the transform of
    # size n merged into one cyclic convolution of size n (see _fk_scalars and the docstring).
    say("all openings: scalar transforms")
    y = g1_fft.multiply_pointwise(s_hat, Fr.to_canonical_limbs(_fk_scalars(f, log_n)))
    say(f"all openings: convolution of 2^{log_n} points")
    odd = g1_fft.transform(np.ascontiguousarray(y[1::2]))
    odd = g1_fft.multiply_pointwise(odd, Fr.to_canonical_limbs(_kernel_transform(log_n)))
    odd = g1_fft.transform(odd, inverse=True)
    pi = g1.add(np.ascontiguousarray(y[0::2]), odd)

    # The blinding part: B(w^i) w^-i D_i + B_2 w^i [Z_H(tau)] + [(B_1 + B_2 tau) Z_H(tau)].
    if any(b):
        say("all openings: the blinding term")
        d = domain(log_n)
        b_on_h = d.ntt(np.concatenate([Fr.from_ints(b), np.zeros((n - 3, LIMBS), dtype=np.uint64)]))
        w_powers = d.ntt(np.concatenate([Fr.zeros(1), Fr.ones(1), np.zeros((n - 2, LIMBS), dtype=np.uint64)]))
        # w_powers[i] = w^i (the polynomial X on H); w^-i = w^(n - i).
        w_minus = np.roll(w_powers[::-1], 1, axis=0)
        blind_d = g1_fft.multiply_pointwise(d_points, Fr.to_canonical_limbs(Fr.mul(b_on_h, w_minus)))
        powers = srs.g1_powers
        z_h = g1.add(powers[n : n + 1], g1.negate(powers[0:1]))
        tau_z_h = g1.add(powers[n + 1 : n + 2], g1.negate(powers[1:2]))
        b2_w = Fr.to_canonical_limbs(Fr.scale(w_powers, b[2]))
        shifted = fixed_base_multiply(z_h[0], b2_w)
        constant = g1.add(
            g1_fft.multiply_pointwise(z_h, Fr.canonical_limbs([b[1]])),
            g1_fft.multiply_pointwise(tau_z_h, Fr.canonical_limbs([b[2]])),
        )
        blind = g1.add(blind_d, shifted)
        blind = g1.add(blind, np.repeat(constant, n, axis=0))
        pi = g1.add(pi, blind)
    return pi


def _fk_scalars(f: np.ndarray, log_n: int) -> np.ndarray:
    """s_k = DFT_2n(f)_k u^k (1/2 for even k, -1/n for odd k), u = omega_2n.

    With Y_k = s_k S_k (S = G1-DFT_2n of the reversed powers), the openings are
    pi_i = Y_2i + sum_t Y_(2t+1) kappa(i - t), kappa(d) = 1 / (1 - u^(2d - 1)):
    h = (upper half of IDFT_2n(DFT_2n(f) S)) and pi = DFT_n(h) give, summed over
    l < n, n at k = 2i, 0 at other even k, and 2 / (1 - u^(2i - k)) at odd k,
    with u^(-(n - 1) k) = u^k for even and -u^k for odd k.
    """
    n = 1 << log_n
    padded = np.zeros((2 * n, LIMBS), dtype=np.uint64)
    padded[:n] = f
    d = domain(log_n + 1)
    u_powers = d.ntt(np.concatenate([Fr.zeros(1), Fr.ones(1), np.zeros((2 * n - 2, LIMBS), dtype=np.uint64)]))
    factors = np.empty((2 * n, LIMBS), dtype=np.uint64)
    factors[0::2] = Fr.from_ints([pow(2, -1, R_MODULUS)])[0]
    factors[1::2] = Fr.from_ints([R_MODULUS - pow(n, -1, R_MODULUS)])[0]
    return Fr.mul(Fr.mul(d.ntt(padded), u_powers), factors)


def _kernel_transform(log_n: int) -> np.ndarray:
    """DFT_n(kappa) / n, kappa(d) = 1 / (1 - u^(2d - 1)) with u = omega_2n: the convolution's kernel."""
    n = 1 << log_n
    d2 = domain(log_n + 1)
    u_powers = d2.ntt(np.concatenate([Fr.zeros(1), Fr.ones(1), np.zeros((2 * n - 2, LIMBS), dtype=np.uint64)]))
    # u^(2d - 1) = u_powers[(2d - 1) mod 2n]
    odd_powers = np.roll(u_powers, 1, axis=0)[0::2]
    kappa = Fr.batch_inverse(Fr.sub(Fr.ones(n), odd_powers))
    return Fr.scale(domain(log_n).ntt(kappa), pow(n, -1, R_MODULUS))


def single_opening(srs, poly: Polynomial, log_n: int, row: int) -> G1Point:
    """pi_row by one MSM: the check on ``all_openings``, and a single proof on demand."""
    _, witness = open_at(srs, poly, pow(domain_generator(log_n), row, R_MODULUS))
    return witness

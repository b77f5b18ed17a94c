"""The structured reference string: powers [tau^i]_1 with [1]_2 and [tau]_2, imported from a ceremony or made insecurely for tests, checked, and stored.

Sources:

- ``import_ptau``: a snarkjs / Perpetual Powers of Tau ``.ptau`` file (the
  Hermez ceremony files are the usual choice). Every imported point is checked
  (see ``check_powers``) before anything is written.
- ``dev_setup``: tau derived from a seed by hashing, so anyone who knows the
  seed can forge proofs. The SRS is marked insecure and so is every verifying
  key made from it.

Size: a circuit of n = 2^k rows commits to polynomials of degree up to n + 2
(a column of degree n - 1 plus Z_H(X) times a blinding polynomial of degree 2:
a column is seen through its commitment and up to two evaluations, so three
random coefficients hide it), so it needs the ``powers_for_log_size(k) = n + 3``
powers tau^0 .. tau^(n+2).
``max_log_size`` of an SRS is the largest such k it serves.

``srs.bin`` (version 1), all integers little-endian::

    offset  size   field
         0     8   magic b"zksolSRS"
         8     4   format version (1)
        12     4   flags: bit 0 = insecure (development setup); other bits zero
        16     8   m, the number of G1 powers (at least 2)
        24    32   digest (below)
        56   128   [1]_2    EVM encoding (x.c1 | x.c0 | y.c1 | y.c0, 32-byte big-endian words)
       184   128   [tau]_2  EVM encoding
       312     8   zero (pads the header to 320 bytes, a multiple of 64)
       320   64m   [tau^i]_1 for i = 0 .. m-1, affine x then y, each four 64-bit
                   little-endian limbs of the Montgomery form x * 2^256 mod q

The G1 powers are stored exactly as the prover holds them in memory (and as
snarkjs stores them), so loading is one read. The digest does not depend on how
the powers were stored or where they came from::

    keccak256("zksolvency/srs/v1" | [1]_2 | [tau]_2 | [tau^0]_1 | ... | [tau^(m-1)]_1)

with every point in its canonical EVM encoding (G1: 64 bytes, G2: 128 bytes).
The insecure flag is not hashed: the digest names the group elements, and a
verifier trusts an SRS by comparing its digest with the published digest of a
ceremony import of the same size, never by a flag anyone can set.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from numba import njit, prange

from zksolvency.constants import CURVE_B, Q_MODULUS, R_MODULUS
from zksolvency.encoding import EncodingError, G1Point, G2Point
from zksolvency.files import write_atomic
from zksolvency.prover import field, g1
from zksolvency.prover.field import FQ_PARAMS, FR_PARAMS, LIMBS, Fq, Fr
from zksolvency.prover.g1 import _add, _below_q, _mul, _sub  # base field operations, inlined into kernels
from zksolvency.verifier.development import DEV_SEED, dev_tau
from zksolvency.verifier.transcript import keccak256

__all__ = [
    "SRS",
    "SetupError",
    "G2_GENERATOR",
    "EXTRA_POWERS",
    "powers_for_log_size",
    "log_size_for_powers",
    "dev_tau",
    "dev_setup",
    "read_ptau",
    "import_ptau",
    "check_powers",
    "powers_are_consistent",
    "srs_digest",
    "fixed_base_multiply",
]

# Degree n + 2 = (n - 1) + 3: a column blinded by Z_H(X) (degree n) times b(X) of degree 2.
EXTRA_POWERS = 3
# The largest NTT domain of Fr is 2^28; no circuit can use more rows.
MAX_LOG_SIZE = 28

SRS_MAGIC = b"zksolSRS"
SRS_VERSION = 1
FLAG_INSECURE = 1
# magic, version, flags, m, digest, [1]_2, [tau]_2, padding: one definition of the header.
_HEADER = struct.Struct("<8sIIQ32s128s128s8x")
HEADER_BYTES = _HEADER.size
assert HEADER_BYTES == 320 and HEADER_BYTES % 64 == 0
G1_POINT_BYTES = 2 * LIMBS * 8  # one affine point in memory and in the file
DIGEST_DOMAIN = b"zksolvency/srs/v1"


def _g2_generator() -> G2Point:
    from py_ecc.optimized_bn128 import G2

    return G2Point.from_py_ecc(G2)


G2_GENERATOR = _g2_generator()


class SetupError(ValueError):
    """An SRS source that cannot be used: the message names the file and what is wrong."""


def powers_for_log_size(log_size: int) -> int:
    """The number of G1 powers a circuit of 2^log_size rows needs: tau^0 .. tau^(n+2)."""
    return (1 << log_size) + EXTRA_POWERS


def log_size_for_powers(m: int) -> int:
    """The largest k with ``powers_for_log_size(k) <= m`` (the largest circuit m powers serve)."""
    if m < powers_for_log_size(0):
        raise ValueError(f"{m} powers serve no circuit: at least {powers_for_log_size(0)} are needed")
    return (m - EXTRA_POWERS).bit_length() - 1


# ---------------------------------------------------------------- kernels


_ZERO = np.uint64(0)
_VALID, _NOT_REDUCED, _INFINITY, _OFF_CURVE = 0, 1, 2, 3
_STATUS_REASON = {
    _NOT_REDUCED: "has a coordinate that is not a reduced element of the base field",
    _INFINITY: "is the point at infinity (tau = 0)",
    _OFF_CURVE: f"is not on the curve y^2 = x^3 + {CURVE_B}",
}


@njit(cache=True, parallel=True)
def _powers_kernel(x, out, F):
    """out[i] = x^i (Montgomery), each chunk starting from its own x^lo."""
    n = out.shape[0]
    chunks = max(1, min(64, n // 4096))
    for c in prange(chunks):
        lo = n * c // chunks
        hi = n * (c + 1) // chunks
        acc = field.power(x, (np.uint64(lo), _ZERO, _ZERO, _ZERO), F)
        for i in range(lo, hi):
            field.store(out, i, acc)
            acc = field.mul(acc, x, F)


@njit(cache=True, parallel=True)
def _g1_status_kernel(points, status):
    """A validation code per affine Montgomery point: reduced, finite, on the curve."""
    for i in prange(points.shape[0]):
        p = g1.load_affine(points, i)
        if not (_below_q(p[0]) and _below_q(p[1])):
            status[i] = _NOT_REDUCED
        elif g1.affine_is_infinity(p):
            status[i] = _INFINITY
        elif not g1.affine_on_curve(p):
            status[i] = _OFF_CURVE
        else:
            status[i] = _VALID


@njit(cache=True)
def _window_bases(point, c, windows):
    """bases[w] = 2^(c w) P, affine, for P = point[0] (an affine ``(1, 2, 4)`` array)."""
    bases = np.empty((windows, 2, LIMBS), dtype=np.uint64)
    acc = g1.jacobian_from_affine(g1.load_affine(point, 0))
    for w in range(windows):
        g1.store_affine(bases, w, g1.jacobian_to_affine(acc))
        for _ in range(c):
            acc = g1.jacobian_double(acc)
    return bases


@njit(cache=True, parallel=True)
def _window_table_kernel(bases, c, table):
    """table[w 2^c + d] = d bases[w] (Jacobian), for 0 <= d < 2^c, one window per task."""
    size = 1 << c
    for w in prange(bases.shape[0]):
        base = g1.load_affine(bases, w)
        acc = g1.jacobian_infinity()
        for d in range(size):
            g1.store_jacobian(table, w * size + d, acc)
            acc = g1.jacobian_add_affine(acc, base)


@njit(cache=True, inline="always")
def _digit(scalars, i, offset, c):
    """Bits offset .. offset + c - 1 of the canonical scalar in row i."""
    limb = offset >> 6
    shift = offset & 63
    w = scalars[i, limb] >> np.uint64(shift)
    if shift + c > 64 and limb + 1 < LIMBS:
        w |= scalars[i, limb + 1] << np.uint64(64 - shift)
    return np.int64(w & np.uint64((1 << c) - 1))


@njit(cache=True, parallel=True)
def _fixed_base_kernel(table, c, windows, scalars, out, chunk):
    """out[i] = sum_w table[w 2^c + digit_w(k_i)], affine, adding one window at a time.

    Within a chunk of points, the additions of one window are independent, so
    they are done in affine coordinates with one inversion for all their slope
    denominators (Montgomery's trick): about 6 multiplications per addition,
    against 11 for a mixed Jacobian addition, and no conversion at the end.
    """
    m = scalars.shape[0]
    size = 1 << c
    for start in prange((m + chunk - 1) // chunk):
        lo = start * chunk
        count = min(m, lo + chunk) - lo
        finite = np.zeros(count, dtype=np.bool_)
        entry = np.zeros(count, dtype=np.int64)  # table row to add; -1 none, -2 - row: a doubling
        prefix = np.empty((count, LIMBS), dtype=np.uint64)
        den = np.empty((count, LIMBS), dtype=np.uint64)
        for j in range(count):
            g1.store_affine(out, lo + j, g1.affine_infinity())
        for w in range(windows):
            acc = field.one(FQ_PARAMS)
            for j in range(count):
                entry[j] = -1
                d = _digit(scalars, lo + j, w * c, c)
                if d == 0:
                    continue
                t = g1.load_affine(table, w * size + d)
                if not finite[j]:
                    g1.store_affine(out, lo + j, t)
                    finite[j] = True
                    continue
                a = g1.load_affine(out, lo + j)
                if field.equal(a[0], t[0]):
                    if not field.equal(a[1], t[1]):
                        # P + (-P): back to infinity.
                        g1.store_affine(out, lo + j, g1.affine_infinity())
                        finite[j] = False
                        continue
                    denominator = _add(a[1], a[1])  # tangent slope 3x^2 / 2y
                    entry[j] = -2 - (w * size + d)
                else:
                    denominator = _sub(t[0], a[0])
                    entry[j] = w * size + d
                field.store(den, j, denominator)
                field.store(prefix, j, acc)
                acc = _mul(acc, denominator)
            inv = field.inverse(acc, FQ_PARAMS)
            for j in range(count - 1, -1, -1):
                e = entry[j]
                if e == -1:
                    continue
                inv_j = _mul(inv, field.load(prefix, j))
                inv = _mul(inv, field.load(den, j))
                xa, ya = g1.load_affine(out, lo + j)
                if e >= 0:
                    xt, yt = g1.load_affine(table, e)
                    slope = _mul(_sub(yt, ya), inv_j)
                    x3 = _sub(_sub(_mul(slope, slope), xa), xt)
                else:
                    xx = _mul(xa, xa)
                    slope = _mul(_add(_add(xx, xx), xx), inv_j)
                    x3 = _sub(_mul(slope, slope), _add(xa, xa))
                y3 = _sub(_mul(slope, _sub(xa, x3)), ya)
                g1.store_affine(out, lo + j, (x3, y3))


# ---------------------------------------------------------------- array helpers


def _powers(x: int, m: int) -> np.ndarray:
    """x^0 .. x^(m-1) in Fr as canonical limbs ``(m, 4)``, the form MSM scalars take."""
    out = np.empty((m, LIMBS), dtype=np.uint64)
    if m:
        _powers_kernel(Fr.from_int(x), out, FR_PARAMS)
    return Fr.to_canonical_limbs(out)


# Points per simultaneous inversion: the inversion costs about 400 multiplications.
_AFFINE_BATCH = 1024


def _window_width(m: int, bits: int) -> int:
    """The window c minimising the mixed additions: m per window, plus 2^c per window for the table."""
    return min(range(4, 17), key=lambda c: -(-bits // c) * (m + (1 << c)))


def fixed_base_multiply(point: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """[k_i]P for one affine point P ``(2, 4)`` and canonical scalars ``(m, 4)``, as affine ``(m, 2, 4)``.

    A table of d 2^(c w) P for every window w and digit d makes each product a
    sum of one table entry per window, with no doublings; the sums are built
    in affine coordinates, a window at a time, with batched inversions.
    """
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    m = scalars.shape[0]
    if m == 0:
        return g1.infinity(0)
    bits = _max_bits(scalars)
    c = _window_width(m, bits)
    windows = -(-bits // c)
    bases = _window_bases(np.ascontiguousarray(point, dtype=np.uint64).reshape(1, 2, LIMBS), c, windows)
    table_jacobian = np.empty((windows << c, 3, LIMBS), dtype=np.uint64)
    _window_table_kernel(bases, c, table_jacobian)
    table = g1.to_affine(table_jacobian)
    del table_jacobian
    out = np.empty((m, 2, LIMBS), dtype=np.uint64)
    _fixed_base_kernel(table, c, windows, scalars, out, _AFFINE_BATCH)
    return out


def _max_bits(scalars: np.ndarray) -> int:
    """The bit length of the largest scalar (at least 1, so that there is one window)."""
    union = np.bitwise_or.reduce(scalars, axis=0)
    for limb in range(LIMBS - 1, -1, -1):
        if union[limb]:
            return 64 * limb + int(union[limb]).bit_length()
    return 1


def _g1_to_evm(points: np.ndarray) -> bytes:
    """EVM encodings of an affine Montgomery array, 64 bytes per point, in one pass."""
    canonical = Fq.to_canonical_limbs(points.reshape(-1, LIMBS))
    # The most significant limb first, each limb big-endian: a 32-byte big-endian word.
    return canonical[:, ::-1].astype(">u8").tobytes()


def srs_digest(g1_powers: np.ndarray, g2: G2Point, tau_g2: G2Point) -> bytes:
    """keccak256 of the domain tag, [1]_2, [tau]_2 and the G1 powers, all in EVM encodings."""
    return keccak256(DIGEST_DOMAIN + g2.to_bytes() + tau_g2.to_bytes() + _g1_to_evm(g1_powers))


# ---------------------------------------------------------------- the SRS


@dataclass(frozen=True, eq=False)
class SRS:
    """[tau^i]_1 for i < m as an affine Montgomery ``(m, 2, 4)`` array, with [1]_2 and [tau]_2."""

    g1_powers: np.ndarray
    g2: G2Point
    tau_g2: G2Point
    insecure: bool

    @property
    def max_degree(self) -> int:
        """The highest power of tau available: polynomials of at most this degree can be committed."""
        return self.g1_powers.shape[0] - 1

    @property
    def max_log_size(self) -> int:
        """The largest k such that circuits of 2^k rows can be proven with this SRS."""
        return log_size_for_powers(self.g1_powers.shape[0])

    @cached_property
    def g1_generator(self) -> G1Point:
        return g1.to_g1point(self.g1_powers[0])

    @cached_property
    def digest(self) -> bytes:
        return srs_digest(self.g1_powers, self.g2, self.tau_g2)

    def truncated(self, log_size: int) -> "SRS":
        """The prefix of powers that 2^log_size-row circuits need (same flag, its own digest)."""
        m = powers_for_log_size(log_size)
        if m > self.g1_powers.shape[0]:
            raise ValueError(f"the SRS serves circuits up to 2^{self.max_log_size} rows, not 2^{log_size}")
        return SRS(self.g1_powers[:m], self.g2, self.tau_g2, self.insecure)

    # file format -----------------------------------------------------
    def to_header(self) -> bytes:
        flags = FLAG_INSECURE if self.insecure else 0
        return _HEADER.pack(
            SRS_MAGIC, SRS_VERSION, flags, self.g1_powers.shape[0], self.digest, self.g2.to_bytes(), self.tau_g2.to_bytes()
        )

    def save(self, path) -> None:
        """Write ``srs.bin`` atomically: a temporary file beside it, then a rename over it."""
        points = np.ascontiguousarray(self.g1_powers, dtype="<u8")
        write_atomic(path, self.to_header(), memoryview(points).cast("B"))

    @staticmethod
    def load(path, verify_digest: bool = True) -> "SRS":
        """Read ``srs.bin``; SetupError names the file and what is wrong with it.

        The header is validated in full ([1]_2 and [tau]_2 on the twist and in
        the subgroup); the stored digest is recomputed from the powers unless
        ``verify_digest`` is false, which catches a corrupted file.
        """
        path = Path(path)
        where = str(path)
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                header = f.read(HEADER_BYTES)
                if len(header) >= len(SRS_MAGIC) and header[: len(SRS_MAGIC)] != SRS_MAGIC:
                    raise SetupError(f"{where}: not an SRS file (it does not start with {SRS_MAGIC!r})")
                if len(header) < HEADER_BYTES:
                    raise SetupError(f"{where}: truncated: {size} bytes is shorter than the {HEADER_BYTES}-byte header")
                _, version, flags, m, digest, g2_bytes, tau_g2_bytes = _HEADER.unpack(header)
                if version != SRS_VERSION:
                    raise SetupError(f"{where}: SRS format version {version} is not supported (this build reads {SRS_VERSION})")
                if flags & ~FLAG_INSECURE:
                    raise SetupError(f"{where}: unknown flags {flags:#x} in the header")
                if m < powers_for_log_size(0) or m > powers_for_log_size(MAX_LOG_SIZE + 1):
                    raise SetupError(f"{where}: the header declares {m} G1 powers, not a usable number")
                expected = HEADER_BYTES + m * G1_POINT_BYTES
                if size != expected:
                    state = "truncated" if size < expected else "has trailing bytes"
                    raise SetupError(f"{where}: {state}: {m} powers make {expected} bytes, the file has {size}")
                points = np.fromfile(f, dtype="<u8", count=m * 2 * LIMBS)
        except OSError as e:
            raise SetupError(f"{where}: cannot read the SRS: {e.strerror or e}") from e
        if points.shape[0] != m * 2 * LIMBS:
            raise SetupError(f"{where}: truncated while reading the G1 powers")
        try:
            g2 = G2Point.from_bytes(g2_bytes, f"{where}: [1]_2")
            tau_g2 = G2Point.from_bytes(tau_g2_bytes, f"{where}: [tau]_2")
        except EncodingError as e:
            raise SetupError(str(e)) from e
        srs = SRS(points.astype(np.uint64, copy=False).reshape(m, 2, LIMBS), g2, tau_g2, bool(flags & FLAG_INSECURE))
        if verify_digest and srs.digest != digest:
            raise SetupError(f"{where}: the stored digest does not match the powers (the file is corrupt)")
        # Without recomputation the stored digest stands for the content.
        object.__setattr__(srs, "digest", digest)
        return srs


# ---------------------------------------------------------------- checks


def check_powers(g1_powers: np.ndarray, g2: G2Point, tau_g2: G2Point, where: str) -> None:
    """Raise SetupError unless the arrays are [tau^i]_1, [1]_2, [tau]_2 for one tau not in {0, 1}.

    Every G1 power must be a reduced, finite point on the curve (one vectorised
    kernel), [tau^0]_1 the generator, [1]_2 the generator of G2, [tau]_2 on the
    twist and in the subgroup; then one randomised pairing check ties all the
    powers to [tau]_2 (``powers_are_consistent``).
    """
    m = g1_powers.shape[0]
    if m < 2:
        raise SetupError(f"{where}: at least 2 G1 powers are needed, found {m}")
    status = np.empty(m, dtype=np.uint8)
    _g1_status_kernel(np.ascontiguousarray(g1_powers), status)
    bad = np.flatnonzero(status)
    if bad.size:
        i = int(bad[0])
        raise SetupError(f"{where}: G1 power {i} ([tau^{i}]_1) {_STATUS_REASON[int(status[i])]}")
    generator = g1.generator()[0]
    if not np.array_equal(g1_powers[0], generator):
        raise SetupError(f"{where}: [tau^0]_1 is not the generator (1, 2) of G1")
    if np.array_equal(g1_powers[1], generator):
        raise SetupError(f"{where}: [tau]_1 is the generator: tau = 1 (a ceremony with no contribution)")
    if g2 != G2_GENERATOR:
        raise SetupError(f"{where}: [1]_2 is not the generator of G2")
    try:
        G2Point.from_bytes(tau_g2.to_bytes(), f"{where}: [tau]_2")
    except EncodingError as e:
        raise SetupError(str(e)) from e
    if not powers_are_consistent(g1_powers, g2, tau_g2):
        raise SetupError(f"{where}: the G1 powers are not successive powers of the tau of [tau]_2 (pairing check failed)")


def powers_are_consistent(g1_powers: np.ndarray, g2: G2Point, tau_g2: G2Point, rho: int | None = None) -> bool:
    """Whether P_(i+1) = tau P_i for every i, with tau the discrete log of [tau]_2 to base [1]_2.

    For a random rho, A = sum rho^i P_i and B = sum rho^i P_(i+1) (i < m - 1)
    satisfy e(A, [tau]_2) = e(B, [1]_2); if any step is wrong, the difference
    is a non-zero polynomial in rho of degree below m, which vanishes at a
    random rho with probability at most m / r. Two MSMs and one pairing product.
    """
    from py_ecc.optimized_bn128 import neg

    from zksolvency.prover.msm import msm
    from zksolvency.verifier.pairing import pairing_product_is_one

    m = g1_powers.shape[0]
    rho = secrets.randbelow(R_MODULUS - 1) + 1 if rho is None else rho % R_MODULUS
    scalars = _powers(rho, m - 1)
    a = msm(np.ascontiguousarray(g1_powers[:-1]), scalars)
    b = msm(np.ascontiguousarray(g1_powers[1:]), scalars)
    return pairing_product_is_one([(a.to_py_ecc(), tau_g2.to_py_ecc()), (neg(b.to_py_ecc()), g2.to_py_ecc())])


# ---------------------------------------------------------------- the development setup


def dev_setup(log_size: int, seed: str = DEV_SEED, progress=None) -> SRS:
    """An INSECURE SRS for 2^log_size-row circuits with tau derived from ``seed`` (deterministic)."""
    from py_ecc.optimized_bn128 import G2, multiply

    if not 0 <= log_size <= MAX_LOG_SIZE:
        raise ValueError(f"log size must be between 0 and {MAX_LOG_SIZE}, got {log_size}")
    tau = dev_tau(seed)
    m = powers_for_log_size(log_size)
    if progress:
        progress(f"computing {m} powers [tau^i]_1 (insecure development setup)")
    g1_powers = fixed_base_multiply(g1.generator()[0], _powers(tau, m))
    return SRS(g1_powers, G2_GENERATOR, G2Point.from_py_ecc(multiply(G2, tau)), insecure=True)


# ---------------------------------------------------------------- .ptau import


PTAU_MAGIC = b"ptau"
PTAU_VERSION = 1
_PTAU_HEADER, _PTAU_TAU_G1, _PTAU_TAU_G2 = 1, 2, 3
_FQ_BYTES = 32
_R_INVERSE = pow(1 << 256, -1, Q_MODULUS)  # undoes the Montgomery factor of .ptau coordinates


@dataclass(frozen=True)
class PtauFile:
    """The layout of a ``.ptau`` file: its powers and where its tau sections start."""

    path: Path
    power: int  # the file holds 2^(power+1) - 1 powers [tau^i]_1 and 2^power powers [tau^i]_2
    ceremony_power: int
    tau_g1_offset: int
    tau_g2_offset: int

    @property
    def g1_count(self) -> int:
        return (1 << (self.power + 1)) - 1

    @property
    def max_log_size(self) -> int:
        return log_size_for_powers(self.g1_count)


def read_ptau(path) -> PtauFile:
    """Parse and check the section table and header of a ``.ptau`` file (snarkjs binfile format).

    ``"ptau"`` | version u32 | section count u32 | sections, each type u32 |
    size u64 | data; section 1 is n8 u32 | q (n8 bytes) | power u32 |
    ceremony power u32; section 2 holds [tau^i]_1, section 3 [tau^i]_2, points
    as Montgomery coordinates (R = 2^256) in n8-byte little-endian words.
    """
    path = Path(path)
    where = str(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            start = f.read(12)
            if len(start) < 4 or start[:4] != PTAU_MAGIC:
                raise SetupError(f"{where}: not a .ptau file (it does not start with {PTAU_MAGIC!r})")
            if len(start) < 12:
                raise SetupError(f"{where}: truncated inside the file header")
            version, count = struct.unpack("<II", start[4:])
            if version != PTAU_VERSION:
                raise SetupError(f"{where}: .ptau version {version} is not supported (this build reads {PTAU_VERSION})")
            sections: dict[int, list[tuple[int, int]]] = {}
            pos = 12
            for k in range(count):
                f.seek(pos)
                entry = f.read(12)
                if len(entry) < 12:
                    raise SetupError(f"{where}: truncated: section {k + 1} of {count} is missing")
                kind, length = struct.unpack("<IQ", entry)
                pos += 12
                if pos + length > size:
                    raise SetupError(f"{where}: truncated: section type {kind} needs {length} bytes, {size - pos} remain")
                sections.setdefault(kind, []).append((pos, length))
                pos += length
            for kind, name in ((_PTAU_HEADER, "header"), (_PTAU_TAU_G1, "tauG1"), (_PTAU_TAU_G2, "tauG2")):
                if kind not in sections:
                    raise SetupError(f"{where}: the {name} section (type {kind}) is missing")
                if len(sections[kind]) > 1:
                    raise SetupError(f"{where}: the {name} section (type {kind}) appears more than once")
            at, length = sections[_PTAU_HEADER][0]
            f.seek(at)
            header = f.read(length)
    except OSError as e:
        raise SetupError(f"{where}: cannot read the .ptau file: {e.strerror or e}") from e
    if len(header) < 4:
        raise SetupError(f"{where}: the header section is too short")
    (n8,) = struct.unpack_from("<I", header)
    if n8 != _FQ_BYTES:
        raise SetupError(f"{where}: field elements of {n8} bytes: not the BN254 (bn128) curve")
    if len(header) != 4 + n8 + 8:
        raise SetupError(f"{where}: the header section has {len(header)} bytes, expected {4 + n8 + 8}")
    q = int.from_bytes(header[4 : 4 + n8], "little")
    if q != Q_MODULUS:
        raise SetupError(f"{where}: the base field modulus is {q}, not BN254's q: another curve")
    power, ceremony_power = struct.unpack_from("<II", header, 4 + n8)
    if not 1 <= power <= MAX_LOG_SIZE:
        raise SetupError(f"{where}: power {power} is outside 1..{MAX_LOG_SIZE}")
    ptau = PtauFile(path, power, ceremony_power, sections[_PTAU_TAU_G1][0][0], sections[_PTAU_TAU_G2][0][0])
    if ptau.g1_count < powers_for_log_size(0):
        raise SetupError(f"{where}: power {power} holds {ptau.g1_count} powers [tau^i]_1, which serve no circuit "
                         f"(at least {powers_for_log_size(0)} are needed: power 2 or more)")
    for kind, name, expected in (
        (_PTAU_TAU_G1, "tauG1", ptau.g1_count * G1_POINT_BYTES),
        (_PTAU_TAU_G2, "tauG2", (1 << power) * 2 * G1_POINT_BYTES),
    ):
        length = sections[kind][0][1]
        if length != expected:
            raise SetupError(f"{where}: the {name} section has {length} bytes, power {power} needs {expected}")
    return ptau


def _read_words(path: Path, offset: int, count: int) -> np.ndarray:
    """count little-endian 64-bit words from a byte offset, as a fresh aligned uint64 array."""
    with open(path, "rb") as f:
        f.seek(offset)
        words = np.fromfile(f, dtype="<u8", count=count)
    if words.shape[0] != count:
        raise SetupError(f"{path}: truncated while reading the points")
    return words.astype(np.uint64, copy=False)


def _ptau_g2(words: np.ndarray, where: str) -> G2Point:
    """x.c0, x.c1, y.c0, y.c1 as Montgomery words -> a G2Point (each coordinate checked below q)."""
    raw = words.astype("<u8").tobytes()
    montgomery = [int.from_bytes(raw[i : i + _FQ_BYTES], "little") for i in range(0, len(raw), _FQ_BYTES)]
    if any(v >= Q_MODULUS for v in montgomery):
        raise SetupError(f"{where} has a coordinate that is not a reduced element of the base field")
    x0, x1, y0, y1 = (v * _R_INVERSE % Q_MODULUS for v in montgomery)
    return G2Point((x0, x1), (y0, y1))


def import_ptau(path, max_log_size: int | None = None, progress=None) -> SRS:
    """The checked SRS of a ``.ptau`` file: all its G1 powers, or the ``powers_for_log_size(max_log_size)`` first.

    Only the needed prefix of the tauG1 section is read, so a prefix of a large
    ceremony file is quick to import. Raises SetupError on anything wrong.
    """
    ptau = read_ptau(path)
    where = str(ptau.path)
    if max_log_size is None:
        m = ptau.g1_count
    else:
        if max_log_size > ptau.max_log_size:
            raise SetupError(
                f"{where}: power {ptau.power} serves circuits up to 2^{ptau.max_log_size} rows, not 2^{max_log_size}"
            )
        m = powers_for_log_size(max_log_size)
    if progress:
        progress(f"reading {m} of {ptau.g1_count} powers [tau^i]_1 (ceremony power {ptau.power})")
    g1_powers = _read_words(ptau.path, ptau.tau_g1_offset, m * 2 * LIMBS).reshape(m, 2, LIMBS)
    g2_words = _read_words(ptau.path, ptau.tau_g2_offset, 2 * 4 * LIMBS)
    g2 = _ptau_g2(g2_words[: 4 * LIMBS], f"{where}: [1]_2")
    tau_g2 = _ptau_g2(g2_words[4 * LIMBS :], f"{where}: [tau]_2")
    if progress:
        progress("checking the points and the powers against [tau]_2")
    check_powers(g1_powers, g2, tau_g2, where)
    return SRS(g1_powers, g2, tau_g2, insecure=False)

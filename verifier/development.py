"""The development SRS: its tau is public, so a key made from it is recognised from its points, never from a flag.

``tau = keccak256("zksolvency/dev-srs/tau" | seed) mod r`` (hashed again in the
never-seen case that it is 0 or 1); ``zksolvency setup --dev`` uses the seed
``zksolvency-dev``. Anyone can forge proofs for such a key. A key made with
any other tau the exchange knows is caught only by pinning the key to a
ceremony (``--srs``) or to a published digest.
"""

from __future__ import annotations

from functools import lru_cache

from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G2Point
from zksolvency.verifier.transcript import keccak256

DEV_TAU_DOMAIN = b"zksolvency/dev-srs/tau"
DEV_SEED = "zksolvency-dev"


def dev_tau(seed: str = DEV_SEED) -> int:
    """The development tau of ``seed``."""
    digest = keccak256(DEV_TAU_DOMAIN + seed.encode())
    while int.from_bytes(digest, "big") % R_MODULUS in (0, 1):
        digest = keccak256(digest)
    return int.from_bytes(digest, "big") % R_MODULUS


@lru_cache(maxsize=4)
def dev_tau_g2(seed: str = DEV_SEED) -> G2Point:
    from py_ecc.optimized_bn128 import G2, multiply

    return G2Point.from_py_ecc(multiply(G2, dev_tau(seed)))


def is_development_key(vk) -> bool:
    """Whether the key's [tau]_2 is the development setup's (whatever its insecure flag says), or it is flagged."""
    return vk.insecure or vk.tau_g2 == dev_tau_g2()

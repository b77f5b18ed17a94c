"""The hashes that put identities and round ids into the field.

``user_hash = keccak256("zksolvency/user" | len(round_id) | round_id | len(user_id) | user_id | salt) mod r``

with the ids in UTF-8, each preceded by its byte length as a 4-byte big-endian
integer (so that no two (round id, user id) pairs encode alike), and the salt
32 random bytes drawn for that user and round. A user id enters the circuit only
through this hash; the salt makes the hash of a guessed id worthless without it,
and a fresh salt per round makes rounds unlinkable.

``round_tag = keccak256("zksolvency/round" | round_id) mod r`` is the first public
input of every round's proof: it binds the proof to its round id.
"""

from __future__ import annotations

from zksolvency.constants import R_MODULUS
from zksolvency.verifier.transcript import keccak256

USER_DOMAIN = b"zksolvency/user"
ROUND_DOMAIN = b"zksolvency/round"
SALT_BYTES = 32


def _prefixed(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def user_hash(round_id: str, user_id: str, salt: bytes) -> int:
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes, got {len(salt)}")
    digest = keccak256(USER_DOMAIN + _prefixed(round_id) + _prefixed(user_id) + salt)
    return int.from_bytes(digest, "big") % R_MODULUS


def round_tag(round_id: str) -> int:
    return int.from_bytes(keccak256(ROUND_DOMAIN + round_id.encode("utf-8")), "big") % R_MODULUS

"""The hashes that put records and round ids into the field.

``record_hash = keccak256("zksolvency/record/v1" | len(round_id) | round_id | len(user_id) | user_id | salt
                          | index | count | asset_0 | units_0 | .. | asset_{S-1} | units_{S-1}) mod r``

with the ids in UTF-8, each preceded by its byte length as a 4-byte big-endian
integer (so that no two (round id, user id) pairs encode alike), the salt 32
random bytes drawn for that user and round, ``index`` and ``count`` (4 bytes
each) the record's place among the user's ``count`` records, and every slot's
asset index and units as 32-byte big-endian words. The hash commits to the
whole record, so that no other slot vector opens to the same value of the
inclusion column (``zksolvency.verifier.inclusion``). A user id enters the
circuit only through it; the salt makes the hash of a guessed id and balance
worthless without it, and a fresh salt per round makes rounds unlinkable.

``round_tag`` is the first public input of every round's proof: it binds the
proof to what the round's statement says besides its values, so that one proof
cannot be shown to another audience under other labels::

    t_0 = keccak256("zksolvency/round/v2" | len | round_id | len | timestamp | K)      (K: 4 bytes)
    t_j = keccak256(t_(j-1) | keccak256(name_j) | decimals_j)                          (decimals: 1 byte)
    round_tag = t_K mod r

The registry computes the same chain from its registered assets' decimals.

A shard of a round of M > 1 shards proves under its own tag, so that no shard's
proof can stand for another shard or for a round of another shard count::

    shard_tag = keccak256("zksolvency/shard/v1" | round_tag | index | M) mod r     (index, M: 4 bytes each)

A round of one shard keeps the plain ``round_tag`` (it is the round as before).

In a margin round every record of a user with debts carries the user's account
key, ``account_key = keccak256("zksolvency/account/v1" | user prefix) mod r``
(a user without debts has account 0): the key under which the circuit sums the
account's collateral and debt. Its owner recomputes it, like the record hash.
"""

from __future__ import annotations

from zksolvency.constants import R_MODULUS
from zksolvency.verifier.transcript import keccak256

RECORD_DOMAIN = b"zksolvency/record/v1"
ROUND_DOMAIN = b"zksolvency/round/v2"
ACCOUNT_DOMAIN = b"zksolvency/account/v1"
SHARD_DOMAIN = b"zksolvency/shard/v1"
SALT_BYTES = 32
WORD_BYTES = 32


def _prefixed(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def user_prefix(round_id: str, user_id: str, salt: bytes) -> bytes:
    """The part of every record hash of one user in one round."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes, got {len(salt)}")
    return RECORD_DOMAIN + _prefixed(round_id) + _prefixed(user_id) + salt


def record_hash(prefix: bytes, index: int, count: int, slots) -> int:
    """The hash of record ``index`` of ``count`` with ``slots`` [(asset index, units), ..] (0 <= each < 2^256)."""
    body = index.to_bytes(4, "big") + count.to_bytes(4, "big")
    body += b"".join(a.to_bytes(WORD_BYTES, "big") + u.to_bytes(WORD_BYTES, "big") for a, u in slots)
    return int.from_bytes(keccak256(prefix + body), "big") % R_MODULUS


def round_tag(round_id: str, timestamp: str, assets) -> int:
    """The tag of a round: its id, time and assets [(name, decimals)] in index order."""
    t = keccak256(ROUND_DOMAIN + _prefixed(round_id) + _prefixed(timestamp) + len(assets).to_bytes(4, "big"))
    for name, decimals in assets:
        t = keccak256(t + keccak256(name.encode("utf-8")) + bytes([decimals]))
    return int.from_bytes(t, "big") % R_MODULUS


def shard_tag(tag: int, index: int, count: int) -> int:
    """The tag shard ``index`` of ``count`` proves under (``count`` > 1; a one-shard round keeps ``tag``)."""
    if not 0 <= index < count or count < 2:
        raise ValueError(f"shard {index} of {count}: a sharded round has at least 2 shards, each below the count")
    body = tag.to_bytes(32, "big") + index.to_bytes(4, "big") + count.to_bytes(4, "big")
    return int.from_bytes(keccak256(SHARD_DOMAIN + body), "big") % R_MODULUS


def account_key(prefix: bytes) -> int:
    """A margin account's key, from its user prefix (``user_prefix``)."""
    return int.from_bytes(keccak256(ACCOUNT_DOMAIN + prefix), "big") % R_MODULUS

"""A record hash binds the whole record: lattice reduction forges slot vectors against the old encoding, never the new.

The old encoding put a user hash (round, id, salt) in the hash column, so that
the value a user opens, ``h + sum gamma^j s_j``, is linear in the slots the
exchange shows, with gamma known to the exchange when it writes the files: a
small lattice problem, solved here by LLL (``lattice.py``) at S = 16, showing
an absent user 100 BTC at another user's row. The new encoding hashes the
whole record, so the same search, run against it with every guess of the
record it can make, only ever finds vectors whose own hash is another: the
verifier refuses every one.
"""

from __future__ import annotations

import os

import pytest
from lattice import forge_bounded, forge_split

from zksolvency.artifacts import InclusionFile, InclusionRecord
from zksolvency.audit import check_inclusion, round_keys, verify_round
from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G1Point
from zksolvency.hashing import record_hash, user_prefix
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.round import prove_round, record_hashes
from zksolvency.sample import decimals_spec, write_sample_ledger
from zksolvency.verifier.inclusion import InclusionError, Rule, combine, opening_holds
from zksolvency.verifier.transcript import keccak256

S = 16
BTC, HUNDRED_BTC = 1, 100 * 10**8
UNITS_BOUND = 1 << 64


def old_user_hash(round_id: str, user_id: str, salt: bytes) -> int:
    """The hash column's value before record hashes: the user alone."""
    def prefixed(text: str) -> bytes:
        data = text.encode()
        return len(data).to_bytes(4, "big") + data

    return int.from_bytes(keccak256(b"zksolvency/user" + prefixed(round_id) + prefixed(user_id) + salt), "big") % R_MODULUS


def old_check(keys, row: int, h: int, slots, proof: G1Point) -> bool:
    """The old round.json path: even row below n, non-zero hash, assets 0..K, units below 2^64, empty slots
    without units, and the opening. Nothing about order, repetition or zero units."""
    if not (0 <= row < keys.n and row % 2 == 0 and h and len(slots) == keys.slots):
        return False
    for asset, units in slots:
        if not (0 <= asset <= keys.asset_count and 0 <= units < UNITS_BOUND) or (asset == 0 and units):
            return False
    return opening_holds(keys, keys.commitment, row, combine([h] + [v for s in slots for v in s], keys.gamma), proof)


@pytest.fixture(scope="module")
def round16(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("binding")
    write_sample_ledger(d / "ledger.csv", 60, seed=21)
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    r = prove_round(ledger, dev_srs, "binding-16", slots=S)
    keys = round_keys(verify_round(r.statement, allow_insecure_srs=True))
    hashes = record_hashes(r.plan, r.statement.round_id, r.user_ids, r.salts)
    # The exchange knows the value at every record's row: the victim is record 0.
    victim = 0
    slots = list(zip(r.plan.assets[victim].tolist(), r.plan.units[victim].tolist()))
    value = combine([hashes[victim]] + [v for s in slots for v in s], keys.gamma)
    row = int(r.positions[victim])
    proof = G1Point.from_bytes(r.openings[: 64])
    assert opening_holds(keys, keys.commitment, row, value, proof)
    return r, keys, row, value, proof


def test_lattice_reduction_forges_the_old_encoding_at_s16(round16):
    r, keys, row, value, proof = round16
    gamma = keys.gamma
    salt = os.urandom(32)
    h = old_user_hash(r.statement.round_id, "mallory", salt)
    # Every slot labelled BTC, the units summing to 100 BTC: solve sum gamma^(2s+2) u_s for the rest of the value.
    target = (value - h - sum(pow(gamma, 2 * s + 1, R_MODULUS) * BTC for s in range(S))) % R_MODULUS
    units = forge_split([pow(gamma, 2 * s + 2, R_MODULUS) for s in range(S)], target, R_MODULUS, HUNDRED_BTC)
    assert units is not None and sum(units) == HUNDRED_BTC
    forged = [(BTC, u) for u in units]
    assert old_check(keys, row, h, forged, proof)  # the old verifier shows mallory 100 BTC at the victim's row
    names = [a.name for a in r.statement.assets]
    inclusion = InclusionFile(r.statement.round_id, "mallory", salt,
                              (InclusionRecord(row, tuple((names[a - 1], u) for a, u in forged), proof),), tuple(names))
    with pytest.raises(InclusionError) as refused:
        check_inclusion(inclusion, keys, r.statement.round_id, names, "mallory")
    assert refused.value.rule in (Rule.ASSET_ORDER, Rule.ZERO_UNITS)


def test_the_same_search_finds_no_forgery_against_record_hashes_at_s16(round16):
    """Canonical slots: 100 BTC, then every other asset once with units the lattice solves for (below 2^64).
    The hash depends on those units, so the attacker guesses them, fixes the hash of its guess, and solves:
    the solution has another hash. Thirty guesses (fresh salts), thirty solutions, no forgery."""
    r, keys, row, value, proof = round16
    gamma, k = keys.gamma, keys.asset_count
    names = [a.name for a in r.statement.assets]
    free = list(range(2, k + 1))  # asset indices after BTC, each in one slot: slots 1..k-1
    coefficients = [pow(gamma, 2 * s + 2, R_MODULUS) for s in range(1, k)]
    solved = 0
    for attempt in range(30):
        salt = os.urandom(32)
        prefix = user_prefix(r.statement.round_id, "mallory", salt)
        guess = [(BTC, HUNDRED_BTC)] + [(a, 1 << 63) for a in free] + [(0, 0)] * (S - k)
        h = record_hash(prefix, 0, 1, guess)
        fixed = h + gamma * BTC + gamma**2 * HUNDRED_BTC + sum(pow(gamma, 2 * s + 1, R_MODULUS) * a
                                                              for s, a in enumerate(free, start=1))
        units = forge_bounded(coefficients, (value - fixed) % R_MODULUS, R_MODULUS, UNITS_BOUND)
        if units is None:
            continue
        solved += 1
        shown = [(BTC, HUNDRED_BTC)] + list(zip(free, units)) + [(0, 0)] * (S - k)
        assert combine([h] + [v for s in shown for v in s], gamma) == value  # the lattice did its part
        assert record_hash(prefix, 0, 1, shown) != h  # but the record it found has another hash
        inclusion = InclusionFile(r.statement.round_id, "mallory", salt, (InclusionRecord(
            row, tuple((names[a - 1] if a else None, u) for a, u in shown), proof),), tuple(names))
        with pytest.raises(InclusionError) as refused:
            check_inclusion(inclusion, keys, r.statement.round_id, names, "mallory")
        assert refused.value.rule == Rule.OPENING
    assert solved >= 25  # the search is not weak: it solves the linear problem nearly every time

"""A round split into shards: customers assigned to shards at random, each shard's sums, and the reserves allocated.

A shard is a round of its own (its own table, commitments, proof and inclusion
openings) over a subset of the customers; every record of a customer lies in
one shard. Customers are assigned afresh every round: a uniformly random order
of the customers (from the operating system's CSPRNG) is cut into M runs of
about equally many records.

Private totals: each shard proves its liabilities at most its *allocation* of
the reserves, and the verifiers check that the allocations sum to at most the
reserves (``check_shard_sums`` in ``zksolvency.audit``). The allocation says
as little as it can about a shard's liabilities (``allocate_reserves``).
"""

from __future__ import annotations

import os

import numpy as np

MAX_SHARDS = 1 << 20


class ShardingError(ValueError):
    """Shards that cannot be made as asked (the message says why)."""


def random_order(count: int) -> np.ndarray:
    """A uniformly random permutation of 0..count-1 (the order of independent 64-bit keys, drawn again on a tie)."""
    while True:
        keys = np.frombuffer(os.urandom(8 * count), dtype=np.uint64)
        order = np.argsort(keys, kind="stable")
        if count < 2 or np.all(keys[order[1:]] != keys[order[:-1]]):
            return order


def assign_shards(record_counts: np.ndarray, shards: int) -> np.ndarray:
    """Every customer's shard: a random order of the customers cut into ``shards`` runs of about equally many
    records (a customer's records stay together). ``record_counts``: each customer's number of records."""
    counts = np.asarray(record_counts, dtype=np.int64)
    users = counts.shape[0]
    if not 1 <= shards <= MAX_SHARDS:
        raise ShardingError(f"--shards must be 1 to {MAX_SHARDS}")
    if shards > users:
        raise ShardingError(f"{shards} shards for {users} customers: every shard needs a customer")
    if shards == 1:
        return np.zeros(users, dtype=np.int64)
    order = random_order(users)
    before = np.cumsum(counts[order]) - counts[order]  # records ahead of each customer in that order
    out = np.empty(users, dtype=np.int64)
    out[order] = (before * shards) // int(counts.sum())
    return out


def shards_for_capacity(record_counts: np.ndarray, capacity: int):
    """(shard count, assignment) with at most ``capacity`` records in every shard (``--shard-log-size``)."""
    counts = np.asarray(record_counts, dtype=np.int64)
    if counts.size and counts.max() > capacity:
        raise ShardingError(f"a customer takes {int(counts.max())} records; a shard holds {capacity}")
    shards = max(1, -(-int(counts.sum()) // capacity))
    while True:
        if shards > counts.shape[0]:
            raise ShardingError(f"the customers do not fit shards of {capacity} records")
        assigned = assign_shards(counts, shards)
        if np.bincount(assigned, weights=counts, minlength=shards).max() <= capacity:
            return shards, assigned
        shards += 1  # a cut fell inside a customer of several records: one more shard


def shard_sums(entry_shard: np.ndarray, keys: np.ndarray, units: np.ndarray, shards: int, key_count: int) -> list:
    """Exact sums of ``units`` per (shard, key 1..key_count): ``out[i][k - 1]`` as Python ints.

    Units are summed in 16-bit quarters through float64 counts, exact for up to
    2^36 entries (each quarter sum stays below 2^52).
    """
    key = entry_shard.astype(np.int64) * (key_count + 1) + keys.astype(np.int64)
    size = shards * (key_count + 1)
    units = np.asarray(units, dtype=np.uint64)
    total = [0] * size
    for q in range(4):
        quarter = ((units >> np.uint64(16 * q)) & np.uint64(0xFFFF)).astype(np.float64)
        sums = np.bincount(key, weights=quarter, minlength=size)
        total = [t + (int(s) << (16 * q)) for t, s in zip(total, sums.tolist())]
    return [total[i * (key_count + 1) + 1: (i + 1) * (key_count + 1)] for i in range(shards)]


def allocate_reserves(reserves, liabilities, records, fresh_weights=None) -> list:
    """Each shard's allocation per asset: ``out[i][j] >= liabilities[i][j]``, ``sum_i out[i][j] <= reserves[j]``.

    Per asset: every shard gets its share of the reserves in proportion to its
    records, ``floor(R * m_i / sum m)``, when that covers every shard's
    liabilities (the allocation then says only that the shard's liabilities are
    at most its share); otherwise every shard gets its liabilities plus a random
    share of the surplus ``R - sum L`` (it then says a shard's liabilities lie
    within the surplus below its allocation). ``liabilities`` per shard and
    asset, negative net liabilities (a margin shard owed more than it owes)
    counted as zero: the netting happens within a shard only.
    """
    shards, assets = len(liabilities), len(reserves)
    weights = fresh_weights or (lambda: [int.from_bytes(os.urandom(8), "big") + 1 for _ in range(shards)])
    total_records = sum(records)
    out = [[0] * assets for _ in range(shards)]
    for j, reserve in enumerate(reserves):
        owed = [max(0, liabilities[i][j]) for i in range(shards)]
        if sum(owed) > reserve:
            raise ShardingError(f"asset {j + 1}: the shards' liabilities exceed the reserves (with debts, a shard's "
                                "surplus cannot cover another shard's liabilities)")
        share = [reserve * m // total_records for m in records]
        if all(s >= o for s, o in zip(share, owed)):
            chosen = share
        else:
            surplus, w = reserve - sum(owed), weights()
            chosen = [o + surplus * wi // sum(w) for o, wi in zip(owed, w)]
        for i in range(shards):
            out[i][j] = chosen[i]
    return out

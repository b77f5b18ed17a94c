"""``inclusion.sqlite``: the exchange's private record of a round, from which each user's file is exported.

Tables::

    meta(key TEXT PRIMARY KEY, value TEXT)        format, round_id
    users(user_id TEXT PRIMARY KEY, salt BLOB,     32-byte salt per user, and the shard holding
          shard INTEGER)                           all of the user's records (0 in a round of one shard)
    rows(shard INTEGER, row INTEGER, user_id TEXT, every record's first table row in its shard
         idx INTEGER, slots TEXT, proof BLOB)      idx: the record's index among the user's records
                                                   slots: JSON [[asset index, "units"], ..]
                                                   proof: the row's opening, 64 bytes (EVM G1)

It holds balances, ids and salts: it never leaves the exchange, and the file
is created readable by its owner only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

STORE_FORMAT = "zksolvency-inclusion-store/3"
PREVIOUS_FORMAT = "zksolvency-inclusion-store/2"  # rounds proven before shards: still read
STORE_NAME = "inclusion.sqlite"


class StoreError(ValueError):
    pass


def write_store(path: Path, round_id: str, users, rows) -> None:
    """Create the store at ``path`` (which must not exist).

    ``users``: iterable of (user_id, salt, shard); ``rows``: iterable of
    (shard, row, user_id, index, [(asset index, units), ..], proof bytes).
    """
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute("CREATE TABLE users (user_id TEXT PRIMARY KEY, salt BLOB NOT NULL, shard INTEGER NOT NULL)")
        con.execute(
            "CREATE TABLE rows (shard INTEGER NOT NULL, row INTEGER NOT NULL, user_id TEXT NOT NULL, "
            "idx INTEGER NOT NULL, slots TEXT NOT NULL, proof BLOB NOT NULL, PRIMARY KEY (shard, row))"
        )
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("format", STORE_FORMAT), ("round_id", round_id)])
        con.executemany("INSERT INTO users VALUES (?, ?, ?)", users)
        con.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)",
            ((shard, row, uid, idx, json.dumps([[a, str(u)] for a, u in slots]), proof)
             for shard, row, uid, idx, slots, proof in rows),
        )
        con.execute("CREATE UNIQUE INDEX rows_by_user ON rows (user_id, idx)")
        con.commit()
    finally:
        con.close()
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def read_user(path: Path, user_id: str):
    """(round_id, salt, shard, [(row, [(asset index, units), ..], proof bytes), ..]) of one user, in record
    order."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no inclusion store (the round directory holds {STORE_NAME})")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta"))
            if meta.get("format") not in (STORE_FORMAT, PREVIOUS_FORMAT):
                raise StoreError(f"{path}: not an inclusion store of format {STORE_FORMAT}")
            shard = "shard" if meta["format"] == STORE_FORMAT else "0"  # a store of before shards: one shard
            found = con.execute(f"SELECT salt, {shard} FROM users WHERE user_id = ?", (user_id,)).fetchone()
            if found is None:
                raise StoreError(f"{path}: no user {user_id!r} in this round")
            rows = [
                (row, [(int(a), int(u)) for a, u in json.loads(slots)], bytes(proof))
                for row, slots, proof in con.execute(
                    "SELECT row, slots, proof FROM rows WHERE user_id = ? ORDER BY idx", (user_id,)
                )
            ]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: cannot read the inclusion store: {e}") from None
    return meta["round_id"], bytes(found[0]), int(found[1]), rows

"""Synthetic ledgers shaped like an exchange's: many users, sparse holdings, heavy-tailed balances.

Used for the bundled demo ledger, for tests and for benchmarks. Deterministic
for a seed. Most users hold one to three assets; a few hold many (so they
need several rows); some hold nothing (they still get a row). User ids mix
scripts, quotes and apostrophes, as real ids do.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np

# (name, decimals in the ledger, typical balance in asset units)
SAMPLE_ASSETS = (
    ("BTC", 8, 0.05),
    ("ETH", 9, 1.5),
    ("USDT", 6, 800.0),
    ("USDC", 6, 500.0),
    ("SOL", 9, 20.0),
    ("DOGE", 8, 3000.0),
    ("XRP", 6, 400.0),
)

_NAMES = ("alice", "bob", "chloé", "o'brien", "dmitri", "zoë", "\"ace\"", "amélie", "jürgen", "李雷",
          "ханна", "محمد", "ελένη", "さくら", "kim, jr.")


def decimals_spec(assets=SAMPLE_ASSETS) -> str:
    return ",".join(f"{name}={decimals}" for name, decimals, _ in assets)


def write_sample_ledger(path, users: int, seed: int = 2026, assets=SAMPLE_ASSETS) -> dict:
    """Write a CSV ledger of ``users`` users; return the exact totals per asset in smallest units."""
    rng = np.random.default_rng(seed)
    k = len(assets)
    totals = {name: 0 for name, _, _ in assets}
    popularity = np.array([1.0 / (j + 1) for j in range(k)])
    popularity /= popularity.sum()
    with open(Path(path), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["user_id"] + [name for name, _, _ in assets])
        for u in range(users):
            held = min(k, int(rng.geometric(0.55)) - (1 if rng.random() < 0.05 else 0))
            chosen = set(rng.choice(k, size=held, replace=False, p=popularity).tolist()) if held > 0 else set()
            row = [f"{_NAMES[u % len(_NAMES)]}-{u}"]
            for j, (name, decimals, typical) in enumerate(assets):
                if j not in chosen:
                    row.append("" if rng.random() < 0.7 else "0")
                    continue
                amount = Decimal(str(round(float(rng.lognormal(np.log(typical), 1.5)), decimals)))
                units = int(amount.scaleb(decimals))
                totals[name] += units
                row.append(format(amount, "f"))
            writer.writerow(row)
    return totals

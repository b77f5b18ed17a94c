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


def _sample_rows(users: int, seed: int, assets):
    """(user id, {asset name: Decimal amount}) per user, the sample's users and holdings."""
    rng = np.random.default_rng(seed)
    k = len(assets)
    popularity = np.array([1.0 / (j + 1) for j in range(k)])
    popularity /= popularity.sum()
    for u in range(users):
        held = min(k, int(rng.geometric(0.55)) - (1 if rng.random() < 0.05 else 0))
        chosen = set(rng.choice(k, size=held, replace=False, p=popularity).tolist()) if held > 0 else set()
        amounts = {}
        for j, (name, decimals, typical) in enumerate(assets):
            if j not in chosen:
                amounts[name] = None if rng.random() < 0.7 else Decimal(0)
                continue
            amounts[name] = Decimal(str(round(float(rng.lognormal(np.log(typical), 1.5)), decimals)))
        yield f"{_NAMES[u % len(_NAMES)]}-{u}", amounts


def _cell(amount) -> str:
    return "" if amount is None else "0" if amount == 0 else format(amount, "f")


def write_sample_ledger(path, users: int, seed: int = 2026, assets=SAMPLE_ASSETS) -> dict:
    """Write a CSV ledger of ``users`` users; return the exact totals per asset in smallest units."""
    totals = {name: 0 for name, _, _ in assets}
    with open(Path(path), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["user_id"] + [name for name, _, _ in assets])
        for uid, amounts in _sample_rows(users, seed, assets):
            for name, decimals, _ in assets:
                if amounts[name]:
                    totals[name] += int(amounts[name].scaleb(decimals))
            writer.writerow([uid] + [_cell(amounts[name]) for name, _, _ in assets])
    return totals


# Margin sample: prices (USD per whole unit) and collateral ratios (basis points) of the sample's assets.
SAMPLE_PRICES = {"BTC": ("65000", 9000), "ETH": ("3000.5", 8500), "USDT": ("1", 10000), "USDC": ("1", 10000),
                 "SOL": ("150.25", 7000), "DOGE": ("0.12345678", 5000), "XRP": ("0.5", 0)}
BORROWABLE = ("BTC", "ETH", "USDT", "USDC")


def write_sample_prices(path) -> None:
    with open(Path(path), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["asset", "price", "ratio_bps"])
        for name, (price, ratio) in SAMPLE_PRICES.items():
            writer.writerow([name, price, ratio])


def write_sample_margin_ledger(path, users: int, seed: int = 2026, assets=SAMPLE_ASSETS) -> None:
    """The sample ledger with a debt column for each borrowable asset: about a third of the users who hold
    collateral borrow one asset, for up to 90% of what their collateral covers at ``SAMPLE_PRICES``."""
    rng = np.random.default_rng(seed + 1)
    decimals = {name: d for name, d, _ in assets}
    columns = [name for name, _, _ in assets] + [f"{name}:debt" for name in BORROWABLE]
    with open(Path(path), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["user_id"] + columns)
        for uid, amounts in _sample_rows(users, seed, assets):
            cover = sum((a or 0) * Decimal(SAMPLE_PRICES[n][0]) * SAMPLE_PRICES[n][1] / 10_000
                        for n, a in amounts.items())
            debts = {}
            if cover > 0 and rng.random() < 0.33:
                name = BORROWABLE[int(rng.integers(len(BORROWABLE)))]
                value = cover * Decimal(str(round(float(rng.uniform(0.05, 0.9)), 4)))
                # Rounded down to the asset's decimals: the debt never exceeds what the collateral covers.
                debts[name] = (value / Decimal(SAMPLE_PRICES[name][0])).quantize(
                    Decimal(1).scaleb(-decimals[name]), rounding="ROUND_DOWN")
            writer.writerow([uid] + [_cell(amounts[n]) for n, _, _ in assets]
                            + [_cell(debts.get(n)) for n in BORROWABLE])

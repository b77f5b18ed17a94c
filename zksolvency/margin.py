"""Margin terms: a price and a collateral ratio per asset, and what they make of an account's equity and debt.

Prices are in one quote unit, USD with ``QUOTE_DECIMALS`` = 8 decimals, per
whole unit of the asset (``65000.5`` for BTC); ratios are basis points, 0 to
10,000 (0: the asset does not count as collateral). Comparing values of assets
with different decimals exactly needs one common unit: with D the largest
decimals of the round's assets, asset j's smallest unit is worth
``unit_price_j = price_j * 10^(D - decimals_j)`` units of 10^-(8 + D) USD, an
integer. An account passes when

    sum_j equity_j * unit_price_j * ratio_j  >=  sum_j debt_j * unit_price_j * 10^4

in exact integers (``circuits.solvency.margin_weights`` holds the weights, each
at most 2^128 in absolute value; a price too precise for that is refused).
Its surplus, the difference, is at most 2^192 - 1 (three 64-bit words).

A prices file is CSV with the header ``asset,price,ratio_bps``, one line per
asset; every asset of a margin ledger needs a line (the first one that lacks
one is named), and a line naming an asset the ledger does not have is refused.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from zksolvency.circuits.solvency import (
    BASIS_POINTS,
    SURPLUS_WORD_BITS,
    SURPLUS_WORDS,
    margin_weights,
)
from zksolvency.ingest import LedgerError, shown, to_units

QUOTE = "USD"
QUOTE_DECIMALS = 8
MAX_PRICE_UNITS = 1 << 64  # a price is below 2^64 units of 10^-8 USD (1.8 * 10^11 USD)
MAX_SURPLUS = 1 << (SURPLUS_WORD_BITS * SURPLUS_WORDS)
PRICES_HEADER = ["asset", "price", "ratio_bps"]
RATIO_BITS = 16  # on-chain, an asset's terms are one word: price << RATIO_BITS | ratio (ratio <= 10^4 < 2^16)


class MarginError(ValueError):
    pass


@dataclass(frozen=True)
class MarginTerms:
    """Per asset, in the round's asset order: its price (units of 10^-8 USD per whole unit) and ratio (bps)."""

    prices: tuple
    ratios: tuple

    def __post_init__(self):
        if len(self.prices) != len(self.ratios):
            raise MarginError("a price and a ratio for every asset")
        for p in self.prices:
            if not 0 < p < MAX_PRICE_UNITS:
                raise MarginError(f"a price must be positive and below 2^64 units of 10^-{QUOTE_DECIMALS} {QUOTE}")
        for r in self.ratios:
            if not 0 <= r <= BASIS_POINTS:
                raise MarginError(f"a collateral ratio must be 0 to {BASIS_POINTS} basis points, not {r}")

    def packed(self) -> list:
        """One word per asset, price << RATIO_BITS | ratio: the terms as the registry takes and records them."""
        return [p << RATIO_BITS | r for p, r in zip(self.prices, self.ratios)]

    @classmethod
    def from_packed(cls, words) -> "MarginTerms":
        """The terms of ``packed`` words; MarginError if a word is not one (the fields' ranges decide it)."""
        mask = (1 << RATIO_BITS) - 1
        return cls(tuple(w >> RATIO_BITS for w in words), tuple(w & mask for w in words))

    def unit_prices(self, decimals) -> list:
        """Each asset's smallest unit in units of 10^-(8 + D) USD, D = the largest decimals."""
        top = max(decimals)
        return [p * 10 ** (top - d) for p, d in zip(self.prices, decimals, strict=True)]

    def weights(self, decimals) -> list:
        """Every key's weight (``circuits.solvency.margin_weights``); MarginError if one exceeds 2^128."""
        try:
            return margin_weights(self.unit_prices(decimals), self.ratios)
        except ValueError as e:
            raise MarginError(f"{e} (a price with fewer decimals, or assets of closer decimals)") from None


def surplus(equity: dict, debt: dict, unit_prices, ratios) -> int:
    """An account's haircut collateral value less its debt value (negative: undercollateralized), exactly.

    ``equity`` and ``debt``: {asset index 1..K: units}.
    """
    collateral = sum(u * unit_prices[j - 1] * ratios[j - 1] for j, u in equity.items())
    owed = sum(u * unit_prices[j - 1] * BASIS_POINTS for j, u in debt.items())
    return collateral - owed


def surplus_slots(value: int) -> list:
    """The surplus as (word key 1..3, 64-bit word) slots, zero words left out."""
    if not 0 <= value < MAX_SURPLUS:
        raise MarginError("an account's surplus must be non-negative and below 2^192")
    mask = (1 << SURPLUS_WORD_BITS) - 1
    words = [(1 + t, (value >> (SURPLUS_WORD_BITS * t)) & mask) for t in range(SURPLUS_WORDS)]
    return [(k, w) for k, w in words if w]


def read_prices(path, assets, decimals=None) -> MarginTerms:
    """Read ``asset,price,ratio_bps`` for exactly the ledger's assets; LedgerError naming the line."""
    path = Path(path)
    seen: dict = {}
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise LedgerError(path, None, f"cannot read the prices: {e}") from None
    if not rows or [c.strip() for c in rows[0]] != PRICES_HEADER:
        raise LedgerError(path, 1 if rows else None, "the header must be asset,price,ratio_bps")
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3:
            raise LedgerError(path, line, f"expected 3 columns (asset,price,ratio_bps), found {len(row)}")
        name, price, ratio = (c.strip() for c in row)
        if name not in assets:
            raise LedgerError(path, line, f"{shown(name)} is not an asset of the ledger", 1, "asset")
        if name in seen:
            raise LedgerError(path, line, f"a second price for {shown(name)} (first on line {seen[name][0]})", 1,
                              "asset")
        try:
            units = to_units(price, QUOTE_DECIMALS)
        except ValueError as e:
            raise LedgerError(path, line, str(e), 2, "price") from None
        if not 0 < units < MAX_PRICE_UNITS:
            raise LedgerError(path, line, f"a price must be positive and below 2^64 units of 10^-{QUOTE_DECIMALS}",
                              2, "price")
        if not ratio.isascii() or not ratio.isdigit() or len(ratio) > 5 or int(ratio) > BASIS_POINTS:
            raise LedgerError(path, line, f"a ratio is a whole number of basis points, 0 to {BASIS_POINTS}", 3,
                              "ratio_bps")
        seen[name] = (line, units, int(ratio))
    for name in assets:
        if name not in seen:
            raise LedgerError(path, None, f"no price for {shown(name)} (every asset of a margin ledger needs one)")
    terms = MarginTerms(tuple(seen[a][1] for a in assets), tuple(seen[a][2] for a in assets))
    if decimals is not None:
        terms.weights(decimals)
    return terms

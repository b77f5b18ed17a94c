"""Ledger CSV ingest: decimal amounts to exact integer units, streamed, with one clear error per bad input.

Format: a header ``user_id,<ASSET>,<ASSET>,...`` then one record per user,
RFC 4180 quoting (a quoted user id may hold commas, quotes and newlines).
UTF-8, with an optional byte-order mark. Blank lines are skipped. Lines are counted from 1 at the
header; a record that spans several lines is reported at the line where it
starts. Columns are counted from 1 (``user_id`` is column 1).

Amounts, strictly: ASCII digits with at most one decimal point and at least
one digit (``12``, ``0.5``, ``.5``, ``3.``); spaces around the amount are
ignored; an empty cell means zero. Refused: a sign (``-1`` is negative, and so
is ``-0``: a sign is never a way to write zero; ``+1`` is not a plain
amount), exponents (``1e5``), ``inf``/``nan``, hex, thousands separators,
spaces inside the number. Each asset's amounts are converted exactly to its
smallest unit (``amount * 10^decimals``); more decimals than the asset has
are refused, or rounded up with ``round_up`` (never down: a balance must not
shrink). Every balance must be below 2^64 units.

User ids: any non-empty UTF-8 text, unique within the ledger (compared
exactly, without normalisation). Asset names: non-empty, unique, and each
must have its decimals (``--decimals``); decimals naming an asset the ledger
does not have are refused too (most likely a typo).

Memory: the user ids are kept once, in a list; the non-zero balances go into
three flat numpy arrays grown in chunks (``offsets``, ``asset_ids``,
``units``), not one Python object per cell.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_UNITS = 1 << 64
MAX_DECIMALS = 30
_DIGITS = frozenset("0123456789")
_CHUNK = 1 << 16


class LedgerError(ValueError):
    """A ledger that cannot be read; ``str()`` names the file, line and column."""

    def __init__(self, path, line: int | None, reason: str, column: int | None = None, column_name: str | None = None):
        self.path, self.line, self.column, self.column_name, self.reason = str(path), line, column, column_name, reason
        where = self.path if line is None else f"{self.path}:{line}"
        if column is not None:
            where += f": column {column}" + (f" ({column_name})" if column_name else "")
        super().__init__(f"{where}: {reason}")


class SpecError(ValueError):
    """A malformed ``--decimals`` or ``--reserves`` value; the message names the option and the item."""


def to_units(text: str, decimals: int, round_up: bool = False) -> int:
    """The exact number of smallest units in the decimal amount ``text`` (ValueError says why not)."""
    s = text.strip(" ")
    if not s:
        return 0
    if s[0] in "+-":
        raise ValueError("negative amount" if s[0] == "-" else "a sign is not allowed in an amount")
    whole, dot, frac = s.partition(".")
    if (not whole and not frac) or not _DIGITS.issuperset(whole) or not _DIGITS.issuperset(frac) or "." in frac:
        raise ValueError(f"not a decimal amount: {text!r}")
    extra = frac[decimals:]
    frac = frac[:decimals]
    units = int(whole or "0") * 10**decimals + (int(frac) * 10 ** (decimals - len(frac)) if frac else 0)
    if extra.strip("0"):
        if not round_up:
            raise ValueError(f"{text.strip()} has more than {decimals} decimals (use --round-up to round up)")
        units += 1
    return units


def parse_decimals(spec: str, option: str = "--decimals") -> dict:
    """``"BTC=8,ETH=9"`` -> {"BTC": 8, "ETH": 9}."""
    out = {}
    for item in _items(spec, option):
        name, value = _pair(item, option)
        if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= MAX_DECIMALS:
            raise SpecError(f"{option}: {item!r}: decimals must be a whole number from 0 to {MAX_DECIMALS}")
        if name in out:
            raise SpecError(f"{option}: {name} is given twice")
        out[name] = int(value)
    return out


def parse_amounts(spec: str, decimals: dict, option: str = "--reserves") -> dict:
    """``"BTC=12.5,ETH=300"`` -> units per asset, with the assets' decimals (no rounding)."""
    out = {}
    for item in _items(spec, option):
        name, value = _pair(item, option)
        if name not in decimals:
            raise SpecError(f"{option}: {name} is not an asset of the ledger")
        if name in out:
            raise SpecError(f"{option}: {name} is given twice")
        try:
            out[name] = to_units(value, decimals[name])
        except ValueError as e:
            raise SpecError(f"{option}: {name}: {e}") from None
        if not value.strip():
            raise SpecError(f"{option}: {name}: no amount")
    return out


def _items(spec: str, option: str) -> list:
    items = [item.strip() for item in spec.split(",")]
    if not spec.strip() or any(not item for item in items):
        raise SpecError(f"{option}: expected NAME=VALUE pairs separated by commas, got {spec!r}")
    return items


def _pair(item: str, option: str) -> tuple:
    name, eq, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name:
        raise SpecError(f"{option}: {item!r} is not NAME=VALUE")
    return name, value


@dataclass
class Ledger:
    path: str
    assets: tuple  # names, header order; asset j + 1 in the circuit is assets[j]
    decimals: tuple
    user_ids: list
    offsets: np.ndarray  # (users + 1,) int64: user u's balances are entries offsets[u]..offsets[u+1]
    asset_ids: np.ndarray  # (entries,) uint32, 1..K
    units: np.ndarray  # (entries,) uint64, non-zero

    @property
    def users(self) -> int:
        return len(self.user_ids)

    def balances_of(self, u: int) -> list:
        lo, hi = int(self.offsets[u]), int(self.offsets[u + 1])
        return [(int(a), int(b)) for a, b in zip(self.asset_ids[lo:hi], self.units[lo:hi])]

    def totals(self) -> list:
        """Exact total units per asset (Python ints)."""
        out = [0] * len(self.assets)
        for j in range(1, len(self.assets) + 1):
            picked = self.units[self.asset_ids == j]
            # Sum 32-bit halves in uint64 so that nothing overflows: exact for up to 2^32 entries.
            low = int((picked & np.uint64(0xFFFFFFFF)).sum(dtype=np.uint64))
            high = int((picked >> np.uint64(32)).sum(dtype=np.uint64))
            out[j - 1] = (high << 32) + low
        return out

    def max_nonzero_per_user(self) -> int:
        return int(np.diff(self.offsets).max(initial=0))


class _Growing:
    """An append-only numpy array grown in chunks."""

    def __init__(self, dtype):
        self.data = np.empty(_CHUNK, dtype=dtype)
        self.size = 0

    def append(self, value) -> None:
        if self.size == self.data.shape[0]:
            self.data = np.resize(self.data, 2 * self.size)
        self.data[self.size] = value
        self.size += 1

    def array(self) -> np.ndarray:
        return self.data[: self.size].copy()


class _Lines:
    """The file's lines decoded one by one, counted, so that every record and error has its line."""

    def __init__(self, raw):
        self.raw = raw
        self.lines = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        data = next(self.raw)
        self.lines += 1
        if self.lines == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data.decode("utf-8")


def read_ledger(path, decimals: dict, round_up: bool = False, progress=None) -> Ledger:
    """Read and check a ledger CSV; LedgerError names the first problem found."""
    path = Path(path)
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise LedgerError(path, None, f"cannot open the ledger: {e.strerror or e}") from None
    with raw:
        counter = _Lines(raw)
        reader = csv.reader(counter, strict=True)
        try:
            return _read(path, reader, counter, decimals, round_up, progress)
        except UnicodeDecodeError:
            raise LedgerError(path, counter.lines, "not valid UTF-8") from None
        except csv.Error as e:
            raise LedgerError(path, counter.lines, f"malformed CSV: {e}") from None


def _read(path, reader, counter, decimals, round_up, progress) -> Ledger:
    start = counter.lines + 1
    header = next(reader, None)
    if header is None:
        raise LedgerError(path, None, "the ledger is empty (expected a header user_id,<ASSET>,...)")
    if not header or header[0].strip() != "user_id":
        raise LedgerError(path, start, "the header must start with user_id", 1)
    assets = [name.strip() for name in header[1:]]
    if not assets:
        raise LedgerError(path, start, "the header names no asset")
    seen_assets = {}
    for k, name in enumerate(assets, start=2):
        if not name:
            raise LedgerError(path, start, "empty asset name", k)
        if name in seen_assets:
            raise LedgerError(path, start, f"asset {name} appears twice (also column {seen_assets[name]})", k, name)
        seen_assets[name] = k
        if name not in decimals:
            raise LedgerError(path, start, f"no decimals for {name} (add {name}=<decimals> to --decimals)", k, name)
    unknown = sorted(set(decimals) - set(assets))
    if unknown:
        raise LedgerError(path, start, f"--decimals names assets the ledger does not have: {', '.join(unknown)}")
    decimal_list = [decimals[a] for a in assets]
    width = len(header)

    user_ids: list = []
    first_line: dict = {}
    offsets = _Growing(np.int64)
    offsets.append(0)
    asset_ids = _Growing(np.uint32)
    units = _Growing(np.uint64)
    while True:
        start = counter.lines + 1
        record = next(reader, None)
        if record is None:
            break
        if not record:
            continue  # a blank line
        if len(record) != width:
            raise LedgerError(path, start, f"expected {width} columns as in the header, found {len(record)}")
        uid = record[0]
        if not uid.strip():
            raise LedgerError(path, start, "empty user id", 1, "user_id")
        if uid in first_line:
            raise LedgerError(path, start, f"duplicate user id (first on line {first_line[uid]})", 1, "user_id")
        first_line[uid] = start
        user_ids.append(uid)
        for k in range(1, width):
            cell = record[k]
            if not cell or cell == "0":
                continue
            try:
                value = to_units(cell, decimal_list[k - 1], round_up)
            except ValueError as e:
                raise LedgerError(path, start, str(e), k + 1, assets[k - 1]) from None
            if value >= MAX_UNITS:
                raise LedgerError(path, start, f"{cell.strip()} is 2^64 units or more", k + 1, assets[k - 1])
            if value:
                asset_ids.append(k)
                units.append(value)
        offsets.append(units.size)
        if progress and len(user_ids) % 100_000 == 0:
            progress(f"read {len(user_ids)} users")
    if not user_ids:
        raise LedgerError(path, None, "no users (the ledger has only a header)")
    return Ledger(str(path), tuple(assets), tuple(decimal_list), user_ids, offsets.array(), asset_ids.array(),
                  units.array())

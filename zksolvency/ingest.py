"""Ledger CSV ingest: decimal amounts to exact integer units, streamed, with one clear error per bad input.

Format: a header ``user_id,<ASSET>,<ASSET>,...`` then one record per user,
RFC 4180 quoting (a quoted user id may hold commas and quotes). UTF-8; a
byte-order mark is skipped at the very start of the file and refused anywhere
else. Blank lines are skipped. Lines are counted from 1 at the header; a
record that spans several lines (a quoted line break, always refused) is
reported at the line where it starts. Columns are counted from 1 (``user_id``
is column 1). A record (its line, or lines) has at most ``MAX_RECORD_BYTES``.

Amounts, strictly: ASCII digits with at most one decimal point and at least
one digit (``12``, ``0.5``, ``.5``, ``3.``), at most ``MAX_AMOUNT_CHARS``
characters; spaces around the amount are ignored; an empty cell means zero.
Refused: a sign (``-1`` is negative, and so is ``-0``: a sign is never a way
to write zero; ``+1`` is not a plain amount), exponents (``1e5``),
``inf``/``nan``, hex, thousands separators, spaces inside the number. Each
asset's amounts are converted exactly to its smallest unit
(``amount * 10^decimals``); more decimals than the asset has are refused, or
rounded up with ``round_up`` (never down: a balance must not shrink). Every
balance must be below 2^64 units.

User ids and asset names are shown to customers, so two of them must never
look the same; they are refused, never normalised (``text_problem``): no
control character or line break, no bidirectional control, no byte-order
mark, no spaces around, in Unicode NFC, at least one visible character. Two
ids (or two names) whose ``lookalike_key`` is equal are refused: they differ
only in invisible characters (zero-width and other default-ignorable code
points), runs of spaces or compatibility forms (NFKC: full-width letters,
ligatures). Letters of different scripts that look alike (Latin "a",
Cyrillic "а") are not compared. A user id has at most ``MAX_USER_ID_BYTES``
bytes of UTF-8, an asset name at most ``MAX_ASSET_NAME`` characters. Each
asset must have its decimals (``--decimals``); decimals naming an asset the
ledger does not have are refused too (most likely a typo).

Memory: the user ids are kept once, in a list; the non-zero balances go into
three flat numpy arrays grown in chunks (``offsets``, ``asset_ids``,
``units``), not one Python object per cell.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_UNITS = 1 << 64
MAX_DECIMALS = 30
MAX_AMOUNT_CHARS = 100  # 2^128 - 1 (the largest reserve) has 39 digits, and an asset at most 30 decimals
MAX_USER_ID_BYTES = 1024
MAX_ASSET_NAME = 64
MAX_RECORD_BYTES = 16 << 20
DEBT_SUFFIX = ":debt"
_DIGITS = frozenset("0123456789")
_CHUNK = 1 << 16
BOM = "\ufeff"

# Refused in ids and names: C0 and C1 controls, DEL, the line and paragraph separators, the
# bidirectional embeddings, overrides and isolates (they reorder the text shown around them), the BOM.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): shown as nothing.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def text_problem(text: str, what: str, key: str | None = None) -> str | None:
    """Why ``text`` cannot be an id or a name a customer is shown (None if it can); ``key``: its lookalike key."""
    m = _FORBIDDEN.search(text)
    if m:
        c = m.group()
        if c == BOM:
            return f"{what} has a byte-order mark (U+FEFF)"
        kind = "bidirectional control" if c in _BIDI_CONTROLS else "control character"
        return f"{what} has a {kind} U+{ord(c):04X}"
    if text != text.strip():
        return f"{what} has spaces around it"
    if text.isascii():
        return None if text else f"{what} has no visible character"
    if not unicodedata.is_normalized("NFC", text):
        return f"{what} is not in Unicode NFC"
    if not (lookalike_key(text) if key is None else key):
        return f"{what} has no visible character"
    return None


def asset_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an asset (None if it can): empty, longer than ``MAX_ASSET_NAME``, or ``text_problem``."""
    if not name:
        return "empty asset name"
    if len(name) > MAX_ASSET_NAME:
        return f"an asset name of {len(name)} characters (at most {MAX_ASSET_NAME})"
    return text_problem(name, "asset name")


def lookalike_key(text: str) -> str:
    """Equal for texts shown alike: invisible characters dropped, NFKC, runs of spaces as one space, stripped."""
    if text.isascii():
        return text if "  " not in text and text == text.strip() else " ".join(text.split())
    return " ".join(unicodedata.normalize("NFKC", _IGNORABLE.sub("", text)).split())


def shown(text: str, limit: int = 40) -> str:
    """``text`` for an error message: as is if short and printable, else its repr cut to ``limit``."""
    if len(text) <= limit and text.isprintable():
        return text
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


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
    if len(s) > MAX_AMOUNT_CHARS:
        raise ValueError(f"an amount of {len(s)} characters (at most {MAX_AMOUNT_CHARS})")
    if s[0] in "+-":
        raise ValueError("negative amount" if s[0] == "-" else "a sign is not allowed in an amount")
    whole, dot, frac = s.partition(".")
    if (not whole and not frac) or not _DIGITS.issuperset(whole) or not _DIGITS.issuperset(frac) or "." in frac:
        raise ValueError(f"not a decimal amount: {s!r}")
    extra = frac[decimals:]
    frac = frac[:decimals]
    units = int(whole or "0") * 10**decimals + (int(frac) * 10 ** (decimals - len(frac)) if frac else 0)
    if extra.strip("0"):
        if not round_up:
            raise ValueError(f"{s} has more than {decimals} decimals (use --round-up to round up)")
        units += 1
    return units


def parse_decimals(spec: str, option: str = "--decimals") -> dict:
    """``"BTC=8,ETH=9"`` -> {"BTC": 8, "ETH": 9}."""
    out = {}
    for item in _items(spec, option):
        name, value = _pair(item, option)
        if not value.isascii() or not value.isdigit() or len(value) > 2 or int(value) > MAX_DECIMALS:
            raise SpecError(f"{option}: {shown(item)}: decimals must be a whole number from 0 to {MAX_DECIMALS}")
        if name in out:
            raise SpecError(f"{option}: {shown(name)} is given twice")
        out[name] = int(value)
    return out


def parse_amounts(spec: str, decimals: dict, option: str = "--reserves") -> dict:
    """``"BTC=12.5,ETH=300"`` -> units per asset, with the assets' decimals (no rounding)."""
    out = {}
    for item in _items(spec, option):
        name, value = _pair(item, option)
        if name not in decimals:
            raise SpecError(f"{option}: {shown(name)} is not an asset of the ledger")
        if name in out:
            raise SpecError(f"{option}: {shown(name)} is given twice")
        try:
            out[name] = to_units(value, decimals[name])
        except ValueError as e:
            raise SpecError(f"{option}: {shown(name)}: {e}") from None
        if not value.strip():
            raise SpecError(f"{option}: {shown(name)}: no amount")
    return out


def _items(spec: str, option: str) -> list:
    items = [item.strip() for item in spec.split(",")]
    if not spec.strip() or any(not item for item in items):
        cut = "…" if len(spec) > 40 else ""
        raise SpecError(f"{option}: expected NAME=VALUE pairs separated by commas, got {spec[:40]!r}{cut}")
    return items


def _pair(item: str, option: str) -> tuple:
    name, eq, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name:
        raise SpecError(f"{option}: {shown(item)} is not NAME=VALUE")
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
    # A margin ledger also holds debts: the debt of asset j is an entry with asset id K + j (after the
    # equities 1..K), a user's entries in increasing id order.
    margin: bool = False

    @property
    def users(self) -> int:
        return len(self.user_ids)

    def debt_totals(self) -> list:
        """Exact total debt units per asset (Python ints); zeros for a spot ledger."""
        k = len(self.assets)
        return [_exact_sum(self.units[self.asset_ids == k + j]) for j in range(1, k + 1)]

    def balances_of(self, u: int) -> list:
        lo, hi = int(self.offsets[u]), int(self.offsets[u + 1])
        return [(int(a), int(b)) for a, b in zip(self.asset_ids[lo:hi], self.units[lo:hi])]

    def totals(self) -> list:
        """Exact total units per asset (Python ints)."""
        return [_exact_sum(self.units[self.asset_ids == j]) for j in range(1, len(self.assets) + 1)]

    def max_nonzero_per_user(self) -> int:
        return int(np.diff(self.offsets).max(initial=0))


def _exact_sum(picked: np.ndarray) -> int:
    """Sum 32-bit halves in uint64 so that nothing overflows: exact for up to 2^32 entries."""
    low = int((picked & np.uint64(0xFFFFFFFF)).sum(dtype=np.uint64))
    high = int((picked >> np.uint64(32)).sum(dtype=np.uint64))
    return (high << 32) + low


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
    """The file's lines decoded one by one, counted, so that every record and error has its line.

    Each record's lines are kept until the next record starts (``begin_record``), at most
    ``MAX_RECORD_BYTES`` of them: no line is read further than that.
    """

    def __init__(self, raw, path):
        self.raw, self.path = raw, path
        self.lines = 0
        self.begin_record()

    def begin_record(self) -> None:
        self.start = self.lines + 1
        self.record_lines: list = []
        self.record_bytes = 0
        self.bom = False  # a byte-order mark in this record's text

    def __iter__(self):
        return self

    def __next__(self) -> str:
        data = self.raw.readline(MAX_RECORD_BYTES - self.record_bytes + 1)
        if not data:
            raise StopIteration
        self.lines += 1
        self.record_bytes += len(data)
        if self.record_bytes > MAX_RECORD_BYTES:
            raise LedgerError(self.path, self.start, f"a record of more than {MAX_RECORD_BYTES >> 20} MiB")
        if self.lines == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerError(self.path, self.lines, "not valid UTF-8") from None
        self.bom = self.bom or BOM in text
        self.record_lines.append(text)
        return text


def read_ledger(path, decimals: dict, round_up: bool = False, progress=None) -> Ledger:
    """Read and check a ledger CSV; LedgerError names the first problem found."""
    path = Path(path)
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise LedgerError(path, None, f"cannot open the ledger: {e.strerror or e}") from None
    with raw:
        lines = _Lines(raw, path)
        return _read(path, _Records(csv.reader(lines, strict=True), lines), decimals, round_up, progress)


class _Records:
    """The ledger's records, with the csv module's errors and its field limit reported as ours."""

    def __init__(self, reader, lines: _Lines):
        self.reader, self.lines = reader, lines
        self.assets = None  # known once the header is read

    @property
    def start(self) -> int:
        return self.lines.start

    def next(self) -> list | None:
        lines = self.lines
        lines.begin_record()
        try:
            record = next(self.reader, None)
        except csv.Error as e:
            if str(e).startswith("field larger than field limit"):
                raise self._overlong() from None
            raise LedgerError(lines.path, lines.lines, f"malformed CSV: {e}") from None
        if record is not None and lines.bom:
            k = next((k for k, cell in enumerate(record, start=1) if BOM in cell), None)
            raise LedgerError(lines.path, lines.start, "a byte-order mark (U+FEFF) inside the file", k)
        return record

    def _overlong(self) -> LedgerError:
        limit = csv.field_size_limit()
        k = _overlong_cell("".join(self.lines.record_lines), limit)
        name = None
        if self.assets is None:
            what, bound = ("an asset name", f" (at most {MAX_ASSET_NAME})") if k and k > 1 else ("a header cell", "")
        elif k == 1:
            what, bound, name = "a user id", f" (at most {MAX_USER_ID_BYTES} bytes)", "user_id"
        elif k is not None and k <= len(self.assets) + 1:
            what, bound, name = "an amount", f" (at most {MAX_AMOUNT_CHARS})", self.assets[k - 2]
        else:
            what, bound = "a cell", ""
        return LedgerError(self.lines.path, self.lines.start, f"{what} of more than {limit} characters{bound}", k, name)


_CSV_TOKEN = re.compile(r'[^,"\r\n]+|[\s\S]')


def _overlong_cell(text: str, limit: int) -> int | None:
    """The column of the first cell of the record ``text`` longer than ``limit`` (the csv module's rules)."""
    column, length, at_start, quoted, quote_seen = 1, 0, True, False, False
    for m in _CSV_TOKEN.finditer(text):
        t = m.group()
        if quoted:
            if t == '"':
                if quote_seen:
                    length += 1  # "" inside quotes is one quote
                quote_seen = not quote_seen
                continue
            if not quote_seen:
                length += len(t)
                if length > limit:
                    return column
                continue
            quoted = quote_seen = False  # the closing quote was the one seen
        if t == ",":
            column, length, at_start = column + 1, 0, True
        elif t in "\r\n":
            return None
        elif at_start and t == '"':
            quoted, at_start = True, False
        else:
            at_start = False
            length += len(t)
            if length > limit:
                return column
    return None


def _read(path, records: _Records, decimals, round_up, progress) -> Ledger:
    header = records.next()
    start = records.start
    if header is None:
        raise LedgerError(path, None, "the ledger is empty (expected a header user_id,<ASSET>,...)")
    if not header or header[0].strip() != "user_id":
        raise LedgerError(path, start, "the header must start with user_id", 1)
    columns = [name.strip() for name in header[1:]]
    if not columns:
        raise LedgerError(path, start, "the header names no asset")
    # A column <ASSET>:debt holds the debts of the asset <ASSET> (a column of its own): a margin ledger.
    equity_names = {name for name in columns if not name.endswith(DEBT_SUFFIX)}
    debt_of = {}  # column number -> asset name
    for k, name in enumerate(columns, start=2):
        if name.endswith(DEBT_SUFFIX):
            asset = name[: -len(DEBT_SUFFIX)].strip()
            if asset not in equity_names:
                raise LedgerError(path, start, f"debt column {shown(name)} has no asset column {shown(asset)}", k)
            if asset in debt_of.values():
                raise LedgerError(path, start, f"asset {shown(asset)} has two debt columns", k, name)
            debt_of[k] = asset
    assets = [name for name in columns if not name.endswith(DEBT_SUFFIX)]
    seen_assets = {}
    for k, name in enumerate(columns, start=2):
        if k in debt_of:
            continue
        problem = asset_name_problem(name)
        if problem:
            raise LedgerError(path, start, problem, k)
        key = lookalike_key(name)
        if key in seen_assets:
            first, same = seen_assets[key]
            reason = (f"asset {name} appears twice (also column {first})" if same == name else
                      f"asset name looks the same as asset {same} (column {first})")
            raise LedgerError(path, start, reason, k, name)
        seen_assets[key] = (k, name)
        if name not in decimals:
            raise LedgerError(path, start, f"no decimals for {name} (add {name}=<decimals> to --decimals)", k, name)
    unknown = sorted(set(decimals) - set(assets))
    if unknown:
        raise LedgerError(path, start, "--decimals names assets the ledger does not have: "
                                       + ", ".join(shown(name) for name in unknown))
    decimal_list = [decimals[a] for a in assets]
    # Column k (from 2) -> the entry id it fills: asset j's equity is j, its debt K + j.
    index = {name: j for j, name in enumerate(assets, start=1)}
    column_id = [0, 0] + [index[debt_of[k]] + len(assets) if k in debt_of else index[columns[k - 2]]
                          for k in range(2, len(columns) + 2)]
    column_decimals = [0, 0] + [decimals[debt_of.get(k, columns[k - 2])] for k in range(2, len(columns) + 2)]
    margin = bool(debt_of)
    width = len(header)
    records.assets = columns

    user_ids: list = []
    first_of: dict = {}  # lookalike key -> index of the first user with it
    id_lines = array("q")  # each user's line
    offsets = _Growing(np.int64)
    offsets.append(0)
    asset_ids = _Growing(np.uint32)
    units = _Growing(np.uint64)
    while True:
        record = records.next()
        start = records.start
        if record is None:
            break
        if not record:
            continue  # a blank line
        if len(record) != width:
            raise LedgerError(path, start, f"expected {width} columns as in the header, found {len(record)}")
        uid = record[0]
        if not uid.strip():
            raise LedgerError(path, start, "empty user id", 1, "user_id")
        key = lookalike_key(uid)
        problem = _user_id_problem(uid, key)
        first = first_of.get(key)
        if first is not None:
            if problem is None:
                problem = (f"duplicate user id (first on line {id_lines[first]})" if user_ids[first] == uid else
                           f"user id looks the same as the id on line {id_lines[first]} (they differ only in "
                           "invisible characters, spaces or character forms)")
            elif problem.endswith("NFC") and user_ids[first] == unicodedata.normalize("NFC", uid):
                problem += f" (in NFC it is the id on line {id_lines[first]})"
        if problem:
            raise LedgerError(path, start, problem, 1, "user_id")
        first_of[key] = len(user_ids)
        id_lines.append(start)
        user_ids.append(uid)
        entries = []
        for k in range(1, width):
            cell = record[k]
            if not cell or cell == "0":
                continue
            try:
                value = to_units(cell, column_decimals[k + 1], round_up)
            except ValueError as e:
                raise LedgerError(path, start, str(e), k + 1, columns[k - 1]) from None
            if value >= MAX_UNITS:
                raise LedgerError(path, start, f"{cell.strip()} is 2^64 units or more", k + 1, columns[k - 1])
            if value:
                entries.append((column_id[k + 1], value))
        if margin:
            entries.sort()
        for asset_id, value in entries:
            asset_ids.append(asset_id)
            units.append(value)
        offsets.append(units.size)
        if progress and len(user_ids) % 100_000 == 0:
            progress(f"read {len(user_ids)} users")
    if not user_ids:
        raise LedgerError(path, None, "no users (the ledger has only a header)")
    return Ledger(str(path), tuple(assets), tuple(decimal_list), user_ids, offsets.array(), asset_ids.array(),
                  units.array(), margin)


def _user_id_problem(uid: str, key: str) -> str | None:
    if len(uid) * 4 > MAX_USER_ID_BYTES:  # a UTF-8 character takes at most 4 bytes
        size = len(uid.encode("utf-8"))
        if size > MAX_USER_ID_BYTES:
            return f"a user id of {size} bytes (at most {MAX_USER_ID_BYTES})"
    return text_problem(uid, "user id", key)

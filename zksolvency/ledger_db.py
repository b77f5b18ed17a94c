"""Ledgers read from a database by a query in long form, in one read-only snapshot, streamed in batches.

Sources: ``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``; libpq's URL
form, the password from ``PGPASSWORD`` or a ``.pgpass`` file, never from the
URL) and ``sqlite:///PATH`` (a relative path, or ``sqlite:////abs/path``).

The query returns one row per customer and asset: ``user_id, asset, amount``
and, for a margin ledger, a fourth column ``debt`` (columns are taken by
position, whatever they are named). Rows may come in any order; a customer's
asset twice is refused. The assets are the ``--decimals`` names, numbered in
that order (asset j + 1 in the circuit is the j-th name); a row of another
asset is refused, and so is a name no row has, as with a CSV header.

Amounts: an integer value is a number of smallest units; a decimal text value
(PostgreSQL ``NUMERIC``, SQLite ``TEXT``) is an amount in the asset's units
under the CSV's rules (``ingest.to_units``, ``--round-up`` included). A
floating-point column or value is refused (it cannot hold an exact amount),
and so are NULLs, negative amounts and 2^64 units or more. Ids and names
follow the CSV's rules (``ingest``). Errors name the source and the row's key
(customer id and asset), never an amount.

PostgreSQL: the query runs in one ``REPEATABLE READ READ ONLY`` transaction
(one snapshot however long the read; the database refuses any write) through
a server-side cursor fetched ``BATCH_ROWS`` at a time. SQLite: the file is
opened read-only with ``query_only`` set, and the query runs in one read
transaction (a snapshot in WAL mode; a shared lock that holds writers off in
rollback-journal mode). Memory: the rows are kept as three flat arrays
(customer index, asset, units; a fourth for debts), sorted once at the end
unless they came sorted; one Python string per customer.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from array import array
from urllib.parse import unquote

import numpy as np

from zksolvency.ingest import (
    MAX_UNITS,
    Ledger,
    LedgerError,
    _user_id_problem,
    asset_name_problem,
    lookalike_key,
    shown,
    to_units,
)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"
BATCH_ROWS = 50_000
PROGRESS_ROWS = 1 << 20
COLUMNS = ("user_id", "asset", "amount", "debt")
APPLICATION_NAME = "zksolvency ledger"

# PostgreSQL type names (pg_type.typname) by what a column may hold.
_ID_TYPES = frozenset({"text", "varchar", "bpchar", "name", "int2", "int4", "int8"})
_NAME_TYPES = frozenset({"text", "varchar", "bpchar", "name"})
_AMOUNT_TYPES = frozenset({"int2", "int4", "int8", "numeric"})
_FLOAT_TYPES = frozenset({"float4", "float8"})


def is_database_url(text: str) -> bool:
    """Whether ``--ledger`` names a database rather than a CSV file."""
    return text.startswith(POSTGRES_SCHEMES) or text.startswith("sqlite:")


def read_database_ledger(url: str, query: str, decimals: dict, round_up: bool = False, progress=None,
                         batch_rows: int | None = None, progress_rows: int | None = None) -> Ledger:
    """Read and check the ledger that ``query`` returns from the database at ``url``; LedgerError says why not."""
    source = shown(_redacted(url), 200)
    batch_rows, progress_rows = batch_rows or BATCH_ROWS, progress_rows or PROGRESS_ROWS
    if url.startswith(POSTGRES_SCHEMES):
        rows = _postgres_rows(url, source, query, batch_rows)
    elif url.startswith(SQLITE_SCHEME):
        rows = _sqlite_rows(url, source, query, batch_rows)
    else:
        raise LedgerError(source, None, "a SQLite ledger is named sqlite:///PATH (sqlite:////PATH when absolute)")
    with rows as (names, kinds, batches):
        return _collect(source, names, kinds, batches, decimals, round_up, progress, progress_rows)


# --------------------------------------------------------------------------- the rows, whatever the source


class _Rows:
    """Customers, assets and amounts gathered row by row into flat arrays."""

    def __init__(self, source: str, decimals: dict, margin: bool, round_up: bool):
        self.source, self.margin, self.round_up = source, margin, round_up
        self.assets = tuple(decimals)
        self.decimals = tuple(decimals[a] for a in self.assets)
        self.asset_index = {name: j for j, name in enumerate(self.assets, start=1)}
        self.user_ids: list = []
        self.index_of: dict = {}  # customer id -> its index
        self.alike: dict = {}  # lookalike key -> customer index, for the ids that are not their own key
        self.user = array("I")
        self.asset = array("H" if len(self.assets) < 1 << 16 else "I")
        self.units = array("Q")
        self.debts = array("Q")
        self.kinds: dict = {}  # column -> the Python type of its values (int: smallest units, str: decimal text)

    def error(self, uid, asset, reason: str) -> LedgerError:
        if uid is None:
            key = "a row" + (f" of asset {shown(asset)}" if asset is not None else "")
        else:
            key = f"customer {shown(uid)}" + (f", asset {shown(asset)}" if asset is not None else "")
        return LedgerError(self.source, None, f"{key}: {reason}")

    def customer(self, raw, asset) -> int:
        """The index of the customer with id ``raw`` (a new one if unseen), by the CSV's id rules."""
        uid = raw if type(raw) is str else _id_text(raw)
        if uid is None:
            raise self.error(None, asset if type(asset) is str else None, "NULL customer id" if raw is None else
                             f"a customer id must be text or an integer, not {type(raw).__name__}")
        u = self.index_of.get(uid)
        if u is not None:
            return u
        key = lookalike_key(uid)  # another id with this key looks the same: it is either its own key or alike
        if (key != uid and key in self.index_of) or key in self.alike:
            raise self.error(uid, None, "customer id looks the same as another customer's (they differ only in "
                                        "invisible characters, spaces or character forms)")
        problem = _user_id_problem(uid, key)
        if problem:
            raise self.error(uid, None, problem)
        u = self.index_of[uid] = len(self.user_ids)
        if key != uid:
            self.alike[key] = u
        self.user_ids.append(uid)
        return u

    def amount(self, value, j: int, column: int, u: int, asset: str) -> int:
        """``value`` (column ``column`` of a row of asset ``j``) in smallest units, by the CSV's amount rules."""
        kind = type(value)
        if kind is int:
            units = value
            if units < 0:
                raise self.error(self.user_ids[u], asset, f"negative {COLUMNS[column]}")
        elif kind is str:
            try:
                units = to_units(value, self.decimals[j - 1], self.round_up)
            except ValueError as e:
                reason = _without_amount(e, value)
                raise self.error(self.user_ids[u], asset, reason if column == 2 else f"debt: {reason}") from None
            if not value.strip(" "):
                raise self.error(self.user_ids[u], asset, f"empty {COLUMNS[column]}")
        elif value is None:
            raise self.error(self.user_ids[u], asset, f"NULL {COLUMNS[column]}")
        elif kind is float:
            raise self.error(self.user_ids[u], asset, f"{COLUMNS[column]} is a floating-point value, which cannot "
                                                      "hold an exact amount (store smallest units as an integer or "
                                                      "the decimal amount as text)")
        else:
            raise self.error(self.user_ids[u], asset, f"{COLUMNS[column]} is a {kind.__name__} value, not an "
                                                      "integer or a decimal amount")
        if units >= MAX_UNITS:
            raise self.error(self.user_ids[u], asset, f"{COLUMNS[column]} is 2^64 units or more")
        first = self.kinds.setdefault(column, kind)
        if first is not kind:  # SQLite's NUMERIC affinity turns "1.0" into the integer 1 and "1.5" into a float
            raise self.error(self.user_ids[u], asset,
                             f"the {COLUMNS[column]} column holds both integers (smallest units) and decimal text "
                             "(asset units): use one form")
        return units

    def add(self, batch) -> None:
        """Append one batch of rows (tuples of 3 or 4 values), each checked by ``customer`` and ``amount``.

        The loop first tries the common case inline (a customer already seen, an amount of the column's form
        that converts below 2^64); anything else goes through the checks, which accept it or say why not.
        """
        if self.margin:
            for row in batch:
                u = self.customer_of(row[0], row[1])
                j = self.asset_of(u, row[1])
                self.user.append(u), self.asset.append(j)
                self.units.append(self.amount(row[2], j, 2, u, row[1]))
                self.debts.append(self.amount(row[3], j, 3, u, row[1]))
            return
        user, asset, units = self.user.append, self.asset.append, self.units.append
        index_of, asset_index, customer = self.index_of, self.asset_index, self.customer
        decimals, round_up, kind = (None, *self.decimals), self.round_up, self.kinds.get(2)
        previous, u = None, -1
        for raw, name, value in batch:
            if raw != previous or type(raw) is not str:  # rows grouped by customer skip the look-up
                u = index_of.get(raw)
                if u is None:  # a new customer (or not an id: customer says why)
                    u = customer(raw, name)
                previous = raw
            j = asset_index.get(name)
            if j is None:
                self.asset_of(u, name)
            if type(value) is not kind:
                v = self.amount(value, j, 2, u, name)
                kind = self.kinds.get(2)
            elif kind is str:
                try:
                    v = to_units(value, decimals[j], round_up)
                except ValueError:
                    v = MAX_UNITS
                if v >= MAX_UNITS or not v:  # a zero may be blank text, which the checks refuse
                    v = self.amount(value, j, 2, u, name)
            else:
                v = value
                if v < 0 or v >= MAX_UNITS:
                    v = self.amount(value, j, 2, u, name)
            user(u), asset(j), units(v)

    def customer_of(self, raw, asset) -> int:
        u = self.index_of.get(raw)
        return u if u is not None else self.customer(raw, asset)

    def asset_of(self, u: int, name) -> int:
        """The asset id of ``name`` (LedgerError if it is not one of --decimals)."""
        j = self.asset_index.get(name)
        if j is None:
            raise self.error(self.user_ids[u], name if type(name) is str else None, self._asset_problem(name))
        return j

    def _asset_problem(self, name) -> str:
        if name is None:
            return "NULL asset"
        if type(name) is not str:
            return f"an asset must be named by text, not {type(name).__name__}"
        return "not an asset of --decimals (name it there, or leave its rows out of the query)"

    def ledger(self) -> Ledger:
        """The rows as a ``Ledger``: each customer's entries in increasing asset id, zeros left out.

        Memory: the row arrays, then one key array (sorted in place to find a customer's asset twice), then
        the non-zero entries alone, sorted through one index array when they did not arrive sorted.
        """
        if not self.user_ids:
            raise LedgerError(self.source, None, "no customers (the query returned no row)")
        k, users = len(self.assets), len(self.user_ids)
        user = np.frombuffer(self.user, dtype=np.uint32)
        asset = np.frombuffer(self.asset, dtype=np.uint16 if self.asset.typecode == "H" else np.uint32)
        key = _key(user, asset, k + 1)
        key.sort()
        twice = np.flatnonzero(key[1:] == key[:-1])
        if twice.size:
            u, j = divmod(int(key[twice[0]]), k + 1)
            raise self.error(self.user_ids[u], self.assets[j - 1], "the asset appears twice for this customer")
        del key
        present = np.bincount(asset, minlength=k + 1)
        missing = [name for j, name in enumerate(self.assets, start=1) if not present[j]]
        if missing:
            raise LedgerError(self.source, None, "--decimals names assets the ledger does not have: "
                                                 + ", ".join(shown(name) for name in missing))
        columns = [(np.frombuffer(self.units, dtype=np.uint64), 0)]
        if self.margin:
            columns.append((np.frombuffer(self.debts, dtype=np.uint64), k))
        parts = []
        for amounts, shift in columns:
            nonzero = amounts != 0
            parts.append((user[nonzero], asset[nonzero].astype(np.uint32) + np.uint32(shift), amounts[nonzero]))
        del user, asset, amounts, columns, nonzero
        self.user = self.asset = self.units = self.debts = None  # the row arrays are no longer needed
        entry_user, entry_asset, entry_units = (np.concatenate(x) if len(x) > 1 else x[0] for x in zip(*parts))
        del parts
        key = _key(entry_user, entry_asset, 2 * k + 1)
        if np.any(key[1:] < key[:-1]):  # rows did not arrive grouped by customer, in asset order
            order = np.argsort(key)
            del key
            entry_asset, entry_units = entry_asset[order], entry_units[order]
            del order
        else:
            del key
        offsets = np.zeros(users + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_user, minlength=users), out=offsets[1:])
        return Ledger(self.source, self.assets, self.decimals, self.user_ids, offsets, entry_asset, entry_units,
                      margin=self.margin)


def _key(user: np.ndarray, asset: np.ndarray, base: int) -> np.ndarray:
    """``user * base + asset`` as uint64: one number per (customer, asset id), ordered as the ledger is."""
    key = user.astype(np.uint64)
    key *= np.uint64(base)
    key += asset
    return key


def _without_amount(e: ValueError, value: str) -> str:
    """``to_units``'s reason with the amount it quotes left out: an error names the row, never a balance."""
    reason, text = str(e), value.strip(" ")
    if text and reason.startswith(text + " "):
        return "the amount " + reason[len(text) + 1:]
    if reason.endswith(": " + repr(text)):
        return reason[: -len(repr(text)) - 2]
    return reason


def _id_text(raw) -> str | None:
    return str(raw) if type(raw) is int else None


def _collect(source, names, kinds, batches, decimals, round_up, progress, progress_rows) -> Ledger:
    """Check the query's columns, then read its rows batch by batch into a Ledger."""
    if len(names) not in (3, 4):
        raise LedgerError(source, None, f"the query returns {len(names)} column(s); expected 3 (user_id, asset, "
                                        "amount) or 4 (user_id, asset, amount, debt)")
    for column, kind in enumerate(kinds):
        problem = _column_problem(column, kind)
        if problem:
            named = "" if names[column] == COLUMNS[column] else f", {shown(names[column])} in the query"
            raise LedgerError(source, None, f"column {column + 1} ({COLUMNS[column]}{named}): {problem}")
    seen = {}
    for name in decimals:
        problem = asset_name_problem(name)
        key = lookalike_key(name)
        if not problem and key in seen:
            problem = f"asset name looks the same as asset {shown(seen[key])}"
        if problem:
            raise LedgerError(source, None, f"--decimals: {shown(name)}: {problem}")
        seen[key] = name
    rows = _Rows(source, decimals, len(names) == 4, round_up)
    count, reported = 0, 0
    for batch in batches:
        rows.add(batch)
        count += len(batch)
        if progress and count // progress_rows > reported:
            reported = count // progress_rows
            progress(f"read {reported * progress_rows} rows")
    return rows.ledger()


def _column_problem(column: int, kind: str | None) -> str | None:
    """Why a PostgreSQL column of type ``kind`` cannot be read as ``COLUMNS[column]`` (None: it can, or unknown)."""
    if kind is None:  # SQLite: every value is checked by itself
        return None
    if column == 0:
        return None if kind in _ID_TYPES else f"of type {kind}: a customer id is text or an integer"
    if column == 1:
        return None if kind in _NAME_TYPES else f"of type {kind}: an asset is named by text"
    if kind in _FLOAT_TYPES:
        return (f"of type {'real' if kind == 'float4' else 'double precision'}: a floating-point column cannot hold "
                "exact amounts (use NUMERIC, or an integer type for smallest units)")
    return None if kind in _AMOUNT_TYPES else f"of type {kind}: expected NUMERIC or an integer type"


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_conninfo(url: str, source: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - psycopg's parse errors carry no class of their own worth naming
        raise LedgerError(source, None, "not a PostgreSQL URL (postgresql://USER@HOST:PORT/DB)") from None
    if "password" in params:
        raise LedgerError(source, None, "a password in the URL is refused (it would land in shell "
                                                       "history and logs): set PGPASSWORD or use a .pgpass file")
    return params


@contextlib.contextmanager
def _postgres_rows(url: str, source: str, query: str, batch_rows: int):
    params = _postgres_conninfo(url, source)
    import psycopg
    from psycopg.types.string import TextLoader

    params.setdefault("connect_timeout", "10")
    params.setdefault("application_name", APPLICATION_NAME)
    try:
        conn = psycopg.connect(**params)
    except psycopg.Error as e:
        raise LedgerError(source, None, f"cannot connect: {_first_line(e)}") from None
    read = [0]  # rows received
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.adapters.register_loader("numeric", TextLoader)  # NUMERIC as its exact decimal text
        with conn.cursor(name="zksolvency_ledger") as cursor:
            try:
                cursor.execute(query)
            except psycopg.Error as e:
                raise LedgerError(source, None, f"the query failed: {_first_line(e)}") from None
            description = cursor.description or []
            types = conn.adapters.types
            names = [c.name for c in description]
            kinds = [getattr(types.get(c.type_code), "name", f"oid {c.type_code}") for c in description]

            yield names, kinds, _read_ahead(lambda: cursor.fetchmany(batch_rows), read)
    except psycopg.Error as e:
        lost = conn.closed or isinstance(e, psycopg.OperationalError)
        reason = f"the connection was lost after {read[0]} rows" if lost else f"reading failed after {read[0]} rows"
        raise LedgerError(source, None, f"{reason}: {_first_line(e)}; nothing was proven") from None
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()


def _read_ahead(fetch, read: list):
    """The batches ``fetch()`` returns until an empty one, each fetched while the one before is checked.

    A thread waits for the server's next batch (the database produces and sends it meanwhile) and hands
    it over through a queue of two, so memory stays at a few batches; its failure is raised here, in
    order, after the batches it did receive; stopping early stops the thread.
    """
    handed: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetcher():
        try:
            while not stop.is_set():
                batch = fetch()
                handed.put(batch)
                if not batch:
                    return
        except BaseException as e:  # noqa: BLE001 - re-raised in the reading thread
            handed.put(e)

    thread = threading.Thread(target=fetcher, name="ledger-fetch", daemon=True)
    thread.start()
    try:
        while True:
            batch = handed.get()
            if isinstance(batch, BaseException):
                raise batch
            if not batch:
                return
            read[0] += len(batch)
            yield batch
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                handed.get(timeout=0.05)
        thread.join()


def _redacted(url: str) -> str:
    """``url`` with any password in it replaced by ``***`` (it is refused, but still never shown)."""
    url = re.sub(r"^([a-z]+://[^/@:]*):[^/@]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", url)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return shown(text[0] if text else type(e).__name__, 300)


# --------------------------------------------------------------------------- SQLite


@contextlib.contextmanager
def _sqlite_rows(url: str, source: str, query: str, batch_rows: int):
    import sqlite3
    from pathlib import Path
    from urllib.parse import quote

    path = unquote(url[len(SQLITE_SCHEME):])
    if not path:
        raise LedgerError(source, None, "no database file (sqlite:///PATH)")
    if not Path(path).is_file():
        raise LedgerError(source, None, "no such database file")
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as e:
        raise LedgerError(source, None, f"cannot open: {_first_line(e)}") from None
    read = 0
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")
        try:
            cursor = conn.execute(query)
        except (sqlite3.Error, sqlite3.Warning) as e:
            raise LedgerError(source, None, f"the query failed: {_first_line(e)}") from None
        names = [c[0] for c in cursor.description or []]

        def batches():
            nonlocal read
            while True:
                batch = cursor.fetchmany(batch_rows)
                if not batch:
                    return
                read += len(batch)
                yield batch

        yield names, [None] * len(names), batches()
    except sqlite3.Error as e:
        raise LedgerError(source, None, f"reading failed after {read} rows: {_first_line(e)}") from None
    finally:
        conn.close()

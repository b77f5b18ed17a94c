"""Ledgers from a database (issue [10]): a real PostgreSQL server and SQLite, the same rounds as from CSV,
every broken input refused by one table on both paths, one snapshot, a dropped connection, no password in a URL."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zksolvency import ledger_db
from zksolvency.cli import main
from zksolvency.ingest import LedgerError, parse_decimals, read_ledger
from zksolvency.ledger_db import read_database_ledger
from zksolvency.sample import decimals_spec, write_sample_ledger

from postgres_server import PostgresServer, server_bindir

USERS = 150
DEC = {"BTC": 8, "ETH": 9}
QUERY = "SELECT user_id, asset, amount FROM balances"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of our own on 127.0.0.1 (its password in a .pgpass file named by PGPASSFILE)."""
    bindir = server_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: install the Debian package postgresql (.ci/run does)")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    server = PostgresServer(bindir).start()
    before = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(server.passfile)
    try:
        yield server
    finally:
        if before is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = before
        server.stop()


_databases = iter(range(10**6))


def _pg_database(server, columns: str, rows) -> str:
    """A fresh database holding ``rows`` in a table ``balances`` of ``columns``; its URL."""
    url = server.create_database(f"ledger_{next(_databases)}")
    with server.connect(url.rsplit("/", 1)[1]) as conn:
        conn.execute(f"CREATE TABLE balances ({columns})")
        width = columns.count(",") + 1
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO balances VALUES ({', '.join(['%s'] * width)})", [tuple(r) for r in rows])
    return url


def _sqlite_database(path: Path, columns: str, rows) -> str:
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE balances ({columns})")
    width = columns.count(",") + 1
    con.executemany(f"INSERT INTO balances VALUES ({', '.join(['?'] * width)})", rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


# SQLite's storage classes for PostgreSQL's column types (TEXT for NUMERIC: an SQLite NUMERIC column would
# turn "1.5" into a float, which is refused).
_SQLITE_TYPES = {"text": "TEXT", "numeric": "TEXT", "bigint": "INTEGER", "double precision": "REAL"}


def _columns(types) -> tuple:
    names = ("user_id", "asset", "amount", "debt", "extra")
    pg = ", ".join(f"{n} {t}" for n, t in zip(names, types))
    lite = ", ".join(f"{n} {_SQLITE_TYPES[t]}" for n, t in zip(names, types))
    return pg, lite


def _source(kind, postgres, tmp_path, types, rows) -> str:
    pg, lite = _columns(types)
    if kind == "postgresql":
        return _pg_database(postgres, pg, rows)
    return _sqlite_database(tmp_path / f"ledger-{next(_databases)}.db", lite, rows)


SOURCES = ("postgresql", "sqlite")


# --------------------------------------------------------------------------- the same ledger as CSV


def _long_form(csv_path: Path, units_of=None) -> list:
    """The CSV ledger as rows (user_id, asset, amount): every written cell, zeros included; a customer
    with no cell gets one zero row. With ``units_of``, amounts in smallest units (integers) instead."""
    rows = []
    with open(csv_path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assets = next(reader)[1:]
        for u, record in enumerate(reader):
            uid, cells = record[0], record[1:]
            mine = [(uid, a, c) for a, c in zip(assets, cells) if c != ""]
            if units_of is not None:
                held = dict(units_of(u))
                mine = [(uid, a, held.get(assets.index(a) + 1, 0)) for uid, a, _ in mine]
            rows += mine or [(uid, assets[0], 0 if units_of else "0")]
    return rows


def _by_user(ledger) -> dict:
    return {uid: ledger.balances_of(u) for u, uid in enumerate(ledger.user_ids)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory, dev_srs):
    d = tmp_path_factory.mktemp("ledger_db")
    dev_srs.truncated(9).save(d / "srs.bin")
    totals = write_sample_ledger(d / "ledger.csv", USERS, seed=5)
    ledger = read_ledger(d / "ledger.csv", parse_decimals(decimals_spec()))
    return d, totals, ledger


@pytest.fixture(scope="module")
def sample_sources(sample, postgres):
    """The sample ledger in four databases: PostgreSQL NUMERIC (rows shuffled), PostgreSQL bigint smallest
    units, SQLite TEXT amounts and SQLite INTEGER units (rows in the CSV's order)."""
    d, _, ledger = sample
    decimal_rows = _long_form(d / "ledger.csv")
    unit_rows = _long_form(d / "ledger.csv", ledger.balances_of)
    shuffled = random.Random(3).sample(decimal_rows, len(decimal_rows))
    return {
        "postgresql numeric": _pg_database(postgres, "user_id text, asset varchar(16), amount numeric", shuffled),
        "postgresql bigint": _pg_database(postgres, "user_id text, asset text, amount bigint",
                                          random.Random(4).sample(unit_rows, len(unit_rows))),
        "sqlite text": _sqlite_database(d / "text.db", "user_id TEXT, asset TEXT, amount TEXT", decimal_rows),
        "sqlite integer": _sqlite_database(d / "units.db", "user_id TEXT, asset TEXT, amount INTEGER", unit_rows),
    }


def _order_of(names) -> dict:
    """--decimals in the sample's order: the asset numbering of a database ledger."""
    return {name: decimals_spec_dict()[name] for name in names}


def decimals_spec_dict() -> dict:
    return parse_decimals(decimals_spec())


@pytest.mark.parametrize("name", ["postgresql numeric", "postgresql bigint", "sqlite text", "sqlite integer"])
def test_a_database_ledger_is_the_csv_ledger(sample, sample_sources, name):
    _, totals, ledger = sample
    from_db = read_database_ledger(sample_sources[name], QUERY, decimals_spec_dict())
    assert from_db.assets == ledger.assets and from_db.decimals == ledger.decimals and not from_db.margin
    assert _by_user(from_db) == _by_user(ledger)
    assert from_db.totals() == [totals[a] for a in ledger.assets]
    assert from_db.offsets.dtype == np.int64 and from_db.asset_ids.dtype == np.uint32
    assert from_db.units.dtype == np.uint64 and int(from_db.units.min()) > 0


def run(*args, ok=True):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok is not None:
        assert (result.exit_code == 0) == ok, (result.exit_code, result.stdout, result.stderr)
    return result


def _prove_db(d, url, out, query=QUERY, ok=True, decimals=None):
    return run("prove", "--ledger", url, "--query", query, "--srs", d / "srs.bin", "--decimals",
               decimals or decimals_spec(), "--out", out, "--round-id", "r-db", "--json", ok=ok)


@pytest.mark.parametrize("name", ["postgresql numeric", "sqlite integer"])
def test_a_round_from_the_database_is_the_round_from_csv(sample, sample_sources, name):
    d, totals, ledger = sample
    out = d / f"round-{name.replace(' ', '-')}"
    proved = _prove_db(d, sample_sources[name], out)
    report = json.loads(proved.stdout)
    assert report["users"] == USERS
    shown = proved.stdout + proved.stderr + (out / "round.json").read_text(encoding="utf-8")
    assert not [uid for uid in ledger.user_ids if uid in shown]  # no customer id in anything public
    run("prove", "--ledger", d / "ledger.csv", "--srs", d / "srs.bin", "--decimals", decimals_spec(),
        "--out", d / f"csv-{name.replace(' ', '-')}", "--round-id", "r-db")
    verdicts = [json.loads(run("verify", o / "round.json", "--srs", d / "srs.bin", "--allow-insecure-srs",
                               "--json").stdout) for o in (out, d / f"csv-{name.replace(' ', '-')}")]
    assert verdicts[0]["valid"] and verdicts[1]["valid"]
    assert verdicts[0]["totals"] == verdicts[1]["totals"] == {k: str(v) for k, v in totals.items()}
    for u in (0, 1, 77, USERS - 1):
        uid = ledger.user_ids[u]
        run("inclusion", out, "--user", uid, "--out", d / "mine.json")
        checked = json.loads(run("verify-inclusion", d / "mine.json", "--user-id", uid, "--round",
                                 out / "round.json", "--srs", d / "srs.bin", "--allow-insecure-srs",
                                 "--json").stdout)
        expected = {a: "0" for a in ledger.assets}
        for a, units in ledger.balances_of(u):
            expected[ledger.assets[a - 1]] = str(units)
        assert checked["valid"] and checked["balances"] == expected


# --------------------------------------------------------------------------- one table of broken ledgers, every path

T3 = ("text", "text", "numeric")
I3 = ("text", "text", "bigint")
GOOD = [("alice", "BTC", "1.5"), ("bob", "ETH", "2")]

# (defect, column types, rows, query or None, expected reason, the row's key named in the message or None)
BROKEN = [
    ("float_column", ("text", "text", "double precision"), [("alice", "BTC", 1.5), ("bob", "ETH", 2.0)], None,
     "floating-point", None),  # PostgreSQL: the column's type; SQLite: the first row's value
    ("duplicate_customer_asset", T3, GOOD + [("carol", "BTC", "1"), ("alice", "BTC", "0")], None,
     "the asset appears twice for this customer", "customer alice, asset BTC"),
    ("negative_amount", T3, [("alice", "BTC", "1"), ("bob", "ETH", "-0.5")], None, "negative amount",
     "customer bob, asset ETH"),
    ("negative_units", I3, [("alice", "BTC", 1), ("bob", "ETH", -3)], None, "negative amount",
     "customer bob, asset ETH"),
    ("null_amount", T3, GOOD + [("carol", "ETH", None)], None, "NULL amount", "customer carol, asset ETH"),
    ("null_customer", T3, GOOD + [(None, "ETH", "1")], None, "NULL customer id", "a row of asset ETH"),
    ("null_asset", T3, GOOD + [("carol", None, "1")], None, "NULL asset", "customer carol"),
    ("two_columns", T3, GOOD, "SELECT user_id, asset FROM balances", "returns 2 column(s); expected 3", None),
    ("five_columns", T3, GOOD, "SELECT user_id, asset, amount, amount, amount FROM balances",
     "returns 5 column(s)", None),
    ("too_many_decimals", T3, GOOD + [("carol", "BTC", "0.123456789")], None, "the amount has more than 8 decimals",
     "customer carol, asset BTC"),
    ("past_2_64_units", T3, GOOD + [("carol", "BTC", "184467440737.09551616")], None, "2^64 units or more",
     "customer carol, asset BTC"),
    ("asset_not_in_decimals", T3, GOOD + [("carol", "DOGE", "1")], None, "not an asset of --decimals",
     "customer carol, asset DOGE"),
    ("decimals_asset_without_rows", T3, [("alice", "BTC", "1")], None,
     "--decimals names assets the ledger does not have: ETH", None),
    ("no_rows", T3, [], None, "no customers", None),
    ("lookalike_customers", T3, GOOD + [("ａｌｉｃｅ", "ETH", "1")], None, "looks the same as another customer's",
     "ａｌｉｃｅ"),
    ("control_in_customer_id", T3, GOOD + [("car\tol", "ETH", "1")], None, "control character U+0009", None),
    ("customer_id_with_spaces", T3, GOOD + [(" carol", "ETH", "1")], None, "spaces around it", None),
    ("not_a_number", T3, GOOD + [("carol", "ETH", "NaN")], None, "not a decimal amount", "customer carol, asset ETH"),
    ("negative_debt", ("text", "text", "bigint", "bigint"), [("alice", "BTC", 1, 0), ("bob", "ETH", 2, -1)], None,
     "negative debt", "customer bob, asset ETH"),
    ("null_debt", ("text", "text", "numeric", "numeric"), [("alice", "BTC", "1", "0"), ("bob", "ETH", "2", None)],
     None, "NULL debt", "customer bob, asset ETH"),
    ("a_query_that_fails", T3, GOOD, "SELECT user_id, asset, amount FROM no_such_table", "the query failed", None),
]


def _query(query, types):
    return query or "SELECT " + ", ".join(("user_id", "asset", "amount", "debt")[: len(types)]) + " FROM balances"


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("defect,types,rows,query,reason,key", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_ledgers_are_refused_naming_the_row(postgres, tmp_path, kind, defect, types, rows, query, reason, key):
    url = _source(kind, postgres, tmp_path, types, rows)
    with pytest.raises(LedgerError) as info:
        read_database_ledger(url, _query(query, types), DEC)
    message = str(info.value)
    assert message.startswith(url + ": ") and reason in message, message
    if key is not None:
        assert key in message, message
    for _, _, *amounts in rows:  # an error names the row, never a balance
        for amount in amounts:
            if isinstance(amount, str) and len(amount) > 2:
                assert amount not in message


@pytest.mark.parametrize("kind", SOURCES)
def test_prove_refuses_a_broken_database_ledger_and_writes_nothing(sample, postgres, tmp_path, kind):
    d, _, _ = sample
    url = _source(kind, postgres, tmp_path, T3, GOOD + [("alice", "BTC", "0")])
    out = tmp_path / "round"
    result = _prove_db(d, url, out, decimals="BTC=8,ETH=9", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("… ")]
    assert errors == [f"Error: {url}: customer alice, asset BTC: the asset appears twice for this customer"]
    assert not out.exists() and not list(tmp_path.glob("*round*"))


def test_postgresql_refuses_column_types_that_cannot_hold_amounts(postgres):
    for types, reason in (
            (("text", "text", "real"), "of type real: a floating-point column"),
            (("text", "text", "text"), "of type text: expected NUMERIC or an integer type"),
            (("text", "text", "boolean"), "of type bool"),
            (("text", "bigint", "numeric"), "of type int8: an asset is named by text"),
            (("numeric", "text", "numeric"), "of type numeric: a customer id is text or an integer")):
        url = _pg_database(postgres, ", ".join(f"c{i} {t}" for i, t in enumerate(types)), [])
        with pytest.raises(LedgerError, match=reason):
            read_database_ledger(url, "SELECT * FROM balances", DEC)


def test_sqlite_refuses_a_float_value_and_mixed_forms_row_by_row(tmp_path):
    # A column of declared type NUMERIC stores "1.5" as a float and "1.0" as the integer 1: both refused.
    url = _sqlite_database(tmp_path / "affinity.db", "user_id TEXT, asset TEXT, amount NUMERIC",
                           [("alice", "BTC", "2"), ("bob", "ETH", "1.5")])
    with pytest.raises(LedgerError, match="customer bob, asset ETH: amount is a floating-point value"):
        read_database_ledger(url, QUERY, DEC)
    url = _sqlite_database(tmp_path / "mixed.db", "user_id TEXT, asset TEXT, amount",
                           [("alice", "BTC", 150_000_000), ("bob", "ETH", "1.5")])
    with pytest.raises(LedgerError, match="customer bob, asset ETH: the amount column holds both integers"):
        read_database_ledger(url, QUERY, DEC)
    url = _sqlite_database(tmp_path / "blank.db", "user_id TEXT, asset TEXT, amount TEXT",
                           [("alice", "BTC", "1"), ("bob", "ETH", "0"), ("carol", "ETH", "  ")])
    with pytest.raises(LedgerError, match="customer carol, asset ETH: empty amount"):
        read_database_ledger(url, QUERY, DEC)
    url = _sqlite_database(tmp_path / "blob.db", "user_id, asset, amount", [("alice", "BTC", b"\x01")])
    with pytest.raises(LedgerError, match="amount is a bytes value"):
        read_database_ledger(url, QUERY, DEC)
    with pytest.raises(LedgerError, match="no such database file"):
        read_database_ledger(f"sqlite:///{tmp_path}/missing.db", QUERY, DEC)
    with pytest.raises(LedgerError, match="sqlite:///PATH"):
        read_database_ledger("sqlite://localhost/x.db", QUERY, DEC)


def test_integer_customer_ids_and_customers_in_any_order(postgres, tmp_path):
    rows = [(7, "ETH", 5), (3, "BTC", 1), (7, "BTC", 2), (3, "ETH", 0), (9, "ETH", 4)]
    for kind in SOURCES:
        ledger = read_database_ledger(_source(kind, postgres, tmp_path, ("bigint", "text", "bigint"), rows), QUERY,
                                      DEC)
        assert _by_user(ledger) == {"7": [(1, 2), (2, 5)], "3": [(1, 1)], "9": [(2, 4)]}


# --------------------------------------------------------------------------- margin: the debt column


@pytest.mark.parametrize("kind", SOURCES)
def test_a_debt_column_is_read_as_debts_under_k_plus_j(sample, postgres, tmp_path, kind):
    rows = [("bob", "ETH", "2", "0.5"), ("alice", "ETH", "0", "1"), ("alice", "BTC", "1", "0"),
            ("carol", "BTC", "0", "0")]
    url = _source(kind, postgres, tmp_path, ("text", "text", "numeric", "numeric"), rows)
    query = "SELECT user_id, asset, amount, debt FROM balances"
    ledger = read_database_ledger(url, query, DEC)
    assert ledger.margin and ledger.assets == ("BTC", "ETH")
    assert _by_user(ledger) == {"bob": [(2, 2 * 10**9), (4, 5 * 10**8)], "alice": [(1, 10**8), (4, 10**9)],
                                "carol": []}
    d, _, _ = sample
    result = _prove_db(d, url, tmp_path / "margin", query=query, decimals="BTC=8,ETH=9", ok=False)
    assert "a margin round needs --prices" in result.stderr and not (tmp_path / "margin").exists()
    (tmp_path / "prices.csv").write_text("asset,price,ratio_bps\nBTC,65000,9000\nETH,3000,8000\n")
    out = tmp_path / "margin-priced"
    run("prove", "--ledger", url, "--query", query, "--srs", d / "srs.bin", "--decimals", "BTC=8,ETH=9",
        "--prices", tmp_path / "prices.csv", "--out", out, "--round-id", "r-db-margin")
    verdict = json.loads(run("verify", out / "round.json", "--srs", d / "srs.bin", "--allow-insecure-srs",
                             "--json").stdout)
    assert verdict["valid"] and verdict["debts"] == {"BTC": "0", "ETH": str(15 * 10**8)}


# --------------------------------------------------------------------------- one snapshot, read-only, dropped connection


def _backend_of_reader(server):
    with server.connect() as conn:
        return conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                            (ledger_db.APPLICATION_NAME,)).fetchall()


def test_rows_written_while_the_round_reads_do_not_enter_it(postgres):
    rows = [(f"user-{i}", a, str(i + 1)) for i in range(200) for a in (("BTC",) if i % 2 else ("BTC", "ETH"))]
    url = _pg_database(postgres, "user_id text, asset text, amount numeric", rows)
    database = url.rsplit("/", 1)[1]
    before = read_database_ledger(url, QUERY, DEC)
    writes = []

    def meanwhile(message):
        if writes:
            return
        assert _backend_of_reader(postgres), "the reader should be connected"
        with postgres.connect(database) as other:
            other.execute("INSERT INTO balances VALUES ('late', 'BTC', 5), ('user-1', 'ETH', 7)")
            other.execute("UPDATE balances SET amount = amount + 1000 WHERE user_id IN ('user-0', 'user-199')")
            other.execute("DELETE FROM balances WHERE user_id = 'user-150'")
            writes.append(other.execute("SELECT count(*) FROM balances").fetchone()[0])

    during = read_database_ledger(url, QUERY, DEC, progress=meanwhile, batch_rows=10, progress_rows=10)
    assert writes == [300]  # the other connection's writes were committed mid-read
    assert _by_user(during) == _by_user(before) and during.totals() == before.totals()
    after = read_database_ledger(url, QUERY, DEC)
    assert "late" in after.user_ids and "user-150" not in after.user_ids  # and the next round sees them


def test_the_query_runs_in_a_read_only_repeatable_read_transaction(postgres):
    url = _pg_database(postgres, "user_id text, asset text, amount numeric", GOOD)
    checked = (QUERY + " WHERE current_setting('transaction_isolation') = 'repeatable read' "
               "AND current_setting('transaction_read_only') = 'on'")
    assert read_database_ledger(url, checked, DEC).users == 2
    with postgres.connect(url.rsplit("/", 1)[1]) as conn:
        conn.execute("CREATE SEQUENCE s")
    with pytest.raises(LedgerError, match="read-only transaction"):
        read_database_ledger(url, "SELECT user_id, asset, amount FROM balances WHERE nextval('s') > 0", DEC)
    with pytest.raises(LedgerError, match="the query failed"):
        read_database_ledger(url, "SELECT user_id, asset, amount FROM balances; DROP TABLE balances", DEC)
    assert read_database_ledger(url, QUERY, DEC).users == 2


def test_sqlite_reads_one_snapshot(tmp_path):
    rows = [(f"user-{i}", a, str(i + 1)) for i in range(100) for a in ("BTC", "ETH")]
    path = tmp_path / "wal.db"
    url = _sqlite_database(path, "user_id TEXT, asset TEXT, amount TEXT", rows)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    before = read_database_ledger(url, QUERY, DEC)
    writes = []

    def meanwhile(message):
        if not writes:
            other = sqlite3.connect(path)
            other.execute("INSERT INTO balances VALUES ('late', 'BTC', '5')")
            other.execute("UPDATE balances SET amount = '999' WHERE user_id = 'user-99'")
            other.commit()
            other.close()
            writes.append(1)

    during = read_database_ledger(url, QUERY, DEC, progress=meanwhile, batch_rows=10, progress_rows=10)
    assert writes and _by_user(during) == _by_user(before)
    with pytest.raises(LedgerError, match="the query failed"):  # opened read-only
        read_database_ledger(url, "DELETE FROM balances RETURNING user_id, asset, amount", DEC)


def test_a_connection_lost_mid_read_fails_the_round_and_writes_nothing(sample, postgres, tmp_path, monkeypatch):
    d, _, _ = sample
    rows = [(f"user-{i}", a, "1") for i in range(300) for a in ("BTC", "ETH")]
    url = _pg_database(postgres, "user_id text, asset text, amount numeric", rows)
    import zksolvency.cli_round as cli_round

    killed = []

    def drop_the_connection(message):
        if message.startswith("read") and not killed:
            with postgres.connect() as conn:
                for (pid,) in _backend_of_reader(postgres):
                    killed.append(conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0])

    monkeypatch.setattr(ledger_db, "BATCH_ROWS", 20)
    monkeypatch.setattr(ledger_db, "PROGRESS_ROWS", 20)
    monkeypatch.setattr(cli_round, "_progress", drop_the_connection)
    out = tmp_path / "round"
    result = _prove_db(d, url, out, decimals="BTC=8,ETH=9", ok=False)
    assert killed == [True]
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(f"Error: {re.escape(url)}: the connection was lost after [0-9]+ rows", result.stderr), result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_server_that_is_not_there(tmp_path):
    with pytest.raises(LedgerError, match="cannot connect"):
        read_database_ledger("postgresql://zksolvency@127.0.0.1:1/ledger", QUERY, DEC)


# --------------------------------------------------------------------------- the password: environment or .pgpass only


def test_the_password_comes_from_the_environment_never_the_url(sample, postgres, tmp_path, monkeypatch):
    url = _pg_database(postgres, "user_id text, asset text, amount numeric", GOOD)
    with_password = url.replace("zksolvency@", f"zksolvency:{postgres.password}@")
    for given in (with_password, url + f"?password={postgres.password}"):
        with pytest.raises(LedgerError, match="a password in the URL is refused") as info:
            read_database_ledger(given, QUERY, DEC)
        assert postgres.password not in str(info.value)
        d, _, _ = sample
        result = _prove_db(d, given, tmp_path / "r", decimals="BTC=8,ETH=9", ok=False)
        assert postgres.password not in result.output and not (tmp_path / "r").exists()
    monkeypatch.delenv("PGPASSFILE")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pgpass either
    with pytest.raises(LedgerError, match="no password supplied"):
        read_database_ledger(url, QUERY, DEC)
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    with pytest.raises(LedgerError, match="password authentication failed"):
        read_database_ledger(url, QUERY, DEC)
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    assert read_database_ledger(url, QUERY, DEC).users == 2


def test_prove_names_its_ledger_once(sample, tmp_path):
    d, _, _ = sample
    base = ("--srs", d / "srs.bin", "--decimals", decimals_spec(), "--out", tmp_path / "r")
    for args in ((d / "ledger.csv", "--ledger", d / "ledger.csv"), (), ("--ledger", "sqlite:///x.db"),
                 ("--ledger", d / "ledger.csv", "--query", QUERY), (d / "ledger.csv", "--query", QUERY)):
        result = run("prove", *args, *base, ok=False)
        assert result.exit_code == 2 and not (tmp_path / "r").exists(), result.output


def test_decimals_names_follow_the_asset_name_rules(postgres, tmp_path):
    url = _source("sqlite", postgres, tmp_path, T3, GOOD)
    for decimals, reason in (({"BTC": 8, "ETH": 9, "B\u200bTC": 8}, "looks the same as asset BTC"),
                             ({"BTC": 8, "ETH": 9, "E\u202eTH": 9}, "bidirectional control U+202E"),
                             ({"BTC": 8, "ETH": 9, "X" * 65: 2}, "an asset name of 65 characters")):
        with pytest.raises(LedgerError, match=re.escape(reason)):
            read_database_ledger(url, QUERY, decimals)

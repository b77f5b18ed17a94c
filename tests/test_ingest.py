"""Ledger ingest: exact conversion, every refusal named by line and column, ids in any script."""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zksolvency.ingest import LedgerError, SpecError, parse_amounts, parse_decimals, read_ledger, to_units
from zksolvency.sample import decimals_spec, write_sample_ledger


def _write(tmp_path, text: str, name: str = "ledger.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@settings(max_examples=300, deadline=None)
@given(
    whole=st.integers(0, 10**12),
    frac=st.text(alphabet="0123456789", max_size=12),
    decimals=st.integers(0, 12),
    round_up=st.booleans(),
)
def test_to_units_matches_exact_rational_arithmetic(whole, frac, decimals, round_up):
    text = f"{whole}.{frac}" if frac else str(whole)
    exact = Fraction(Decimal(text)) * 10**decimals
    if exact.denominator == 1:
        assert to_units(text, decimals, round_up) == exact.numerator
    elif round_up:
        assert to_units(text, decimals, True) == -(-exact.numerator // exact.denominator)
    else:
        with pytest.raises(ValueError, match="decimals"):
            to_units(text, decimals)


@pytest.mark.parametrize("text", ["-1", "-0", "-0.0", "+1", "1e5", "inf", "nan", "0x10", "1,5", "1 000", "1.2.3", ".",
                                  "١٢", "½"])
def test_to_units_refuses_non_plain_amounts(text):
    with pytest.raises(ValueError):
        to_units(text, 8)


def test_to_units_accepts_plain_forms():
    assert to_units(" 1.5 ", 2) == 150
    assert to_units(".5", 1) == 5
    assert to_units("3.", 0) == 3
    assert to_units("", 4) == 0
    assert to_units("0.1000", 1) == 1  # trailing zeros beyond the decimals are exact


def test_decimals_and_amount_specs():
    assert parse_decimals("BTC=8, ETH=9") == {"BTC": 8, "ETH": 9}
    for bad in ("", "BTC", "BTC=8,BTC=9", "BTC=-1", "BTC=31", "=8", "BTC=8,,ETH=9", "BTC=x"):
        with pytest.raises(SpecError, match="--decimals"):
            parse_decimals(bad)
    dec = {"BTC": 8, "ETH": 9}
    assert parse_amounts("BTC=12.5,ETH=300", dec) == {"BTC": 1_250_000_000, "ETH": 300 * 10**9}
    for bad, why in (("DOGE=1", "not an asset"), ("BTC=-1", "negative"), ("BTC=0.000000001", "decimals"),
                     ("BTC=1,BTC=2", "twice")):
        with pytest.raises(SpecError, match=why):
            parse_amounts(bad, dec)


DEC = {"BTC": 8, "ETH": 9}


@pytest.mark.parametrize(
    "text,line,column,reason",
    [
        ("user_id,BTC,ETH\nalice,-1,0\n", 2, 2, "negative"),
        ("user_id,BTC,ETH\nalice,1,2\nbob,0.123456789,0\n", 3, 2, "more than 8 decimals"),
        ("user_id,BTC,ETH\nalice,1,2\nbob,0,abc\n", 3, 3, "not a decimal amount"),
        ("user_id,BTC,ETH\nalice,1\n", 2, None, "expected 3 columns"),
        ("user_id,BTC,ETH\nalice,1,2,3\n", 2, None, "expected 3 columns"),
        ("user_id,BTC,ETH\nalice,1,2\nbob,0,0\nalice,0,0\n", 4, 1, "duplicate user id (first on line 2)"),
        ("id,BTC,ETH\nalice,1,2\n", 1, 1, "must start with user_id"),
        ("user_id,BTC,BTC\nalice,1,2\n", 1, 3, "appears twice"),
        ("user_id,BTC,\nalice,1,2\n", 1, 3, "empty asset name"),
        ("user_id,BTC,ETH\nalice,184467440737.09551616,0\n", 2, 2, "2^64 units or more"),
        ("user_id,BTC,ETH,SOL\nalice,1,2,3\n", 1, 4, "no decimals for SOL"),
        ("user_id,BTC,ETH\n,1,2\n", 2, 1, "empty user id"),
        ('user_id,BTC,ETH\n"multi\nline id",1,2\nbob,x,0\n', 4, 2, "not a decimal amount"),
    ],
)
def test_refusals_name_line_and_column(tmp_path, text, line, column, reason):
    path = _write(tmp_path, text)
    with pytest.raises(LedgerError) as info:
        read_ledger(path, DEC)
    e = info.value
    assert (e.line, e.column) == (line, column)
    assert reason in e.reason
    assert str(path) in str(e)


def test_whole_file_refusals(tmp_path):
    with pytest.raises(LedgerError, match="empty"):
        read_ledger(_write(tmp_path, ""), DEC)
    with pytest.raises(LedgerError, match="no users"):
        read_ledger(_write(tmp_path, "user_id,BTC,ETH\n"), DEC)
    with pytest.raises(LedgerError, match="ledger does not have: SOL"):
        read_ledger(_write(tmp_path, "user_id,BTC,ETH\na,1,1\n"), {**DEC, "SOL": 9})
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("user_id,BTC,ETH\na,1,1\nj\xfcrgen,1,1\n".encode("latin-1"))
    with pytest.raises(LedgerError, match="UTF-8") as info:
        read_ledger(bad, DEC)
    assert info.value.line == 3
    with pytest.raises(LedgerError, match="cannot open"):
        read_ledger(tmp_path / "missing.csv", DEC)


def test_round_up_never_rounds_down(tmp_path):
    path = _write(tmp_path, "user_id,BTC,ETH\nalice,0.000000001,1.0000000001\n")
    ledger = read_ledger(path, DEC, round_up=True)
    assert ledger.balances_of(0) == [(1, 1), (2, 10**9 + 1)]


def test_ids_in_any_script_with_quotes_commas_and_newlines(tmp_path):
    ids = ["李雷", "ханна", "o'brien", 'say "hi"', "kim, jr.", "two\nlines", "محمد", "\U0001F600"]
    path = tmp_path / "ids.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "BTC", "ETH"])
        for i, uid in enumerate(ids):
            w.writerow([uid, str(i), ""])
    ledger = read_ledger(path, DEC)
    assert ledger.user_ids == ids
    assert ledger.totals() == [sum(range(len(ids))) * 10**8, 0]
    # A later bad record is still reported at its own first line (the ids above span one extra line).
    with open(path, "a", encoding="utf-8") as f:
        f.write("bob,oops,0\n")
    with pytest.raises(LedgerError) as info:
        read_ledger(path, DEC)
    assert info.value.line == len(ids) + 3


def test_bom_blank_lines_and_empty_cells(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffuser_id,BTC,ETH\n\nalice,,\nbob, 2 ,\n".encode("utf-8"))
    ledger = read_ledger(path, DEC)
    assert ledger.user_ids == ["alice", "bob"]
    assert ledger.balances_of(0) == [] and ledger.balances_of(1) == [(1, 2 * 10**8)]


def test_many_sparse_assets(tmp_path):
    rng = random.Random(5)
    assets = [f"A{j}" for j in range(300)]
    decimals = {a: rng.randrange(0, 19) for a in assets}
    reference = {}
    lines = ["user_id," + ",".join(assets)]
    for u in range(200):
        cells = [""] * len(assets)
        for j in rng.sample(range(len(assets)), 3):
            units = rng.randrange(1, 1 << 63)
            d = decimals[assets[j]]
            text = str(units) if d == 0 else f"{units // 10**d}.{units % 10**d:0{d}d}"
            cells[j] = text
            reference[(u, j + 1)] = units
        lines.append(f"user{u}," + ",".join(cells))
    ledger = read_ledger(_write(tmp_path, "\n".join(lines) + "\n"), decimals)
    got = {(u, a): b for u in range(ledger.users) for a, b in ledger.balances_of(u)}
    assert got == reference
    totals = [sum(v for (u, a), v in reference.items() if a == j) for j in range(1, 301)]
    assert ledger.totals() == totals


def test_sample_ledger_totals_match(tmp_path):
    path = tmp_path / "sample.csv"
    totals = write_sample_ledger(path, 2000, seed=9)
    ledger = read_ledger(path, parse_decimals(decimals_spec()))
    assert dict(zip(ledger.assets, ledger.totals())) == totals

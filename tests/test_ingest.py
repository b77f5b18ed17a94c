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
        ('user_id,BTC,ETH\n"multi\nline id",1,2\nbob,x,0\n', 2, 1, "control character U+000A"),
        ('user_id,BTC,ETH\n"a,b",1,2\n"c\nd",x,0\n', 3, 1, "control character U+000A"),
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


_LONG = 140_000  # past the csv module's own field limit (131,072 characters)


@pytest.mark.parametrize(
    "text,line,column,reason",
    [
        # Limits, with our own messages (never the csv module's or int()'s).
        ("user_id,BTC\nalice," + "0" * 5000 + "\n", 2, 2, "an amount of 5000 characters (at most 100)"),
        ("user_id,BTC\nalice," + "9" * 5000 + "\n", 2, 2, "an amount of 5000 characters (at most 100)"),
        ("user_id,BTC\nalice," + "1" * _LONG + "\n", 2, 2, "an amount of more than 131072 characters"),
        ("user_id,BTC\n" + "a" * 1025 + ",1\n", 2, 1, "a user id of 1025 bytes (at most 1024)"),
        ("user_id,BTC\n" + "\u00e9" * 513 + ",1\n", 2, 1, "a user id of 1026 bytes (at most 1024)"),
        ("user_id,BTC\nalice,1\n" + "b" * _LONG + ",1\n", 3, 1, "a user id of more than 131072 characters"),
        ('user_id,BTC\n"alice' + "\nx" * _LONG, 2, 1, "a user id of more than 131072 characters"),
        ("user_id," + "A" * _LONG + "\nalice,1\n", 1, 2, "an asset name of more than 131072 characters"),
        ("user_id,BTC," + "A" * 65 + "\nalice,1,1\n", 1, 3, "an asset name of 65 characters (at most 64)"),
        # Ids: no control character, nothing invisible alone, no byte-order mark inside the file.
        ('user_id,BTC\n"ali\x00ce",1\n', 2, 1, "control character U+0000"),
        ("user_id,BTC\nali\x01ce,1\n", 2, 1, "control character U+0001"),
        ("user_id,BTC\nali\tce,1\n", 2, 1, "control character U+0009"),
        ("user_id,BTC\nalice\x7f,1\n", 2, 1, "control character U+007F"),
        ("user_id,BTC\nali\x85ce,1\n", 2, 1, "control character U+0085"),
        ("user_id,BTC\nali\u2028ce,1\n", 2, 1, "control character U+2028"),
        ("user_id,BTC\nab\u202ecd,1\n", 2, 1, "bidirectional control U+202E"),
        ("user_id,BTC\nab\u2066cd,1\n", 2, 1, "bidirectional control U+2066"),
        ("user_id,BTC\n\u200b,1\n", 2, 1, "no visible character"),
        ("user_id,BTC\n\u200c\u200d,1\n", 2, 1, "no visible character"),
        ("user_id,BTC\n\u00ad\u2060,1\n", 2, 1, "no visible character"),
        ("user_id,BTC\nal\ufeffice,1\n", 2, 1, "byte-order mark (U+FEFF) inside the file"),
        ("user_id,BTC\nalice,\ufeff1\n", 2, 2, "byte-order mark (U+FEFF) inside the file"),
        ("user_id,BTC\ufeff\nalice,1\n", 1, 2, "byte-order mark (U+FEFF) inside the file"),
        ("\ufeff\ufeffuser_id,BTC\nalice,1\n", 1, 1, "byte-order mark (U+FEFF) inside the file"),
        ("user_id,BTC\nalice,1\n\ufeffbob,1\n", 3, 1, "byte-order mark (U+FEFF) inside the file"),
        # Ids are refused, never normalised: NFC, no surrounding spaces, nothing that looks like another id.
        ("user_id,BTC\ne\u0301,1\n", 2, 1, "not in Unicode NFC"),
        ("user_id,BTC\n\u00e9,1\ne\u0301,1\n", 3, 1, "not in Unicode NFC (in NFC it is the id on line 2)"),
        ("user_id,BTC\n alice,1\n", 2, 1, "spaces around it"),
        ("user_id,BTC\nalice ,1\n", 2, 1, "spaces around it"),
        ("user_id,BTC\n\u00a0alice,1\n", 2, 1, "spaces around it"),
        ("user_id,BTC\nalice\u3000,1\n", 2, 1, "spaces around it"),
        ("user_id,BTC\nalice,1\nal\u200bice,1\n", 3, 1, "looks the same as the id on line 2"),
        ("user_id,BTC\nalice bob,1\nalice\u00a0bob,1\n", 3, 1, "looks the same as the id on line 2"),
        ("user_id,BTC\nalice bob,1\nalice  bob,1\n", 3, 1, "looks the same as the id on line 2"),
        ("user_id,BTC\nalice,1\n\uff41lice,1\n", 3, 1, "looks the same as the id on line 2"),
        ("user_id,BTC\nalice,1\nalice,2\n", 3, 1, "duplicate user id (first on line 2)"),
        # Asset names follow the same rules (a customer is shown them too).
        ("user_id,BT\x00C\nalice,1\n", 1, 2, "control character U+0000"),
        ("user_id,BTC,B\u200bTC\nalice,1,1\n", 1, 3, "looks the same as asset BTC (column 2)"),
        ("user_id,\u200b\nalice,1\n", 1, 2, "no visible character"),
    ],
)
def test_limits_and_lookalike_ids_are_refused_by_line_and_column(tmp_path, text, line, column, reason):
    path = _write(tmp_path, text)
    decimals = {"BTC": 8, "A" * _LONG: 8, "A" * 65: 8, "BT\x00C": 8, "B\u200bTC": 8, "\u200b": 8, "BTC\ufeff": 8}
    with pytest.raises(LedgerError) as info:
        read_ledger(path, {name: d for name, d in decimals.items() if name in text.split("\n")[0]})
    e = info.value
    assert reason in e.reason and (e.line, e.column) == (line, column), str(e)
    assert "field limit" not in str(e) and "int_max_str_digits" not in str(e)
    assert len(str(e)) < 300


def test_a_record_longer_than_the_limit_is_refused_without_reading_it_whole(tmp_path):
    from zksolvency.ingest import MAX_RECORD_BYTES

    path = tmp_path / "long.csv"
    path.write_bytes(b"user_id,BTC\nalice" + b",1" * (MAX_RECORD_BYTES // 2) + b"\n")
    with pytest.raises(LedgerError, match="a record of more than 16 MiB") as info:
        read_ledger(path, {"BTC": 8})
    assert info.value.line == 2


def test_nfc_ids_a_bom_at_the_start_and_invisible_joiners_inside_ids_are_accepted(tmp_path):
    path = tmp_path / "ok.csv"
    ids = ["\u00e9", "\u2764\ufe0f", "م\u200cی", "a" * 1024, "\u00e9" * 512]
    path.write_bytes(("\ufeffuser_id,BTC\n" + "".join(f"{uid},1\n" for uid in ids)).encode("utf-8"))
    assert read_ledger(path, {"BTC": 8}).user_ids == ids


def test_long_numbers_in_specs_and_amounts_get_our_own_messages():
    for spec in ("BTC=" + "9" * 5000, "BTC=" + "0" * 5000, "BTC=0" * 1, "BTC=" + "1" * 4301):
        if spec == "BTC=0":
            assert parse_decimals(spec) == {"BTC": 0}
            continue
        with pytest.raises(SpecError, match="--decimals") as info:
            parse_decimals(spec)
        assert "4300" not in str(info.value) and len(str(info.value)) < 200
    for spec in ("BTC=" + "9" * 5000, "BTC=" + "0" * 5000, "BTC=0." + "0" * 5000):
        with pytest.raises(SpecError, match="--reserves: BTC: an amount of 50") as info:
            parse_amounts(spec, {"BTC": 8})
        assert len(str(info.value)) < 200
    for text in ("9" * 5000, "0" * 5000, "." + "0" * 4400, " " * 3 + "1" * 101):
        with pytest.raises(ValueError, match="characters \\(at most 100\\)"):
            to_units(text, 8)
    assert to_units("0" * 60 + "1." + "0" * 38, 8) == 10**8  # 100 characters


def test_round_up_never_rounds_down(tmp_path):
    path = _write(tmp_path, "user_id,BTC,ETH\nalice,0.000000001,1.0000000001\n")
    ledger = read_ledger(path, DEC, round_up=True)
    assert ledger.balances_of(0) == [(1, 1), (2, 10**9 + 1)]


def test_ids_in_any_script_with_quotes_and_commas(tmp_path):
    ids = ["李雷", "ханна", "o'brien", 'say "hi"', "kim, jr.", "محمد", "\U0001F600", "\u2764\ufe0f", "م\u200cی",
           "\U0001F469\u200d\U0001F4BB", "caf\u00e9", "alice bob"]
    path = tmp_path / "ids.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "BTC", "ETH"])
        for i, uid in enumerate(ids):
            w.writerow([uid, str(i), ""])
    ledger = read_ledger(path, DEC)
    assert ledger.user_ids == ids
    assert ledger.totals() == [sum(range(len(ids))) * 10**8, 0]
    # A later bad record is reported at its own line.
    with open(path, "a", encoding="utf-8") as f:
        f.write("bob,oops,0\n")
    with pytest.raises(LedgerError) as info:
        read_ledger(path, DEC)
    assert info.value.line == len(ids) + 2


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


def test_debt_columns_make_a_margin_ledger(tmp_path):
    """<ASSET>:debt beside <ASSET>: a debt is entry K + j, a user's entries in increasing id order."""
    path = _write(tmp_path, "user_id,BTC:debt,BTC,ETH,ETH:debt\nalice,0.5,2,,1.25\nbob,,1,3,\ncarol,,,,\n")
    ledger = read_ledger(path, {"BTC": 8, "ETH": 9})
    assert ledger.margin and ledger.assets == ("BTC", "ETH")
    assert ledger.balances_of(0) == [(1, 200_000_000), (3, 50_000_000), (4, 1_250_000_000)]
    assert ledger.balances_of(1) == [(1, 100_000_000), (2, 3_000_000_000)]
    assert ledger.balances_of(2) == []
    assert ledger.totals() == [300_000_000, 3_000_000_000]
    assert ledger.debt_totals() == [50_000_000, 1_250_000_000]
    spot = read_ledger(_write(tmp_path, "user_id,BTC\nalice,1\n", "spot.csv"), {"BTC": 8})
    assert not spot.margin and spot.debt_totals() == [0]


@pytest.mark.parametrize("text, reason", [
    ("user_id,BTC,DOGE:debt\na,1,2\n", "ledger.csv:1: column 3: debt column DOGE:debt has no asset column DOGE"),
    ("user_id,BTC,BTC:debt,BTC :debt\na,1,2,3\n", "ledger.csv:1: column 4 (BTC :debt): asset BTC has two debt"),
    ("user_id,BTC,BTC:debt\na,1,-2\n", "ledger.csv:2: column 3 (BTC:debt): negative amount"),
    ("user_id,BTC,BTC:debt\na,1,0.123456789\n", "ledger.csv:2: column 3 (BTC:debt): 0.123456789 has more than 8"),
    ("user_id,BTC,BTC:debt\na,1,184467440737.09551616\n", "ledger.csv:2: column 3 (BTC:debt): 184467440737.09551616 is 2^64"),
])
def test_debt_columns_are_refused_by_line_and_column(tmp_path, text, reason):
    with pytest.raises(LedgerError) as e:
        read_ledger(_write(tmp_path, text), {"BTC": 8})
    assert str(e.value).split("/")[-1].startswith(reason), str(e.value)

"""Bad inputs to every command: refused with one line and exit status 1 (or click's 2), nothing written, no traceback.

First the inputs found by hand, each a fixed case; then a seeded sweep of
generated ones over every command's inputs (ledger bytes, option strings,
.ptau bytes, round.json and inclusion-file mutations), driven in-process with
click's runner, and a few through a real process.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import signal
import struct
import subprocess
import sys
import traceback
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolvency.cli import main
from zksolvency.constants import R_MODULUS

VECTORS = Path(__file__).parent / "vectors"
INCLUSION = VECTORS / "inclusion"
PROGRESS = "… "  # the prefix of progress lines on stderr


def _tree(directory: Path) -> dict:
    """Every file and folder under ``directory`` with its content, to see what a command left behind."""
    return {str(p.relative_to(directory)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(directory.rglob("*"))}


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def _message_lines(stderr: str) -> list:
    return [line for line in stderr.splitlines() if not line.startswith(PROGRESS)]


def _refused(result, status: int = 1) -> str:
    """The one line of a refusal (and that there was no traceback); returns it."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == status, (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    lines = _message_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("Error: ") and len(lines[0]) < 1000, result.stderr[-2000:]
    return lines[0]


# --------------------------------------------------------------------------- .ptau files built from the vectors


def _ptau_sections(data: bytes) -> dict:
    count = struct.unpack_from("<I", data, 8)[0]
    sections, pos = {}, 12
    for _ in range(count):
        kind, length = struct.unpack_from("<IQ", data, pos)
        sections[kind] = data[pos + 12 : pos + 12 + length]
        pos += 12 + length
    return sections


def ptau_of_power(power: int, source: Path = VECTORS / "pot4_final.ptau") -> bytes:
    """A valid ceremony of a smaller power: the first powers of a larger one, with its header's power changed."""
    sections = _ptau_sections(source.read_bytes())
    header = bytearray(sections[1])
    struct.pack_into("<II", header, 4 + 32, power, power)
    body = {1: bytes(header), 2: sections[2][: ((1 << (power + 1)) - 1) * 64], 3: sections[3][: (1 << power) * 128]}
    out = b"ptau" + struct.pack("<II", 1, len(body))
    for kind, data in body.items():
        out += struct.pack("<IQ", kind, len(data)) + data
    return out


# --------------------------------------------------------------------------- the inputs found by hand


def test_a_ceremony_that_serves_no_circuit_is_refused_and_writes_nothing(tmp_path):
    from zksolvency.prover.srs import SetupError, import_ptau

    (tmp_path / "p1.ptau").write_bytes(ptau_of_power(1))
    (tmp_path / "p2.ptau").write_bytes(ptau_of_power(2))
    assert import_ptau(tmp_path / "p2.ptau").max_log_size == 2  # the construction is a valid ceremony
    with pytest.raises(SetupError, match="serve no circuit"):
        import_ptau(tmp_path / "p1.ptau")
    (tmp_path / "kept.bin").write_bytes(b"previous")
    before = _tree(tmp_path)
    for out, extra in (("srs.bin", ()), ("srs.bin", ("--k", "0")), ("kept.bin", ()), ("kept.bin", ("--k", "0"))):
        result = _invoke("setup", "--ptau", tmp_path / "p1.ptau", "--out", tmp_path / out, *extra)
        assert "serve no circuit" in _refused(result)
        assert _tree(tmp_path) == before
    result = _invoke("setup", "--ptau", tmp_path / "p2.ptau", "--out", tmp_path / "srs.bin", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["max_log_size"] == 2


# --------------------------------------------------------------------------- round.json, every field strictly

ROUND = json.loads((INCLUSION / "round.json").read_text(encoding="utf-8"))
ROUND_KEYS = sorted(ROUND)
VK_KEYS = sorted(ROUND["verifying_key"])
VK_BYTES = ROUND["verifying_key"]["bytes"]


def _edit(path: str, value):
    """Set (or, for value ``...``, delete) the field at a dotted path of a copy of the round."""
    def apply(obj):
        *parents, last = path.split(".")
        for key in parents:
            obj = obj[int(key)] if isinstance(obj, list) else obj[key]
        if isinstance(obj, list):
            obj[int(last)] = value
        elif value is ...:
            del obj[last]
        else:
            obj[last] = value
    return apply


def _spaced(text: str) -> str:
    return text[:10] + " " + text[10:]


_ROUND_EDITS = [
    ("a commitment with a space", _edit("inclusion_commitment", _spaced(ROUND["inclusion_commitment"])),
     "'inclusion_commitment' must be 0x and an even number of hex digits"),
    ("a commitment without 0x", _edit("inclusion_commitment", ROUND["inclusion_commitment"][2:]),
     "'inclusion_commitment' must be 0x"),
    ("a commitment one byte short", _edit("inclusion_commitment", ROUND["inclusion_commitment"][:-2]),
     "'inclusion_commitment' must be 64 bytes"),
    ("a commitment off the curve", _edit("inclusion_commitment", "0x" + "00" * 63 + "01"), "not on the curve"),
    ("a proof with a space", _edit("proof", _spaced(ROUND["proof"])), "'proof' must be 0x"),
    ("an unexpected field", _edit("extra", 1), "unexpected field 'extra'"),
    ("totals beside reserves", _edit("reserves", ROUND["totals"]), "unexpected field 'reserves'"),
    ("private mode with totals", _edit("mode", "private"), "missing field 'reserves'"),
    ("a mode of 100,000 characters", _edit("mode", "x" * 100_000), "mode must be 'public' or 'private'"),
    ("a format of 100,000 characters", _edit("format", "x" * 100_000), "is not 'zksolvency-round/1'"),
    ("a format that is a number", _edit("format", 1), "field 'format' must be"),
    ("no assets", _edit("assets", []), "field 'assets' is empty"),
    ("assets as an object", _edit("assets", {}), "field 'assets' must be"),
    ("an asset with an extra field", _edit("assets.0.x", 1), "assets[0]: unexpected field 'x'"),
    ("an asset without decimals", _edit("assets.0.decimals", ...), "assets[0]: missing field 'decimals'"),
    ("decimals true", _edit("assets.0.decimals", True), "field 'decimals' must be"),
    ("decimals 31", _edit("assets.0.decimals", 31), "decimals must be a whole number from 0 to 30"),
    ("decimals -1", _edit("assets.0.decimals", -1), "decimals must be a whole number from 0 to 30"),
    ("decimals of 80 digits", _edit("assets.0.decimals", 10**79), "decimals must be a whole number from 0 to 30"),
    ("an asset name with NUL", _edit("assets.0.name", "BT\x00C"), "assets[0]: asset name has a control character"),
    ("an asset name not in NFC", _edit("assets.0.name", "e\u0301"), "asset name is not in Unicode NFC"),
    ("an asset name of 65 characters", _edit("assets.0.name", "A" * 65), "at most 64"),
    ("an empty asset name", _edit("assets.0.name", ""), "asset name has no visible character"),
    ("two names that look alike", _edit("assets.1.name", "B\u200bTC"), "looks the same as assets[0]"),
    ("one name twice", _edit("assets.1.name", "BTC"), "appears twice"),
    ("slots of 80 digits", _edit("slots", 10**79), "slots must be an even number from 2 to 16"),
    ("odd slots", _edit("slots", 3), "slots must be an even number from 2 to 16"),
    ("slots as a string", _edit("slots", "4"), "field 'slots' must be"),
    ("slots 4.0", _edit("slots", 4.0), "field 'slots' must be"),
    ("log_n 29", _edit("log_n", 29), "n must be 2^log_n"),
    ("log_n of 80 digits", _edit("log_n", 10**79), "n must be 2^log_n"),
    ("n not 2^log_n", _edit("n", 255), "n must be 2^log_n"),
    ("n null", _edit("n", None), "field 'n' must be"),
    ("a timestamp that is not a time", _edit("timestamp", "yesterday"), "'timestamp' must be a UTC time"),
    ("a timestamp of February 30", _edit("timestamp", "2026-02-30T00:00:00Z"), "'timestamp' must be a UTC time"),
    ("a timestamp with an offset", _edit("timestamp", "2026-12-03T07:30:14+00:00"), "'timestamp' must be a UTC"),
    ("a timestamp in other digits", _edit("timestamp", "２026-12-03T07:30:14Z"), "'timestamp' must be a UTC"),
    ("an empty round id", _edit("round_id", ""), "'round_id' must be 1..128 printable characters"),
    ("a round id with a line break", _edit("round_id", "a\nb"), "'round_id' must be 1..128 printable"),
    ("a round id of 100,000 characters", _edit("round_id", "r" * 100_000), "'round_id' must be 1..128"),
    ("a total with a leading zero", _edit("totals.BTC", "0" + ROUND["totals"]["BTC"]), "decimal string"),
    ("a total with a sign", _edit("totals.BTC", "+1"), "decimal string"),
    ("a total as a number", _edit("totals.BTC", 1), "decimal string"),
    ("a total of 5000 digits", _edit("totals.BTC", "9" * 5000), "5000 digits"),
    ("totals naming another asset", _edit("totals.DOT", "1"), "must name every asset exactly once"),
    ("public inputs as a string", _edit("public_inputs", "1"), "field 'public_inputs' must be"),
    ("a public input of 5000 digits", _edit("public_inputs.0", "9" * 5000), "5000 digits"),
    ("verifying key bytes a number", _edit("verifying_key.bytes", 5), "field 'bytes' must be 0x"),
    ("verifying key bytes null", _edit("verifying_key.bytes", None), "field 'bytes' must be 0x"),
    ("verifying key bytes a list", _edit("verifying_key.bytes", []), "field 'bytes' must be 0x"),
    ("verifying key bytes an object", _edit("verifying_key.bytes", {}), "field 'bytes' must be 0x"),
    ("verifying key bytes with a space", _edit("verifying_key.bytes", _spaced(VK_BYTES)),
     "field 'bytes' must be 0x"),
    ("verifying key bytes 0X", _edit("verifying_key.bytes", "0X" + VK_BYTES[2:]),
     "field 'bytes' must be 0x"),
    ("verifying key bytes without 0x", _edit("verifying_key.bytes", VK_BYTES[2:]),
     "field 'bytes' must be 0x"),
    ("verifying key bytes in capitals", _edit("verifying_key.bytes", "0x" + VK_BYTES[2:].upper()),
     "field 'bytes' must be 0x"),
    ("verifying key bytes truncated", _edit("verifying_key.bytes", VK_BYTES[:-2]),
     "truncated"),
    ("a verifying key with an extra field", _edit("verifying_key.extra", 1), "unexpected field 'extra'"),
    ("a verifying key log_n 8.0", _edit("verifying_key.log_n", 8.0), "disagree with its canonical bytes"),
    ("a verifying key insecure 1", _edit("verifying_key.insecure", 1), "disagree with its canonical bytes"),
    ("a verifying key that is a list", _edit("verifying_key", []), "field 'verifying_key' must be"),
] + [
    (f"no {key}", _edit(key, ...), f"missing field '{key}'") for key in ROUND_KEYS
] + [
    (f"a verifying key without {key}", _edit(f"verifying_key.{key}", ...), f"missing field '{key}'") for key in VK_KEYS
]


@pytest.mark.parametrize("name,edit,reason", _ROUND_EDITS, ids=[e[0] for e in _ROUND_EDITS])
def test_round_files_are_parsed_strictly(name, edit, reason, tmp_path):
    from zksolvency.artifacts import ArtifactError, RoundStatement

    obj = json.loads(json.dumps(ROUND))
    edit(obj)
    with pytest.raises(ArtifactError) as info:
        RoundStatement.from_json(obj, "round.json")
    assert reason in str(info.value) and len(str(info.value)) < 300, str(info.value)[:2000]
    path = tmp_path / "round.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    before = _tree(tmp_path)
    assert reason in _refused(_invoke("verify", path, "--allow-insecure-srs", "--unpinned"))
    assert _tree(tmp_path) == before


def test_the_committed_round_still_parses_and_writes_back_the_same():
    from zksolvency.artifacts import RoundStatement

    assert RoundStatement.load(INCLUSION / "round.json").to_json() == ROUND


def test_numbers_given_as_python_ints_of_any_size_are_refused_without_converting_them():
    from zksolvency.artifacts import ArtifactError, RoundStatement

    for path in ("log_n", "n", "slots", "assets.0.decimals", "totals.BTC", "public_inputs.0", "verifying_key.log_n"):
        obj = json.loads(json.dumps(ROUND))
        _edit(path, 10**5000)(obj)
        with pytest.raises(ArtifactError) as info:
            RoundStatement.from_json(obj)
        assert len(str(info.value)) < 300, path


# --------------------------------------------------------------------------- prove: ledgers and options

LEDGER = 'user_id,BTC,ETH\nalice,1.5,0\nbob,,2.000000001\n"kim, jr.",0.00000001,\n李雷,3,4\n'.encode("utf-8")
DECIMALS = "BTC=8,ETH=9"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory, dev_srs):
    """An SRS too small for any round (every ledger accepted stops there), one that serves, a ledger, a fresh round."""
    d = tmp_path_factory.mktemp("seeds")
    dev_srs.truncated(7).save(d / "small.bin")
    dev_srs.truncated(8).save(d / "srs.bin")
    (d / "ledger.csv").write_bytes(LEDGER)
    result = _invoke("prove", d / "ledger.csv", "--srs", d / "srs.bin", "--decimals", DECIMALS, "--out", d / "round",
                     "--round-id", "seed-1")
    assert result.exit_code == 0, result.output
    for uid, name in (("alice", "alice.json"), ("李雷", "li.json")):
        result = _invoke("inclusion", d / "round", "--user", uid, "--out", d / name)
        assert result.exit_code == 0, result.output
    return d


def _prove_args(d: Path, ledger: Path, out: Path, srs: str = "small.bin", decimals: str = DECIMALS, *extra):
    return ["prove", str(ledger), "--srs", str(d / srs), "--decimals", decimals, "--out", str(out), *extra]


_PROVE_CASES = [
    ("an amount of 5000 nines", "user_id,BTC\nalice," + "9" * 5000 + "\n", "BTC=8", (), "an amount of 5000 characters"),
    ("an amount of 5000 zeros", "user_id,BTC\nalice," + "0" * 5000 + "\n", "BTC=8", (), "an amount of 5000 characters"),
    ("a user id of 140,000 characters", "user_id,BTC\n" + "a" * 140_000 + ",1\n", "BTC=8", (),
     "a user id of more than 131072 characters"),
    ("a NUL in a user id", "user_id,BTC\nal\x00ice,1\n", "BTC=8", (), "control character U+0000"),
    ("a zero-width id", "user_id,BTC\n\u200b,1\n", "BTC=8", (), "no visible character"),
    ("a BOM inside", "user_id,BTC\nalice,1\n\ufeffbob,1\n", "BTC=8", (), "byte-order mark"),
    ("NFC twins", "user_id,BTC\n\u00e9,1\ne\u0301,1\n", "BTC=8", (), "not in Unicode NFC"),
    ("ids apart by spaces", "user_id,BTC\nalice,1\nalice ,1\n", "BTC=8", (), "spaces around it"),
    ("decimals of 5000 nines", "user_id,BTC\nalice,1\n", "BTC=" + "9" * 5000, (), "--decimals"),
    ("reserves of 5000 nines", "user_id,BTC\nalice,1\n", "BTC=8",
     ("--private-totals", "--reserves", "BTC=" + "9" * 5000), "--reserves: BTC: an amount of 5000 characters"),
    ("reserves of 5000 zeros", "user_id,BTC\nalice,1\n", "BTC=8",
     ("--private-totals", "--reserves", "BTC=0." + "0" * 5000), "--reserves: BTC: an amount of 5002 characters"),
]


@pytest.mark.parametrize("name,ledger,decimals,extra,reason", _PROVE_CASES, ids=[c[0] for c in _PROVE_CASES])
def test_prove_refuses_with_one_line_and_writes_nothing(name, ledger, decimals, extra, reason, seeds, tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(ledger, encoding="utf-8")
    before = _tree(tmp_path)
    result = CliRunner().invoke(main, _prove_args(seeds, path, tmp_path / "out", "srs.bin", decimals, *extra))
    assert reason in _refused(result)
    assert _tree(tmp_path) == before


def test_long_numbers_in_options_are_usage_errors(seeds, tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes(LEDGER)
    before = _tree(tmp_path)
    for extra in (("--slots", "9" * 5000), ("--round-id", "9" * 5000)):
        result = CliRunner().invoke(main, _prove_args(seeds, path, tmp_path / "out", "srs.bin", DECIMALS, *extra))
        assert result.exit_code in (1, 2) and "Traceback" not in result.output and "4300" not in result.output
        assert _tree(tmp_path) == before
    for k in ("9" * 5000, "-1", "29"):
        result = _invoke("setup", "--dev", "--k", k, "--out", tmp_path / "srs.bin")
        assert result.exit_code == 2 and "4300" not in result.output
    assert _tree(tmp_path) == before


# --------------------------------------------------------------------------- the sweep


class Hang(BaseException):
    """A command that did not answer in time (BaseException: no handler in the commands can swallow it)."""


@contextlib.contextmanager
def _deadline(seconds: float):
    def expire(signum, frame):
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _listing(directory: Path) -> dict:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.rglob("*")}


class Sweep:
    """Runs one command per generated case in ``folder`` and collects every broken promise.

    Each run must end without an exception other than SystemExit, with status
    0, 1 or 2, with no traceback, within the deadline; a refusal (status 1 or
    2) must say why (one line for status 1, at most ``longest`` characters when
    given) and leave the folder as it was.
    """

    def __init__(self, folder: Path, seconds: float = 30, longest: int | None = None):
        self.folder, self.seconds, self.longest = folder, seconds, longest
        self.runner = CliRunner()
        self.statuses: Counter = Counter()
        self.problems: list = []

    def run(self, case: str, args: list):
        before = _listing(self.folder)
        with _deadline(self.seconds):
            result = self.runner.invoke(main, [str(a) for a in args], catch_exceptions=True)
        self.statuses[result.exit_code] += 1
        e = result.exception
        if e is not None and not isinstance(e, SystemExit):
            trace = "".join(traceback.format_exception(e))[-1500:]
            self.problems.append(f"{case}: {e!r}\n{trace}")
        elif result.exit_code not in (0, 1, 2) or "Traceback" in result.output:
            self.problems.append(f"{case}: status {result.exit_code}: {result.output[-500:]}")
        elif result.exit_code:
            lines = _message_lines(result.stderr)
            verdict = "INVALID" in result.stdout or '"valid": false' in result.stdout
            if not verdict and (not lines or not lines[-1].startswith("Error: ")):
                self.problems.append(f"{case}: a refusal without a reason: {result.output[-500:]}")
            elif result.exit_code == 1 and not verdict and len(lines) != 1:
                self.problems.append(f"{case}: a refusal of {len(lines)} lines: {result.stderr[-500:]}")
            elif self.longest and lines and len(lines[-1]) > self.longest:
                self.problems.append(f"{case}: a reason of {len(lines[-1])} characters: {lines[-1][:300]}")
            if _listing(self.folder) != before:
                self.problems.append(f"{case}: left {sorted(set(_listing(self.folder)) ^ set(before))} behind")
        return result

    def check(self, least: int) -> None:
        assert not self.problems, f"{len(self.problems)} problems, the first:\n" + "\n\n".join(self.problems[:5])
        assert sum(self.statuses.values()) >= least, self.statuses


@pytest.fixture(scope="module", autouse=True)
def memoised_checks():
    """Memoise two pure checks that dominate a run (G2 subgroup membership, a round's proof) across the cases."""
    from zksolvency import audit
    from zksolvency.encoding import G2Point

    g2_from_bytes, verify_round = G2Point.from_bytes, audit.verify_round
    points, rounds = {}, {}

    def cached_g2(data, what="G2 point"):
        key = (bytes(data), what)
        if key not in points:
            points[key] = g2_from_bytes(data, what)
        return points[key]

    def cached_verify_round(*args, **kwargs):
        try:
            key = (args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return verify_round(*args, **kwargs)
        if key not in rounds:
            try:
                rounds[key] = (verify_round(*args, **kwargs), None)
            except Exception as e:
                rounds[key] = (None, e)
        value, error = rounds[key]
        if error is not None:
            raise error.with_traceback(None)
        return value

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(G2Point, "from_bytes", staticmethod(cached_g2))
        mp.setattr(audit, "verify_round", cached_verify_round)
        yield


def _pick(rng: random.Random, weighted):
    """One of ``weighted`` [(weight, value)]."""
    return rng.choices([v for _, v in weighted], [w for w, _ in weighted])[0]


# Byte strings worth putting anywhere in a ledger.
_LEDGER_SNIPPETS = [
    b"\xef\xbb\xbf", "\u200b".encode(), "e\u0301".encode(), "\u00e9".encode(), b"\x00", b"\r", b"\r\n", b'"', b'""',
    b",", b"\n", b"\n\n", b"9" * 5000, b"0" * 5000, b"\xff\xfe", b"\xc3", "\u202e".encode(), "\u2028".encode(), b" ",
    b"\t", b"-", b"+", b".", b"e5", "\u0661".encode(), "\uff41".encode(), b"\xed\xa0\x80", "\U0001F600".encode(),
    b"alice", b"\nalice,1,1", b"\nalice ,1,1", "\n\uff41lice,1,1".encode(), b",,", b"\x85", "\u00a0".encode(),
    b"\nuser_id,BTC,ETH", b'"a\nb"', b"0.000000001", b"18446744073.70955162", b"184467440737.09551615",
]
_CELLS = [
    "", "0", "-0", "-1", "+1", "1e5", "inf", "nan", "0x10", "1,5", " 1 ", "1.2.3", ".", "\u0661\u0662", "½",
    "0.000000001", "18446744073.70955161", "184467440737.09551615", "184467440737.09551616", "9" * 25, "0" * 101,
    "0" * 100, "00000000001", "1.", ".5", '"1"', "1 000", "\u00a0" + "1", "1\u200b", "\x00", "alice", "bob", "",
]


def _mutate_ledger(rng: random.Random, data: bytes) -> tuple:
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(8)
        pos = rng.randrange(len(data) + 1)
        if op == 0:
            data = data[:pos] + bytes([rng.choice(b'\x00\xff\xef\xbb\xbf",\n\r-. e9\x80\xc3\t\\')]) + data[pos + 1 :]
            ops.append(f"byte {pos}")
        elif op in (1, 2):
            snippet = rng.choice(_LEDGER_SNIPPETS)
            data = data[:pos] + snippet + data[pos:]
            ops.append(f"insert {snippet[:12]!r} at {pos}")
        elif op == 3:
            data = data[:pos] + data[pos + rng.randrange(1, 12) :]
            ops.append(f"delete at {pos}")
        elif op == 4:
            data = data[:pos]
            ops.append(f"truncate at {pos}")
        elif op in (5, 6):
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            cells = lines[i].split(b",")
            k = rng.randrange(len(cells))
            cells[k] = rng.choice(_CELLS).encode()
            lines[i] = b",".join(cells)
            data = b"\n".join(lines)
            ops.append(f"cell {i}.{k}")
        else:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
            data = b"\n".join(lines)
            ops.append(f"line {i} twice")
    if rng.random() < 0.02:
        data = data + b"\nzed," + b"1" * 140_000
        ops.append("a cell past the csv limit")
    return data, ", ".join(ops)


def test_sweep_prove_over_ledger_bytes(seeds, tmp_path):
    rng = random.Random(61)
    sweep = Sweep(tmp_path, longest=1000)
    ledger, out = tmp_path / "ledger.csv", tmp_path / "out"
    accepted = []
    for i in range(2500):
        data, how = _mutate_ledger(rng, LEDGER)
        ledger.write_bytes(data)
        result = sweep.run(f"ledger {i} ({how})", _prove_args(seeds, ledger, out, "small.bin", DECIMALS,
                                                               *(("--round-up",) if i % 7 == 0 else ())))
        if "set up a larger one" in result.stderr:
            accepted.append((i, data))
    sweep.check(2500)
    assert len(accepted) > 50, len(accepted)  # the sweep reaches the prover often
    for i, data in accepted[:3]:  # and what it reaches is proven
        ledger.write_bytes(data)
        result = sweep.run(f"ledger {i} with a serving SRS", _prove_args(seeds, ledger, out, "srs.bin"))
        assert result.exit_code == 0 and (out / "round.json").exists(), result.output
        shutil.rmtree(out)
    sweep.check(2503)


def _spec_strings(rng: random.Random, values) -> str:
    names = ["BTC", "ETH", "BTC", "ETH", "btc", " BTC", "BTC ", "", "B=TC", "\u200b", "X" * 70, "ETH\x00", "SOL",
             "\u00e9", "e\u0301", "BTC\n"]
    items = []
    for _ in range(rng.choice((0, 1, 2, 2, 2, 3))):
        item = f"{rng.choice(names)}{rng.choice(['=', '=', '=', '==', ':', ''])}{rng.choice(values)}"
        items.append(item)
    return rng.choice([",", ",", ", ", ",,", ";"]).join(items)


_DECIMAL_VALUES = ["8", "9", "0", "30", "31", "-1", "08", "８", "\u0669", "9" * 5000, "", "x", "1.5", " 8 ", "1e1",
                   "99", "007"]
_AMOUNT_VALUES = ["12.5", "300", "0", "1", "-1", "1e3", "0.000000001", "1" * 40, "9" * 101, "9" * 5000, "", " ",
                  "1.0000000000", "340282366920938463463374607431768211456", "18446744073.70955161", ".5", "1,5"]
_TEXTS = ["r-1", "", " ", "r" * 128, "r" * 129, "9" * 5000, "a\nb", "a\x00b", "\udcff", "\u200b", "e\u0301",
          "\U0001F600", "round 1", "\t", "\x1b[31mred", "2026-11-24T08:00:00Z", "\u202eevil"]
# Without "\udcff" (an undecodable byte of argv): see test_a_user_id_that_is_not_unicode_is_refused.
_UNICODE_TEXTS = [t for t in _TEXTS if "\udcff" not in t]


def test_sweep_prove_over_option_strings(seeds, tmp_path):
    rng = random.Random(62)
    sweep = Sweep(tmp_path)
    ledger, out = tmp_path / "ledger.csv", tmp_path / "out"
    ledger.write_bytes(LEDGER)
    for i in range(1500):
        kind = rng.randrange(4)
        decimals, extra = DECIMALS, []
        if kind == 0:
            decimals = _spec_strings(rng, _DECIMAL_VALUES)
        elif kind == 1:
            extra = ["--private-totals", "--reserves", _spec_strings(rng, _AMOUNT_VALUES)]
        elif kind == 2:
            extra = ["--slots", rng.choice(["4", "2", "16", "3", "0", "18", "-2", "1e3", "9" * 5000, "0x10", " 4",
                                            "\u0664", "", "4.0"])]
        else:
            extra = ["--round-id", rng.choice(_TEXTS) if rng.random() < 0.7 else
                     "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 40)))]
        sweep.run(f"options {i}: {decimals[:40]!r} {str(extra)[:80]}", _prove_args(seeds, ledger, out, "small.bin",
                                                                                    decimals, *extra))
    sweep.check(1500)


# --------------------------------------------------------------------------- setup: .ptau bytes

_POT4 = (VECTORS / "pot4_final.ptau").read_bytes()


def _ptau_table(data: bytes) -> list:
    """(kind, offset of the table entry, offset of the data, length) of each section."""
    count = struct.unpack_from("<I", data, 8)[0]
    out, pos = [], 12
    for _ in range(count):
        kind, length = struct.unpack_from("<IQ", data, pos)
        out.append((kind, pos, pos + 12, length))
        pos += 12 + length
    return out


_U32 = [0, 1, 2, 3, 4, 5, 11, 12, 28, 29, 31, 32, 33, 255, 1 << 31, (1 << 32) - 1]
_U64 = [0, 1, 43, 44, 45, 1983, 1984, 1985, 2048, 1 << 32, 1 << 63, (1 << 64) - 1]


def _mutate_ptau(rng: random.Random) -> tuple:
    data = bytearray(_POT4)
    table = {kind: (entry, start, length) for kind, entry, start, length in _ptau_table(_POT4)}
    header = table[1][1]
    target = _pick(rng, [(4, "magic"), (14, "table"), (14, "header"), (22, "tauG1"), (10, "tauG2 used"),
                         (3, "unused"), (10, "truncate"), (1, "append"), (4, "power"), (3, "construct")])
    if target == "magic":
        at = rng.randrange(12)
        data[at] = rng.randrange(256)
        return bytes(data), f"file header byte {at}"
    if target == "table":
        kind, entry, _, _ = rng.choice(_ptau_table(_POT4))
        if rng.random() < 0.5:
            struct.pack_into("<I", data, entry, rng.choice(_U32))
            return bytes(data), f"section {kind}'s type"
        struct.pack_into("<Q", data, entry + 4, rng.choice(_U64))
        return bytes(data), f"section {kind}'s length"
    if target == "header":
        field = rng.choice(["n8", "q", "power", "ceremony"])
        if field == "n8":
            struct.pack_into("<I", data, header, rng.choice(_U32))
        elif field == "q":
            data[header + 4 + rng.randrange(32)] ^= 1 << rng.randrange(8)
        else:
            struct.pack_into("<I", data, header + 36 + 4 * (field == "ceremony"), rng.choice(_U32))
        return bytes(data), f"header {field}"
    if target == "power":
        struct.pack_into("<I", data, 8, rng.choice([0, 1, 2, 3, 12, 100, (1 << 32) - 1]))
        return bytes(data), "section count"
    if target in ("tauG1", "tauG2 used"):
        _, start, _ = table[2 if target == "tauG1" else 3]
        size = 64 if target == "tauG1" else 128
        points = 31 if target == "tauG1" else 2
        i = rng.randrange(points)
        how = rng.randrange(4)
        if how == 0:
            data[start + i * size + rng.randrange(size)] ^= 1 << rng.randrange(8)
        elif how == 1:
            data[start + i * size : start + (i + 1) * size] = bytes(size)
        elif how == 2:
            j = rng.randrange(points)
            a, b = start + i * size, start + j * size
            data[a : a + size], data[b : b + size] = data[b : b + size], data[a : a + size]
        else:
            data[start + i * size : start + i * size + 32] = b"\xff" * 32
        return bytes(data), f"{target} point {i} ({how})"
    if target == "unused":
        at = rng.randrange(table[3][1] + 256, len(data))
        data[at] ^= 0xFF
        return bytes(data), f"unused byte {at}"
    if target == "truncate":
        at = rng.choice([rng.randrange(80), rng.randrange(len(data))])
        return bytes(data[:at]), f"truncated at {at}"
    if target == "append":
        return bytes(data) + bytes(rng.randrange(1, 100)), "trailing bytes"
    power = rng.randrange(1, 5)
    built = bytearray(ptau_of_power(power))
    if rng.random() < 0.5:
        struct.pack_into("<I", built, 12 + 12 + 36, rng.choice([1, 2, 3, 4, 5]))  # the header's power, not the data's
    return bytes(built), f"power {power} built"


def test_sweep_setup_over_ptau_bytes(tmp_path):
    rng = random.Random(63)
    sweep = Sweep(tmp_path, longest=1000)
    ptau, kept = tmp_path / "in.ptau", tmp_path / "kept.bin"
    kept.write_bytes(b"previous")
    for i in range(500):
        data, how = _mutate_ptau(rng) if i % 24 else (_POT4, "the honest file")
        ptau.write_bytes(data)
        out = rng.choice([tmp_path / "srs.bin", kept])
        k = _pick(rng, [(12, ()), (2, ("--k", "0")), (2, ("--k", "2")), (2, ("--k", "4")), (2, ("--k", "5")),
                        (1, ("--k", "29")), (1, ("--k", "9" * 5000)), (1, ("--k", "x"))])
        result = sweep.run(f"ptau {i} ({how}) {k[:1]}", ["setup", "--ptau", ptau, "--out", out, *k])
        if result.exit_code == 0:
            (tmp_path / "srs.bin").unlink(missing_ok=True)
            kept.write_bytes(b"previous")
    for k in ("0", "1", "3", "-1", "29", "9" * 5000, "", "x", "1.0"):
        sweep.run(f"dev --k {k[:10]}", ["setup", "--dev", "--k", k, "--out", tmp_path / "dev.bin"])
        (tmp_path / "dev.bin").unlink(missing_ok=True)
    sweep.check(509)


# --------------------------------------------------------------------------- verify and verify-inclusion: JSON

_JSON_VALUES = [None, True, False, 0, 1, -1, 2**63, 2**64, 10**79, 1.5, -0.0, 1e300, "", "0", "0x", "0x00", "x" * 200,
                "9" * 81, "\u200b", "e\u0301", "\x00", "\ud800", [], {}, [0], {"a": 1}, [[[]]], "BTC", "public",
                "private", "zksolvency-round/1", "zksolvency-inclusion/2"]


def _nodes(value) -> list:
    """Every (container, key) of a JSON value, depth first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    out = []
    for k, v in list(items):
        out.append((value, k))
        out += _nodes(v)
    return out


def _mutate_string(rng: random.Random, s: str) -> str:
    if s.startswith("0x"):
        i = rng.randrange(2, len(s) + 1)
        return rng.choice([
            s[:i] + " " + s[i:], "0x" + s[2:].upper(), "0X" + s[2:], s[2:], s[:-1], s[:-2], s + "00",
            s[:i] + rng.choice("0123456789abcdef") + s[i + 1 :], "0x" + "0" * (len(s) - 2),
            s[:i] + "\u0661" + s[i + 1 :],
        ])
    if s.isdigit() and len(s) < 100:
        return rng.choice(["+" + s, "-" + s, "0" + s, s + ".0", " " + s, str(int(s) + 1), str(int(s) - 1),
                           str(R_MODULUS), str(R_MODULUS - 1), "9" * 81, "9" * 80, "", "1e3", "\u0663"])
    import unicodedata

    i = rng.randrange(len(s) + 1)
    return rng.choice([s + "\u200b", unicodedata.normalize("NFD", s) + "\u0301", s[:i] + "\x00" + s[i:], "",
                       "x" * 20000, s.upper(), " " + s, s + s, s[:i], s[:i] + "\ufeff" + s[i:], s + "\u202e"])


def _mutate_json(rng: random.Random, original) -> tuple:
    obj = json.loads(json.dumps(original))
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        nodes = _nodes(obj)
        if not nodes:
            break
        container, key = rng.choice(nodes)
        value = container[key]
        op = rng.randrange(10)
        if op == 0:
            container.pop(key)
            ops.append(f"delete {key!r}")
            continue
        if op in (3, 4, 5) and isinstance(value, str):
            container[key] = _mutate_string(rng, value)
        elif op == 6 and isinstance(value, int) and not isinstance(value, bool):
            container[key] = rng.choice([value + 1, value - 1, -value, value + (1 << 64), float(value), str(value),
                                         True, 10**80])
        elif op == 7 and isinstance(value, list) and value:
            rng.choice([lambda: value.append(json.loads(json.dumps(rng.choice(value)))), value.reverse, value.clear,
                        value.pop])()
        elif op == 8 and isinstance(value, dict):
            value[rng.choice(["extra", "", "x" * 100, "Format", "format ", "bytes"])] = rng.choice(_JSON_VALUES[:6])
        elif op == 9:
            container[key] = [value] if rng.random() < 0.5 else {"v": value}
        else:
            container[key] = json.loads(json.dumps(rng.choice(_JSON_VALUES)))
        ops.append(f"{op} at {str(key)[:20]!r}")
    text = json.dumps(obj, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
    if rng.random() < 0.15:
        i = rng.randrange(len(text) + 1)
        text, how = rng.choice([
            (text[:i] + rng.choice('{}[]",:0-\\') + text[i + 1 :], "a character"), (text[:i], "truncated"),
            (text[:i] + rng.choice(["NaN", "1e999", "-", "\\u0000", "\\ud800", "\ufeff", "01", "true"]) + text[i:],
             "an insertion"),
            ("\ufeff" + text, "a BOM"), ('{"mode": "private", "round_id": "x", ' + text[1:], "duplicate keys"),
            ("[" * 100_000 + "]" * 100_000, "deep nesting"), (text + text, "twice"),
        ])
        ops.append(how)
    return text.encode("utf-8", "surrogatepass"), ", ".join(ops)


def _vk_digest_option(rng: random.Random, round_obj) -> list:
    if rng.random() < 0.85:
        return ["--unpinned"]
    digest = round_obj.get("verifying_key", {}).get("digest", "0x" + "00" * 32) if isinstance(round_obj, dict) else ""
    digest = digest if isinstance(digest, str) else ""
    return ["--vk-digest", rng.choice([digest, digest.upper(), digest[2:], digest[:-2], "0x" + "ab" * 32, "", "0x",
                                       "0x" + "g" * 64, "9" * 5000, digest + " ", "\u200b" + digest])]


def _round_seeds(seeds: Path) -> list:
    return [json.loads((INCLUSION / "round.json").read_text(encoding="utf-8")),
            json.loads((seeds / "round" / "round.json").read_text(encoding="utf-8"))]


def test_sweep_verify_over_round_files(seeds, tmp_path):
    rng = random.Random(64)
    sweep = Sweep(tmp_path, longest=1000)
    rounds = _round_seeds(seeds)
    path = tmp_path / "round.json"
    for i in range(2000):
        base = rounds[i % 2]
        as_made = i % 100 == 1  # the fresh round, untouched: it verifies
        data, how = (json.dumps(base).encode(), "as made") if as_made else _mutate_json(rng, base)
        path.write_bytes(data)
        args = ["verify", path, "--allow-insecure-srs", "--unpinned"] if as_made else [
            "verify", path, *(["--allow-insecure-srs"] if rng.random() < 0.9 else []),
            *_vk_digest_option(rng, base), *(["--json"] if rng.random() < 0.5 else [])]
        result = sweep.run(f"round {i} ({how})", args)
        assert result.exit_code == 0 or not as_made, result.output
    sweep.check(2000)


def _inclusion_seeds(seeds: Path) -> list:
    """(round, inclusion file, user id): the committed table of honest and forged files, and the fresh round's."""
    committed, fresh = _round_seeds(seeds)
    out = [(committed, case["file"], case["user_id"])
           for case in json.loads((INCLUSION / "cases.json").read_text(encoding="utf-8"))]
    for name, uid in (("alice.json", "alice"), ("li.json", "李雷")):
        out.append((fresh, json.loads((seeds / name).read_text(encoding="utf-8")), uid))
    return out


def test_sweep_verify_inclusion_over_files(seeds, tmp_path):
    rng = random.Random(65)
    sweep = Sweep(tmp_path)
    cases = _inclusion_seeds(seeds)
    round_path, path = tmp_path / "round.json", tmp_path / "inclusion.json"
    for i in range(2500):
        round_obj, file_obj, uid = cases[i % len(cases)] if i % 3 else cases[-1 - i % 2]
        how = []
        if rng.random() < 0.92 or i < len(cases):
            data, change = _mutate_json(rng, file_obj) if i >= len(cases) else (json.dumps(file_obj).encode(), "none")
            how.append(f"file: {change}")
        else:
            data = json.dumps(file_obj).encode()
        path.write_bytes(data)
        if rng.random() < 0.08 and i >= len(cases):
            round_data, change = _mutate_json(rng, round_obj)
            how.append(f"round: {change}")
        else:
            round_data = json.dumps(round_obj).encode()
        round_path.write_bytes(round_data)
        if rng.random() < 0.1 and i >= len(cases):
            uid = rng.choice(_UNICODE_TEXTS + [uid + "\u200b", uid.upper(), " " + uid, uid[:-1]])
            how.append(f"id {uid[:20]!r}")
        args = ["verify-inclusion", path, "--user-id", uid, "--round", round_path,
                *(["--allow-insecure-srs"] if rng.random() < 0.9 else []), *_vk_digest_option(rng, round_obj),
                *(["--json"] if rng.random() < 0.5 else [])]
        sweep.run(f"inclusion {i} ({'; '.join(how)})", args)
    sweep.check(2500)
    assert sweep.statuses[0] >= 2, sweep.statuses  # the fresh round's honest files pass


def test_a_user_id_that_is_not_unicode_is_refused(tmp_path):
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(json.loads((INCLUSION / "cases.json").read_text(encoding="utf-8"))[0]["file"]))
    result = CliRunner().invoke(main, ["verify-inclusion", str(path), "--user-id", "\udcff", "--round",
                                       str(INCLUSION / "round.json"), "--allow-insecure-srs", "--unpinned", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2 and "--user-id" in result.output and "not valid Unicode" in result.output


# --------------------------------------------------------------------------- a few through a real process


def test_a_few_bad_inputs_through_a_real_process(seeds, tmp_path):
    """A real interpreter each: what an in-process runner could hide (a crash of the C stack, exit statuses)."""
    round_obj = json.loads((INCLUSION / "round.json").read_text(encoding="utf-8"))
    round_obj["verifying_key"]["bytes"] = 5
    files = {
        "amount.csv": LEDGER + b"zed," + b"9" * 5000 + b",\n",
        "nul.csv": LEDGER + b"z\x00d,1,\n",
        "p1.ptau": ptau_of_power(1),
        "vk.json": json.dumps(round_obj).encode(),
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "ledger.csv": LEDGER,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    runs = [
        _prove_args(seeds, Path("amount.csv"), Path("out")),
        _prove_args(seeds, Path("nul.csv"), Path("out")),
        _prove_args(seeds, Path("ledger.csv"), Path("out"), "small.bin", "BTC=" + "9" * 5000),
        ["setup", "--ptau", "p1.ptau", "--out", "srs.bin"],
        ["verify", "vk.json", "--allow-insecure-srs", "--unpinned"],
        ["verify", "deep.json", "--allow-insecure-srs", "--unpinned"],
    ]
    before = _tree(tmp_path)
    started = [subprocess.Popen([sys.executable, "-m", "zksolvency.cli", *map(str, args)], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in runs]
    for args, process in zip(runs, started):
        try:
            stdout, stderr = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        lines = _message_lines(stderr)
        assert process.returncode == 1 and "Traceback" not in stderr, (args[:2], process.returncode, stderr[-1000:])
        assert len(lines) == 1 and lines[0].startswith("Error: ") and len(lines[0]) < 300, stderr[-1000:]
    assert _tree(tmp_path) == before

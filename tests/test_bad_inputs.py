"""Bad inputs to every command: refused with one line and exit status 1 (or click's 2), nothing written, no traceback.

First the inputs found by hand, each a fixed case; then a seeded sweep of
generated ones over every command's inputs (ledger bytes, option strings,
.ptau bytes, round.json and inclusion-file mutations), driven in-process with
click's runner, and a few through a real process.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolvency.cli import main

VECTORS = Path(__file__).parent / "vectors"
INCLUSION = VECTORS / "inclusion"


def _tree(directory: Path) -> dict:
    """Every file and folder under ``directory`` with its content, to see what a command left behind."""
    return {str(p.relative_to(directory)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(directory.rglob("*"))}


def _invoke(*args, cwd: Path | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def _refused(result, status: int = 1) -> str:
    """The one line of a refusal (and that there was no traceback); returns stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == status, (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 1000, result.stderr[-2000:]
    return result.stderr


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
    ("verifying key bytes with a space", _edit("verifying_key.bytes", _spaced(ROUND["verifying_key"]["bytes"])),
     "field 'bytes' must be 0x"),
    ("verifying key bytes 0X", _edit("verifying_key.bytes", "0X" + ROUND["verifying_key"]["bytes"][2:]),
     "field 'bytes' must be 0x"),
    ("verifying key bytes without 0x", _edit("verifying_key.bytes", ROUND["verifying_key"]["bytes"][2:]),
     "field 'bytes' must be 0x"),
    ("verifying key bytes in capitals", _edit("verifying_key.bytes", "0x" + ROUND["verifying_key"]["bytes"][2:].upper()),
     "field 'bytes' must be 0x"),
    ("verifying key bytes truncated", _edit("verifying_key.bytes", ROUND["verifying_key"]["bytes"][:-2]),
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

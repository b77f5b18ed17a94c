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

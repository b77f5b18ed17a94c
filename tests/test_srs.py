"""The SRS: development setup against py_ecc, .ptau import against snarkjs's own export, refusals, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from py_ecc.optimized_bn128 import G1, G2, eq, multiply

from zksolvency.cli import main
from zksolvency.constants import R_MODULUS
from zksolvency.encoding import G2Point
from zksolvency.prover import g1
from zksolvency.prover.srs import SRS, SetupError, dev_setup, dev_tau, import_ptau, powers_are_consistent, read_ptau

VECTORS = Path(__file__).parent / "vectors"


def test_dev_setup_is_powers_of_the_seeded_tau():
    srs = dev_setup(4, seed="test")
    tau = dev_tau("test")
    got = g1.to_py_ecc(srs.g1_powers)
    for i in (0, 1, 2, 7, srs.max_degree):
        assert eq(got[i], multiply(G1, pow(tau, i, R_MODULUS)))
    assert srs.tau_g2 == G2Point.from_py_ecc(multiply(G2, tau))
    assert srs.insecure and srs.max_log_size == 4


def test_save_load_round_trip_and_corruption(tmp_path):
    srs = dev_setup(5)
    path = tmp_path / "srs.bin"
    srs.save(path)
    loaded = SRS.load(path)
    assert np.array_equal(loaded.g1_powers, srs.g1_powers) and loaded.digest == srs.digest and loaded.insecure
    data = bytearray(path.read_bytes())
    for name, bad in {
        "magic": b"X" + bytes(data[1:]),
        "truncated": bytes(data[:-1]),
        "trailing": bytes(data) + b"\0",
        "digest": bytes(data[:-70]) + bytes([data[-70] ^ 1]) + bytes(data[-69:]),
    }.items():
        (tmp_path / name).write_bytes(bad)
        with pytest.raises(SetupError):
            SRS.load(tmp_path / name)
    assert srs.truncated(3).g1_powers.shape[0] == 8 + 3
    with pytest.raises(ValueError):
        srs.truncated(6)


def _snarkjs_points(name: str):
    ceremony = name.split("_")[0]
    data = json.loads((VECTORS / f"{ceremony}_points.json").read_text(encoding="utf-8"))
    tau_g1 = [(int(x), int(y)) for x, y in data["tauG1"]]
    tau_g2 = [((int(x[0]), int(x[1])), (int(y[0]), int(y[1]))) for x, y in data["tauG2"]]
    return tau_g1, tau_g2


@pytest.mark.parametrize("name", ["pot4_final", "pot6_final"])
def test_ptau_import_matches_snarkjs_export(name):
    srs = import_ptau(VECTORS / f"{name}.ptau")
    tau_g1, tau_g2 = _snarkjs_points(name)
    assert g1.to_ints(srs.g1_powers) == tau_g1
    assert srs.tau_g2 == G2Point(*tau_g2[1]) and srs.g2 == G2Point(*tau_g2[0])
    assert not srs.insecure


def test_unprepared_ceremony_imports_too():
    """The tau sections of a ceremony before its phase-2 preparation are complete: it imports."""
    srs = import_ptau(VECTORS / "pot6_contributed.ptau")
    assert srs.max_log_size == 6


def _tau_g1_offset(path: Path) -> int:
    return read_ptau(path).tau_g1_offset


def _tampered(tmp_path, edit) -> Path:
    src = VECTORS / "pot4_final.ptau"
    dst = tmp_path / "tampered.ptau"
    data = bytearray(src.read_bytes())
    edit(data, _tau_g1_offset(src))
    dst.write_bytes(bytes(data))
    return dst


def test_altered_powers_are_refused_with_nothing_written(tmp_path):
    def off_curve(data, offset):
        data[offset + 64 * 3] ^= 1  # the x coordinate of power 3

    def swapped(data, offset):
        a, b = offset + 64 * 2, offset + 64 * 5
        data[a : a + 64], data[b : b + 64] = data[b : b + 64], data[a : a + 64]

    def truncated(data, offset):
        del data[offset + 64 * 10 :]

    def bad_magic(data, offset):
        data[0:4] = b"ptaX"

    out = tmp_path / "srs.bin"
    out.write_bytes(b"previous")
    for edit, reason in ((off_curve, "power 3"), (swapped, "pairing check"), (truncated, "truncated"),
                         (bad_magic, "not a .ptau")):
        path = _tampered(tmp_path, edit)
        with pytest.raises(SetupError, match=reason):
            import_ptau(path)
        result = CliRunner().invoke(main, ["setup", "--ptau", str(path), "--out", str(out)])
        assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output
        assert out.read_bytes() == b"previous"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["srs.bin", "tampered.ptau"]


def test_consistency_check_detects_a_swap():
    srs = dev_setup(3)
    swapped = srs.g1_powers.copy()
    swapped[[2, 4]] = swapped[[4, 2]]
    assert powers_are_consistent(srs.g1_powers, srs.g2, srs.tau_g2)
    assert not powers_are_consistent(swapped, srs.g2, srs.tau_g2)


def test_setup_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "dev.bin"
    result = runner.invoke(main, ["setup", "--dev", "--k", "5", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["insecure"] and report["max_log_size"] == 5 and report["srs"] == str(out)
    assert report["digest"] == "0x" + SRS.load(out).digest.hex()
    result = runner.invoke(main, ["setup", "--ptau", str(VECTORS / "pot6_final.ptau"), "--k", "4", "--out",
                                  str(tmp_path / "p.bin"), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["max_log_size"] == 4
    assert not SRS.load(tmp_path / "p.bin").insecure
    assert runner.invoke(main, ["setup", "--dev", "--out", str(tmp_path / "x.bin")]).exit_code == 2
    assert runner.invoke(main, ["setup", "--out", str(tmp_path / "x.bin")]).exit_code == 2
    result = runner.invoke(main, ["setup", "--ptau", str(VECTORS / "pot4_final.ptau"), "--k", "9", "--out",
                                  str(tmp_path / "y.bin")])
    assert result.exit_code == 1 and "2^4" in result.output and not (tmp_path / "y.bin").exists()

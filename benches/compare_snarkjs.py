"""Time zksolvency's MSM and NTT beside snarkjs's own engine (npm ffjavascript) in one run; print the ratios.

    .venv/bin/python benches/compare_snarkjs.py [--msm-sizes 16,18] [--ntt-sizes 18,20] [--repeat 3] [--json] [--strict]

The peer runs in node (benches/peer, `npm ci --prefix benches/peer`); both sides
take the median of ``--repeat`` timed runs after a warm-up, on the same sizes,
one after the other on the same machine. Targets (issue [1]), as ratios:

- MSM of 2^18 points with full scalars <= 0.35x ffjavascript's G1.multiExpAffine;
- our MSM with 64-bit scalars >= 3x, with 16-bit scalars >= 8x faster than with full scalars;
- NTT of 2^18 and 2^20 elements <= 0.25x ffjavascript's Fr.fft;
- a whole proof of the synthetic 2^16-row circuit (``zksolvency bench --circuit``)
  <= 6x one ffjavascript MSM of 2^16 points with full scalars (issue [2]).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"
SCALAR_BITS = (254, 64, 16)


def prove_seconds(log_size: int) -> float:
    """One proof of the synthetic circuit (the prover's cost only: set-up excluded)."""
    from zksolvency.bench import measure_circuit

    measure_circuit(log_size)  # warm-up: JIT and caches
    return measure_circuit(log_size)["prove_seconds"]


def ours(msm_sizes, ntt_sizes, repeat: int) -> dict:
    from zksolvency.bench import _timed, random_scalars
    from zksolvency.prover.field import Fr
    from zksolvency.prover.g1 import random_points
    from zksolvency.prover.msm import msm_affine
    from zksolvency.prover.ntt import domain

    rng = np.random.default_rng(7)
    out = {"msm": {}, "fft": {}}
    for k in msm_sizes:
        points = random_points(1 << k, rng)
        for bits in SCALAR_BITS:
            scalars = random_scalars(1 << k, bits, rng)
            out["msm"][f"{k}/{bits}"] = _timed(lambda: msm_affine(points, scalars), repeat)
    for k in ntt_sizes:
        values = Fr.random(1 << k, rng)
        d = domain(k)
        out["fft"][str(k)] = _timed(lambda: d.ntt(values), repeat)
    return out


def peer(msm_sizes, ntt_sizes, repeat: int) -> dict:
    if not (PEER / "node_modules" / "ffjavascript").is_dir():
        sys.exit("the peer is not installed: run `npm ci --prefix benches/peer` (make compare does)")
    spec = {"msm": [[k, bits] for k in msm_sizes for bits in SCALAR_BITS], "fft": list(ntt_sizes), "repeat": repeat}
    done = subprocess.run(["node", str(PEER / "peer.mjs"), json.dumps(spec)], capture_output=True, text=True,
                          check=False, cwd=PEER)
    if done.returncode != 0:
        sys.exit(f"the peer failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def targets(us: dict, them: dict) -> list:
    """(description, measured ratio, bound, passed)."""
    out = []
    if "18/254" in us["msm"]:
        r = us["msm"]["18/254"] / them["msm"]["18/254"]
        out.append(("MSM 2^18 full scalars, ours / ffjavascript", r, "<= 0.35", r <= 0.35))
        for bits, bound in ((64, 3.0), (16, 8.0)):
            speedup = us["msm"]["18/254"] / us["msm"][f"18/{bits}"]
            out.append((f"MSM 2^18, full / {bits}-bit scalars (ours)", speedup, f">= {bound:g}", speedup >= bound))
    for k in ("18", "20"):
        if k in us["fft"]:
            r = us["fft"][k] / them["fft"][k]
            out.append((f"NTT 2^{k}, ours / ffjavascript Fr.fft", r, "<= 0.25", r <= 0.25))
    if "prove_16" in us and "16/254" in them["msm"]:
        r = us["prove_16"] / them["msm"]["16/254"]
        out.append(("proof of 2^16 rows / ffjavascript MSM 2^16", r, "<= 6", r <= 6))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--msm-sizes", default="16,18")
    parser.add_argument("--ntt-sizes", default="18,20")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-circuit", action="store_true", help="skip the whole-proof comparison")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    msm_sizes = [int(k) for k in args.msm_sizes.split(",") if k]
    ntt_sizes = [int(k) for k in args.ntt_sizes.split(",") if k]
    us = ours(msm_sizes, ntt_sizes, args.repeat)
    if not args.no_circuit and 16 in msm_sizes:
        us["prove_16"] = prove_seconds(16)
    them = peer(msm_sizes, ntt_sizes, args.repeat)
    checks = targets(us, them)
    report = {
        "cores": os.cpu_count(),
        "ours": us,
        "ffjavascript": them,
        "targets": [{"what": w, "ratio": round(r, 3), "bound": b, "pass": p} for w, r, b, p in checks],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'operation':<22} {'zksolvency s':>13} {'ffjavascript s':>15} {'ratio':>7}")
        if "prove_16" in us:
            print(f"{'proof, 2^16 rows':<22} {us['prove_16']:>13.4f}")
        for kind, label in (("msm", "MSM 2^{} {}-bit"), ("fft", "NTT 2^{}")):
            for key, t in us[kind].items():
                name = label.format(*key.split("/"))
                print(f"{name:<22} {t:>13.4f} {them[kind][key]:>15.4f} {t / them[kind][key]:>7.3f}")
        print()
        for what, ratio, bound, ok in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {what}: {ratio:.3f} (target {bound})")
    return 1 if args.strict and not all(c[3] for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())

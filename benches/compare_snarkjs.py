"""Time zksolvency's MSM and NTT beside snarkjs's engine (npm ffjavascript) in one run; print the ratios.

    .venv/bin/python benches/compare_snarkjs.py [--msm-sizes 16,18] [--ntt-sizes 18,20] [--repeat 3]
                                                [--no-circuit] [--json] [--strict]

The peer runs in node (benches/peer/peer.mjs; `npm ci --prefix benches/peer` installs it,
`make compare` does both). Both sides time the same operations at the same sizes, one after
the other on the same machine, each on all cores, and report the median of ``--repeat``
timed calls after one warm-up:

- MSM: our ``msm_affine`` and ffjavascript's ``G1.multiExpAffine`` over 2^k random affine
  points, with uniformly random scalars of 254 bits (below r), 64 bits and 16 bits
  (ffjavascript is given 32-, 8- and 2-byte scalars, its fastest form for each width);
- NTT: our ``Domain.ntt`` and ffjavascript's ``Fr.fft`` over 2^k random elements; where the
  CPU has AVX-512 IFMA our scalar fallback is timed too (what other CPUs run).

In the same run both sides also compute the same 2^10-point MSMs (each width) and the same
FFT on inputs made by ffjavascript, and the results are compared byte for byte.

Targets, as ratios from the same run:

- MSM of 2^18 points with full scalars <= 0.35x ffjavascript's;
- our MSM of 2^18 points with 64-bit scalars >= 3x, with 16-bit scalars >= 8x faster than ours
  with full scalars;
- NTT of 2^18 and 2^20 elements <= 0.25x ffjavascript's Fr.fft;
- one proof of the synthetic 2^16-row circuit (``zksolvency bench --circuit``) <= 6x one
  ffjavascript MSM of 2^16 points with full scalars (skipped with ``--no-circuit``).

Each target prints PASS or FAIL (or "not measured" when its size was not asked for). The
exit status is 0 whatever the figures, unless ``--strict`` (then 1 if a target fails).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"
SCALAR_BITS = (254, 64, 16)
CHECK_LOG_SIZE = 10


def timings(fn, repeat: int) -> list:
    """Wall-clock seconds of ``repeat`` calls, after one warm-up call."""
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


# ---------------------------------------------------------------- the machine


def machine() -> dict:
    """Cores, CPU model and flags, as the figures depend on them."""
    model, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("unknown", platform.processor()):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    from zksolvency.prover import ntt

    return {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": model,
        "avx512ifma": "avx512ifma" in flags if flags else None,
        "ntt_implementation": "AVX-512 IFMA" if ntt.SIMD_AVAILABLE else "scalar",
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------- the two sides


def ours(msm_sizes, ntt_sizes, repeat: int, fallback: bool) -> dict:
    from zksolvency.bench import random_scalars
    from zksolvency.prover import ntt
    from zksolvency.prover.field import Fr
    from zksolvency.prover.g1 import random_points
    from zksolvency.prover.msm import msm_affine

    rng = np.random.default_rng(7)
    out = {"msm": {}, "fft": {}, "fft_scalar": {}, "samples": {"msm": {}, "fft": {}, "fft_scalar": {}}}

    def record(kind, key, times):
        out[kind][key] = median(times)
        out["samples"][kind][key] = times

    for k in msm_sizes:
        points = random_points(1 << k, rng)
        for bits in SCALAR_BITS:
            scalars = random_scalars(1 << k, bits, rng)
            record("msm", f"{k}/{bits}", timings(lambda: msm_affine(points, scalars), repeat))
    for k in ntt_sizes:
        values = Fr.random(1 << k, rng)
        d = ntt.domain(k)
        buffer = Fr.zeros(1 << k)
        record("fft", str(k), timings(lambda: d.ntt(values, out=buffer), repeat))
        if fallback and ntt.SIMD_AVAILABLE:
            scalar = ntt._Job()
            record("fft_scalar", str(k), timings(lambda: d._transform(values, buffer, scalar, simd=False), repeat))
    return out


def prove_seconds(log_size: int, repeat: int) -> list:
    """Proofs of the synthetic circuit (the prover's cost only: key generation excluded)."""
    from zksolvency.bench import measure_circuit

    measure_circuit(log_size)  # warm-up: JIT and caches
    return [measure_circuit(log_size, seed=1 + i)["prove_seconds"] for i in range(max(1, repeat // 2))]


def peer(msm_sizes, ntt_sizes, repeat: int) -> dict:
    if shutil.which("node") is None:
        sys.exit("node is not installed: the comparison needs Node.js (>= 18) with npm")
    if not (PEER / "node_modules" / "ffjavascript").is_dir():
        sys.exit("the peer is not installed: run `npm ci --prefix benches/peer` (make compare does)")
    spec = {
        "msm": [[k, bits] for k in msm_sizes for bits in SCALAR_BITS],
        "fft": list(ntt_sizes),
        "repeat": repeat,
        "check": CHECK_LOG_SIZE,
    }
    done = subprocess.run(["node", str(PEER / "peer.mjs"), json.dumps(spec)], capture_output=True, text=True,
                          check=False, cwd=PEER)
    if done.returncode != 0:
        sys.exit(f"the peer failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def same_results(check: dict) -> dict:
    """Our MSM and NTT on the inputs the peer made, against its results (byte for byte)."""
    from zksolvency.prover import ntt
    from zksolvency.prover.msm import msm_affine

    n = 1 << check["log_size"]
    # ffjavascript's in-memory form is ours: Montgomery (R = 2^256), little-endian 64-bit limbs.
    points = np.frombuffer(bytes.fromhex(check["points"]), dtype="<u8").reshape(n, 2, 4).astype(np.uint64)
    out = {}
    for bits in sorted(check["msm"], key=lambda b: -int(b)):
        case = check["msm"][bits]
        raw = np.frombuffer(bytes.fromhex(case["scalars"]), dtype=np.uint8).reshape(n, -1)
        padded = np.zeros((n, 32), dtype=np.uint8)
        padded[:, : raw.shape[1]] = raw
        scalars = padded.view("<u8").astype(np.uint64)
        out[f"MSM {bits}-bit"] = msm_affine(points, scalars).astype("<u8").tobytes().hex() == case["result"]
    values = np.frombuffer(bytes.fromhex(check["fft"]["values"]), dtype="<u8").reshape(n, 4).astype(np.uint64)
    ours_fft = ntt.domain(check["log_size"]).ntt(values)
    out["NTT"] = ours_fft.astype("<u8").tobytes().hex() == check["fft"]["result"]
    return out


# ---------------------------------------------------------------- the report


def rows(us: dict, them: dict) -> list:
    """(operation, ours seconds, peer seconds) for every figure measured on both sides."""
    out = []
    for key, t in us["msm"].items():
        k, bits = key.split("/")
        out.append((f"MSM 2^{k}, {bits}-bit scalars", t, them["msm"][key]))
    for k, t in us["fft"].items():
        out.append((f"NTT 2^{k}", t, them["fft"][k]))
    for k, t in us["fft_scalar"].items():
        out.append((f"NTT 2^{k}, scalar fallback", t, them["fft"][k]))
    return out


def targets(us: dict, them: dict, agree: dict) -> list:
    """(description, measured, bound, passed); measured None when the size was not asked for."""
    out = []

    def ratio(a, b):
        return None if a is None or b is None else a / b

    msm, peer_msm = us["msm"], them["msm"]
    r = ratio(msm.get("18/254"), peer_msm.get("18/254"))
    out.append(("MSM 2^18, 254-bit scalars: ours / ffjavascript", r, "<= 0.35", r is not None and r <= 0.35))
    for bits, bound in ((64, 3.0), (16, 8.0)):
        r = ratio(msm.get("18/254"), msm.get(f"18/{bits}"))
        out.append((f"MSM 2^18: ours 254-bit / ours {bits}-bit", r, f">= {bound:g}", r is not None and r >= bound))
    for k in ("18", "20"):
        r = ratio(us["fft"].get(k), them["fft"].get(k))
        out.append((f"NTT 2^{k}: ours / ffjavascript Fr.fft", r, "<= 0.25", r is not None and r <= 0.25))
    if "prove_16" in us:
        r = ratio(us["prove_16"], peer_msm.get("16/254"))
        out.append(("proof of 2^16 rows / ffjavascript MSM 2^16", r, "<= 6", r is not None and r <= 6))
    everything = all(agree.values())
    out.append((f"same results on identical 2^{CHECK_LOG_SIZE} inputs ({', '.join(agree)})",
                None if not agree else float(everything), "all", everything))
    return out


def print_table(report: dict) -> None:
    m, engine = report["machine"], report["ffjavascript"]["engine"]
    print(f"zksolvency vs {engine['package']} {engine['version']} (snarkjs 0.7.6's engine), node {engine['node']}, "
          f"{engine['threads']} worker threads")
    ifma = {True: "yes", False: "no", None: "unknown"}[m["avx512ifma"]]
    print(f"{report['date']}; {m['cores']} cores, {m['cpu']}, AVX-512 IFMA: {ifma}; "
          f"median of {report['repeat']} after one warm-up")
    print()
    print(f"{'operation':<32} {'zksolvency ms':>14} {'ffjavascript ms':>16} {'ours/peer':>10}")
    for name, t, p in rows(report["ours"], report["ffjavascript"]):
        print(f"{name:<32} {t * 1e3:>14.3f} {p * 1e3:>16.3f} {t / p:>10.3f}")
    if "prove_16" in report["ours"]:
        print(f"{'proof, synthetic 2^16 rows':<32} {report['ours']['prove_16'] * 1e3:>14.3f}")
    print()
    for t in report["targets"]:
        if t["what"].startswith("same results"):
            status = "PASS" if t["pass"] else "FAIL"
            print(f"{status}  {t['what']}")
        elif t["measured"] is None:
            print(f"----  {t['what']}: not measured (target {t['bound']})")
        else:
            print(f"{'PASS' if t['pass'] else 'FAIL'}  {t['what']}: {t['measured']:.3f} (target {t['bound']})")


def sizes(text: str) -> list:
    return [int(k) for k in text.split(",") if k.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--msm-sizes", type=sizes, default=[16, 18], help="log2 sizes, comma-separated")
    parser.add_argument("--ntt-sizes", type=sizes, default=[18, 20], help="log2 sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per figure after the warm-up")
    parser.add_argument("--no-circuit", action="store_true", help="skip the whole-proof comparison")
    parser.add_argument("--no-fallback", action="store_true", help="skip timing the scalar NTT fallback")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()

    us = ours(args.msm_sizes, args.ntt_sizes, args.repeat, fallback=not args.no_fallback)
    if not args.no_circuit and 16 in args.msm_sizes:
        samples = prove_seconds(16, args.repeat)
        us["prove_16"] = median(samples)
        us["samples"]["prove_16"] = samples
    them = peer(args.msm_sizes, args.ntt_sizes, args.repeat)
    agree = same_results(them.pop("check"))
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "repeat": args.repeat,
        "ours": us,
        "ffjavascript": them,
        "same_results": agree,
        "targets": [{"what": w, "measured": None if r is None else round(r, 4), "bound": b, "pass": p}
                    for w, r, b, p in targets(us, them, agree)],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    failed = any(t["measured"] is not None and not t["pass"] for t in report["targets"])
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())

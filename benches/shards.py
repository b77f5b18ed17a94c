"""The overhead of sharding, and one large shard: rounds proven with ``prove_round``, all inclusion openings included.

    .venv/bin/python benches/shards.py overhead [--log-records 17] [--shards 4] [--repeats 3]
    .venv/bin/python benches/shards.py single --log-rows 22

``overhead``: 2^17 records (one record per customer, 4 slots, 7 assets) proven
as one round in this process on both cores, and as 4 shards of 2^15 records on
a Dask LocalCluster of 2 single-threaded workers, alternately, in one run; the
median of each and their ratio. The cluster is started (and its workers' kernels
loaded with a tiny sharded round) before the timing: the figure is the round's.

``single``: one shard of 2^k rows, every record place filled (2^(k-1) records
of 4 slots), proof and all inclusion openings, in a fresh process; time and
peak RSS of that process (the SRS's one-off transforms are timed apart).

Each prints one JSON line; ``benches/results/shards.json`` keeps the figures
the plots are made from (``benches/plot_shards.py``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ASSETS = 7
RESULTS = Path(__file__).parent / "results" / "shards.json"


def synthetic_ledger(records: int, seed: int = 1):
    """``records`` customers of one record each (1 to 4 non-zero balances of 7 assets)."""
    from zksolvency.ingest import Ledger

    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 5, size=records)
    offsets = np.zeros(records + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    rank = np.argsort(np.argsort(rng.random((records, ASSETS)), axis=1), axis=1)  # a random order of the assets
    held = rank < counts[:, None]  # each customer holds the first `count` of theirs
    asset_ids = np.nonzero(held)[1] + 1  # row by row, in increasing asset order
    units = rng.integers(1, 1 << 40, size=offsets[-1], dtype=np.uint64)
    names = tuple(f"A{j}" for j in range(1, ASSETS + 1))
    return Ledger("synthetic", names, (8,) * ASSETS, [f"customer-{u}" for u in range(records)], offsets,
                  asset_ids.astype(np.uint32), units)


def _srs(log_n: int, directory: Path):
    from zksolvency.prover.srs import SRS, dev_setup

    path = directory / f"dev-srs-{log_n}.bin"
    if not path.exists():
        dev_setup(log_n).save(path)
    return path, SRS.load(path)


def record(entry: dict) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    figures = [f for f in figures if f.get("name") != entry["name"]] + [entry]
    RESULTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(json.dumps(entry, sort_keys=True))


def overhead(log_records: int, shards: int, repeats: int, workdir: Path) -> None:
    from distributed import Client, LocalCluster

    from zksolvency.cluster import Remote
    from zksolvency.round import prove_round

    import logging

    ledger = synthetic_ledger(1 << log_records)
    srs_path, srs = _srs(log_records + 1, workdir)
    started = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    client = Client(cluster)
    cluster_seconds = time.perf_counter() - started
    remote = lambda: Remote(cluster.scheduler_address, srs_path, srs.digest)  # noqa: E731
    from zksolvency.prover.openings import srs_transforms

    # Outside the timing: the SRS's transforms for both sizes (cached on disk, once per SRS and size) and a tiny
    # round each way (the workers and this process load the compiled kernels).
    for log_n in (log_records + 1, log_records + 1 - (shards - 1).bit_length()):
        srs_transforms(srs.truncated(log_n), log_n)
    prove_round(synthetic_ledger(64), srs, "warm-up")
    prove_round(synthetic_ledger(64), srs, "warm-up", shards=2, cluster=remote())
    one, sharded = [], []
    for r in range(repeats):
        for kind in ("one", "sharded"):
            t = time.perf_counter()
            if kind == "one":
                rnd = prove_round(ledger, srs, f"bench-one-{r}")
            else:
                rnd = prove_round(ledger, srs, f"bench-sharded-{r}", shards=shards, cluster=remote())
            seconds = time.perf_counter() - t
            (one if kind == "one" else sharded).append(seconds)
            print(f"{kind}: {seconds:.1f} s (2^{rnd.statement.log_n} rows"
                  f"{f' x {shards} shards' if kind == 'sharded' else ''})", file=sys.stderr)
    client.close()
    cluster.close()
    record({"name": f"overhead-{log_records}-{shards}", "records": 1 << log_records, "shards": shards,
            "one_round_seconds": one, "sharded_seconds": sharded, "one_round_median": statistics.median(one),
            "sharded_median": statistics.median(sharded),
            "ratio": statistics.median(sharded) / statistics.median(one), "cluster_start_seconds": cluster_seconds,
            "workers": 2, "threads_per_worker": 1})


def single(log_rows: int, workdir: Path) -> None:
    """In a fresh process (so that its peak RSS is the shard's): the SRS transform first, then the timed shard."""
    srs_path, _ = _srs(log_rows, workdir)
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from shards import synthetic_ledger
from zksolvency.prover.srs import SRS
from zksolvency.prover.openings import srs_transforms
from zksolvency.round import prove_round
srs = SRS.load({str(srs_path)!r})
t = time.perf_counter(); srs_transforms(srs.truncated({log_rows}), {log_rows}); transform = time.perf_counter() - t
ledger = synthetic_ledger(1 << ({log_rows} - 1))
t = time.perf_counter(); rnd = prove_round(ledger, srs, "bench-single"); seconds = time.perf_counter() - t
print(json.dumps({{"seconds": seconds, "proof_seconds": rnd.timings["proof_seconds"],
                  "inclusion_seconds": rnd.timings["inclusion_seconds"], "srs_transform_seconds": transform,
                  "log_n": rnd.statement.log_n,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    record({"name": f"single-{log_rows}", "rows": 1 << log_rows, "records": 1 << (log_rows - 1), **figures})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("overhead", "single"))
    parser.add_argument("--log-records", type=int, default=17)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--log-rows", type=int, default=22)
    parser.add_argument("--srs-dir", type=Path, default=Path(tempfile.gettempdir()) / "zksolvency-bench")
    args = parser.parse_args()
    args.srs_dir.mkdir(exist_ok=True)
    if args.what == "overhead":
        overhead(args.log_records, args.shards, args.repeats, args.srs_dir)
    else:
        single(args.log_rows, args.srs_dir)


if __name__ == "__main__":
    main()

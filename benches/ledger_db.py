"""A ledger read from PostgreSQL beside the same ledger read from CSV, in one run: time and peak memory.

    .venv/bin/python benches/ledger_db.py [--log-users 20] [--assets 7] [--repeat 3]

Makes 2^N customers each holding every one of K assets (2^20 x 7 = 7.3 M rows), writes them as a
CSV ledger (one line per customer) and loads them into a PostgreSQL server of its own (127.0.0.1, a
temporary directory; Debian's postgresql) as a long-form table ``balances(user_id text, asset text,
amount numeric)`` in random row order, and as ``balances_units`` with bigint smallest units. Each
read runs in a fresh process (``read_ledger`` for the CSV, ``read_database_ledger`` for the
database) that reports its wall time and peak RSS (``VmHWM``, before and after the read); one warm-up read of each, then
``--repeat`` rounds alternating the sources; medians. Each database read is checked to give the
CSV's ledger. A last source asks the server to sort (``ORDER BY user_id``), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from postgres_server import PostgresServer, server_bindir  # noqa: E402

ASSETS = (("BTC", 8), ("ETH", 9), ("USDT", 6), ("USDC", 6), ("SOL", 9), ("DOGE", 8), ("XRP", 6))

CHILD = r"""
import json, sys, time
kind, source, query, decimals = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
import numpy as np
from zksolvency.ingest import read_ledger
from zksolvency.ledger_db import read_database_ledger
import psycopg, psycopg.types.string  # imported before the clock starts, as the CSV reader's modules are
def high_water_mb():  # this process's peak RSS (VmHWM; ru_maxrss would count the parent's, kept across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
baseline = high_water_mb()
started = time.perf_counter()
ledger = read_ledger(source, decimals) if kind == "csv" else read_database_ledger(source, query, decimals)
seconds = time.perf_counter() - started
peak = high_water_mb()
order = sorted(range(ledger.users), key=ledger.user_ids.__getitem__)
digest = __import__("hashlib").sha256()
for u in order:
    digest.update(ledger.user_ids[u].encode() + b"\0" + repr(ledger.balances_of(u)).encode())
print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "users": ledger.users, "entries": int(ledger.units.size),
                  "digest": digest.hexdigest()}))
"""


def make_ledger(users: int, k: int, seed: int = 2026):
    """Random units below 10^12 for every (customer, asset), never zero; ids ``user-<n>``."""
    rng = np.random.default_rng(seed)
    units = rng.integers(1, 10**12, size=(users, k), dtype=np.int64)
    return units


def as_decimal(units: np.ndarray, decimals: int) -> np.ndarray:
    """Exact decimal strings of ``units`` smallest units (``1234`` with 2 decimals -> ``12.34``)."""
    whole, frac = np.divmod(units, 10**decimals)
    return np.char.add(np.char.add(whole.astype(str), "."), np.char.zfill(frac.astype(str), decimals))


def write_csv(path: Path, ids: np.ndarray, columns: list) -> None:
    names = ",".join(name for name, _ in ASSETS[: len(columns)])
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"user_id,{names}\n")
        step = 1 << 16
        for lo in range(0, ids.shape[0], step):
            rows = zip(ids[lo:lo + step], *(c[lo:lo + step] for c in columns))
            f.write("".join(",".join(row) + "\n" for row in rows))


def load_postgres(server: PostgresServer, url: str, ids, columns, units, seed: int = 7) -> None:
    users, k = units.shape
    order = np.random.default_rng(seed).permutation(users * k)
    database = url.rsplit("/", 1)[1]
    with server.connect(database) as conn:
        conn.execute("CREATE TABLE balances (user_id text, asset text, amount numeric)")
        conn.execute("CREATE TABLE balances_units (user_id text, asset text, amount bigint)")
        for table, text in (("balances", columns), ("balances_units", [c.astype(str) for c in units.T])):
            with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                step = 1 << 18
                for lo in range(0, order.shape[0], step):
                    picked = order[lo:lo + step]
                    u, j = np.divmod(picked, k)
                    copy.write("".join(f"{ids[a]}\t{ASSETS[b][0]}\t{text[b][a]}\n"
                                       for a, b in zip(u.tolist(), j.tolist())))
        conn.execute("VACUUM ANALYZE balances")
        conn.execute("VACUUM ANALYZE balances_units")


def read_once(kind: str, source: str, query: str, decimals: dict, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, source, query, json.dumps(decimals)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-users", type=int, default=20)
    parser.add_argument("--assets", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server on the way out
    bindir = server_bindir()
    if bindir is None:
        sys.exit("no PostgreSQL server binaries: apt-get install postgresql")
    users, k = 1 << args.log_users, args.assets
    decimals = dict(ASSETS[:k])
    started = time.perf_counter()
    units = make_ledger(users, k)
    ids = np.char.add("user-", np.arange(users).astype(str))
    columns = [as_decimal(units[:, j], ASSETS[j][1]) for j in range(k)]
    work = Path(tempfile.mkdtemp(prefix="zksolvency-ledger-bench-"))
    server = PostgresServer(bindir).start({"shared_buffers": "1GB"})
    try:
        csv_path = work / "ledger.csv"
        write_csv(csv_path, ids, columns)
        url = server.create_database("ledger")
        load_postgres(server, url, ids, columns, units)
        del columns
        print(f"made and loaded {users} x {k} = {users * k} rows in {time.perf_counter() - started:.0f} s "
              f"(CSV {csv_path.stat().st_size >> 20} MiB)", file=sys.stderr)
        env = {**os.environ, "PGPASSFILE": str(server.passfile)}
        sources = {
            "csv": ("csv", str(csv_path), ""),
            "postgresql numeric": ("db", url, "SELECT user_id, asset, amount FROM balances"),
            "postgresql bigint units": ("db", url, "SELECT user_id, asset, amount FROM balances_units"),
            "postgresql numeric, ORDER BY user_id": ("db", url, "SELECT user_id, asset, amount FROM balances "
                                                                "ORDER BY user_id"),
        }
        runs = {name: [] for name in sources}
        for name, source in sources.items():  # warm-up: page cache, shared buffers
            runs[name].append(read_once(*source, decimals, env))
        digests = {r[0]["digest"] for r in runs.values()}
        assert len(digests) == 1, "a database read gave another ledger than the CSV"
        runs = {name: [] for name in sources}
        for _ in range(args.repeat):
            for name, source in sources.items():
                runs[name].append(read_once(*source, decimals, env))
                print(f"{name}: {runs[name][-1]['seconds']:.2f} s, {runs[name][-1]['peak_mb']:.0f} MB",
                      file=sys.stderr)
    finally:
        server.stop()
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
    medians = {name: {"seconds": round(statistics.median(r["seconds"] for r in rs), 2),
                      "peak_mb": round(statistics.median(r["peak_mb"] for r in rs)),
                      "baseline_mb": round(statistics.median(r["baseline_mb"] for r in rs))} for name, rs in runs.items()}
    base = medians["csv"]
    for name, m in medians.items():
        m["time_vs_csv"] = round(m["seconds"] / base["seconds"], 2)
        m["memory_vs_csv"] = round(m["peak_mb"] / base["peak_mb"], 2)
    print(json.dumps({"users": users, "assets": k, "rows": users * k, "repeat": args.repeat, "medians": medians},
                     indent=1))


if __name__ == "__main__":
    main()

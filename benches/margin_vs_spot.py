"""A margin round against a spot round of the same rows, proven with every inclusion opening, in one run.

    .venv/bin/python benches/margin_vs_spot.py                 # 2^16 rows (2^15 records), 3 repeats each
    .venv/bin/python benches/margin_vs_spot.py --log-n 12 --repeat 1 --json

Both ledgers fill the same table of 2^k rows with 2^(k-1) records of 4 slots:
the spot one with users of one to four assets; the margin one with the same
kind of users, a third of whom borrow one asset for up to 90% of what their
collateral covers (their records also carry their surplus words). The figure
is the median of ``prove_round`` (witness, proof and all openings) per kind,
after one untimed warm-up round each (JIT compilation), and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ASSETS = (("BTC", 8), ("ETH", 9), ("USDT", 6), ("USDC", 6), ("SOL", 9), ("DOGE", 8), ("XRP", 6))
PRICES = {"BTC": ("65000", 9000), "ETH": ("3000.5", 8500), "USDT": ("1", 10000), "USDC": ("1", 10000),
          "SOL": ("150.25", 7000), "DOGE": ("0.12345678", 5000), "XRP": ("0.5", 0)}
BORROWABLE = (0, 1, 2, 3)


def _ledger(path: Path, records: int, margin: bool, seed: int) -> int:
    """Users until their records (4 slots each, surplus words included) fill ``records``; returns the users."""
    rng = np.random.default_rng(seed)
    header = ["user_id"] + [a for a, _ in ASSETS] + ([f"{ASSETS[j][0]}:debt" for j in BORROWABLE] if margin else [])
    lines, used, u = [",".join(header)], 0, 0
    while True:
        held = sorted(rng.choice(len(ASSETS), size=int(rng.integers(1, 5)), replace=False).tolist())
        units = {j: int(rng.integers(1, 10**6)) for j in held}
        debt = {}
        if margin and rng.random() < 1 / 3:
            cover = sum(units[j] * float(PRICES[ASSETS[j][0]][0]) * PRICES[ASSETS[j][0]][1] / 10**ASSETS[j][1]
                        for j in held) / 10_000
            j = BORROWABLE[int(rng.integers(len(BORROWABLE)))]
            amount = int(cover * 0.9 * rng.random() / float(PRICES[ASSETS[j][0]][0]) * 10**ASSETS[j][1])
            if amount:
                debt[j] = amount
        slots = len(units) + len(debt) + (2 if debt else 0)
        need = -(-slots // 4)
        if used + need > records:
            break
        used += need
        row = [f"user-{u}"] + [_amount(units.get(j), ASSETS[j][1]) for j in range(len(ASSETS))]
        if margin:
            row += [_amount(debt.get(j), ASSETS[j][1]) for j in BORROWABLE]
        lines.append(",".join(row))
        u += 1
    path.write_text("\n".join(lines) + "\n")
    return u


def _amount(units, decimals: int) -> str:
    if not units:
        return ""
    whole, frac = divmod(units, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-n", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from zksolvency.ingest import read_ledger
    from zksolvency.margin import read_prices
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    records = 1 << (args.log_n - 1)
    srs = dev_setup(args.log_n)
    decimals = dict(ASSETS)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "prices.csv").write_text("asset,price,ratio_bps\n" + "".join(
            f"{a},{p},{r}\n" for a, (p, r) in PRICES.items()))
        kinds = {}
        for kind in ("spot", "margin"):
            users = _ledger(d / f"{kind}.csv", records - 8, kind == "margin", seed=7)
            ledger = read_ledger(d / f"{kind}.csv", decimals)
            terms = read_prices(d / "prices.csv", ledger.assets, ledger.decimals) if kind == "margin" else None
            kinds[kind] = (ledger, terms, users)
        times = {"spot": [], "margin": []}
        shape = {}
        for k in range(args.repeat + 1):  # the first round of each kind warms the JIT caches, untimed
            for kind, (ledger, terms, users) in kinds.items():
                started = time.perf_counter()
                rnd = prove_round(ledger, srs, f"bench-{kind}-{k}", terms=terms)
                elapsed = time.perf_counter() - started
                shape[kind] = {"log_n": rnd.statement.log_n, "records": int(rnd.plan.records), "users": users}
                if k:
                    times[kind].append(elapsed)
    result = {kind: {**shape[kind], "median_seconds": statistics.median(t), "seconds": t}
              for kind, t in times.items()}
    result["ratio"] = result["margin"]["median_seconds"] / result["spot"]["median_seconds"]
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for kind in ("spot", "margin"):
            r = result[kind]
            print(f"{kind:<7} 2^{r['log_n']} rows, {r['records']} records, {r['users']} users: "
                  f"median {r['median_seconds']:.2f} s of {', '.join(f'{t:.2f}' for t in r['seconds'])}")
        print(f"margin / spot: {result['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

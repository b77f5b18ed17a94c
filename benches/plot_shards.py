"""Plots of how a round's time and memory grow with the rows and the shards, from the measured figures.

    make plots          # or: .venv/bin/python benches/plot_shards.py (matplotlib: pip install -e ".[bench]")

Reads ``benches/results/shards.json`` (written by ``benches/shards.py``: the
sharded-against-one-round runs, and single shards when measured) and
``benches/results/memory.json`` (peak memory of proofs and openings at several
sizes, as recorded in RESULTS.md with their commands), and writes
``benches/round_time.png`` and ``benches/round_memory.png`` beside RESULTS.md.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shards = json.loads((HERE / "results" / "shards.json").read_text())
    memory = json.loads((HERE / "results" / "memory.json").read_text())

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for entry in shards:
        if entry["name"].startswith("overhead-"):
            log_rows = (entry["records"] * 2).bit_length() - 1
            m = entry["shards"]
            ax.plot([log_rows] * len(entry["one_round_seconds"]), entry["one_round_seconds"], "o", color="C0",
                    alpha=0.5)
            ax.plot([log_rows] * len(entry["sharded_seconds"]), entry["sharded_seconds"], "s", color="C1",
                    alpha=0.5)
            ax.plot([log_rows], [entry["one_round_median"]], "o", color="C0", markersize=10,
                    label=f"2^{log_rows} rows as one round, 2 cores (median, runs)")
            ax.plot([log_rows], [entry["sharded_median"]], "s", color="C1", markersize=10,
                    label=f"the same as {m} shards of 2^{log_rows - (m - 1).bit_length()} rows, 2 workers "
                          f"(ratio {entry['ratio']:.2f})")
    single = sorted((e for e in shards if e["name"].startswith("single-")), key=lambda e: e["rows"])
    if single:
        ax.plot([e["rows"].bit_length() - 1 for e in single], [e["seconds"] for e in single], "^-", color="C2",
                label="one shard, proof + all openings")
    ax.set_xlabel("rows of the round (log2)")
    ax.set_ylabel("wall time (s), proof + all inclusion openings")
    ax.set_title("Round time, one round against shards (2 cores, shared machine)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "round_time.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind, marker in (("proof", "o-"), ("openings", "s-")):
        points = sorted((p for p in memory if p["kind"] == kind), key=lambda p: p["log_rows"])
        ax.plot([p["log_rows"] for p in points], [p["peak_rss_mib"] / 1024 for p in points], marker,
                label=f"{kind}: peak RSS (measured)")
    ax.plot([20, 22], [2864 / 1024, 4 * 2864 / 1024], ":", color="C0", label="proof, linear in the rows (estimate)")
    ax.axhline(12, color="C3", linestyle="--", label="bound for a 2^22-row shard: 12 GiB")
    ax.set_xlabel("rows of a shard (log2)")
    ax.set_ylabel("peak memory (GiB)")
    ax.set_title("A shard's memory against its rows (M shards: M times, over the workers)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "round_memory.png", dpi=110)
    print(f"wrote {HERE / 'round_time.png'} and {HERE / 'round_memory.png'}")


if __name__ == "__main__":
    main()

"""Plots of how a round's time and memory grow with the rows and the shards, from the measured figures.

    make plots          # or: .venv/bin/python benches/plot_shards.py (matplotlib: pip install -e ".[bench]")

Reads ``benches/results/shards.json`` (written by ``benches/shards.py``: single
shards at several sizes, and the sharded-against-one-round runs) and writes
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
    single = sorted((e for e in shards if e["name"].startswith("single-")), key=lambda e: e["rows"])
    rows = [e["rows"].bit_length() - 1 for e in single]

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(rows, [e["seconds"] for e in single], "o-", label="one shard, 2 cores (proof + openings)")
    for entry in shards:
        if entry["name"].startswith("overhead-"):
            log_rows = (entry["records"] * 2).bit_length() - 1
            ax.plot([log_rows], [entry["sharded_median"]], "s", color="C1",
                    label=f"{entry['shards']} shards on 2 single-threaded workers")
            ax.plot([log_rows], [entry["one_round_median"]], "o", color="C0")
    ax.set_yscale("log")
    ax.set_xlabel("rows of the round (log2)")
    ax.set_ylabel("wall time (s)")
    ax.set_title("Round time against rows and shards (2 cores, shared machine)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "round_time.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(rows, [e["peak_rss_mib"] / 1024 for e in single], "o-", label="one shard: peak RSS")
    ax.axhline(12, color="C3", linestyle="--", label="bound for 2^22 rows: 12 GiB")
    ax.set_xlabel("rows of a shard (log2)")
    ax.set_ylabel("peak memory (GiB)")
    ax.set_title("A shard's memory against its rows (a round of M shards: M times, spread over workers)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "round_memory.png", dpi=110)
    print(f"wrote {HERE / 'round_time.png'} and {HERE / 'round_memory.png'}")


if __name__ == "__main__":
    main()

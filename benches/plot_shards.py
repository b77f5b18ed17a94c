"""Plots of how a round's time and memory grow with the rows and the shards, from the measured figures.

    make plots          # or: .venv/bin/python benches/plot_shards.py (matplotlib: pip install -e ".[bench]")

Reads ``benches/results/shards.json`` (written by ``benches/shards.py``: the
sharded-against-one-round runs and single shards) and
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
    import matplotlib.ticker

    shards = json.loads((HERE / "results" / "shards.json").read_text())
    memory = json.loads((HERE / "results" / "memory.json").read_text())

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    overhead = [e for e in shards if e["name"].startswith("overhead-")]
    for i, entry in enumerate(overhead):
        log_rows = (entry["records"] * 2).bit_length() - 1
        shard_log_rows = log_rows - (entry["shards"] - 1).bit_length()
        arms = ((-0.12, "one_round", "o", "C0", "one round, one process on 2 cores"),
                (0.12, "sharded", "s", "C1", "the same as shards, 2 single-threaded workers"))
        for dx, arm, marker, color, label in arms:
            runs = entry[f"{arm}_seconds"]
            ax.plot([log_rows + dx] * len(runs), runs, marker, color=color, alpha=0.35, markersize=5)
            ax.plot([log_rows + dx], [entry[f"{arm}_median"]], marker, color=color, markersize=9,
                    label=f"{label} (median large, runs small)" if i == 0 else None)
        ax.annotate(f"{entry['shards']} shards of 2^{shard_log_rows}\nratio {entry['ratio']:.2f}",
                    (log_rows, max(entry["one_round_seconds"] + entry["sharded_seconds"])),
                    textcoords="offset points", xytext=(0, 8), ha="center", fontsize=7)
    single = sorted((e for e in shards if e["name"].startswith("single-")), key=lambda e: e["rows"])
    if single:
        x = [e["rows"].bit_length() - 1 for e in single]
        ax.plot(x, [e["seconds"] for e in single], "^-", color="C2",
                label="one shard, proof + all openings (upper bound: other work alongside)")
        ax.plot(x, [e["proof_seconds"] for e in single], "v--", color="C2", fillstyle="none",
                label="one shard, the proof alone")
    ax.set_yscale("log")
    ax.set_yticks([100, 200, 500, 1000, 2000, 5000])
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylim(100, 8000)
    ax.set_xticks(range(15, 24))
    ax.set_xlim(15, 23)
    ax.set_xlabel("rows of the round (log2)")
    ax.set_ylabel("wall time (s, log scale), proof + all inclusion openings")
    ax.set_title("Round time, one round against shards (2 cores, no AVX-512 IFMA)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(HERE / "round_time.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind, marker in (("proof", "o-"), ("openings", "s-")):
        points = sorted((p for p in memory if p["kind"] == kind), key=lambda p: p["log_rows"])
        ax.plot([p["log_rows"] for p in points], [p["peak_rss_mib"] / 1024 for p in points], marker,
                label=f"{kind}: peak RSS (measured)")
    for e in (e for e in shards if e["name"].startswith("single-")):
        gib = e["peak_rss_mib"] / 1024
        ax.plot([e["log_n"]], [gib], "^", color="C2", markersize=8,
                label=f"2^{e['log_n']}-row shard: proof + all openings, one process (measured)")
        ax.annotate(f"{gib:.2f} GiB", (e["log_n"], gib), textcoords="offset points", xytext=(-8, -4),
                    ha="right", va="top", fontsize=7)
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

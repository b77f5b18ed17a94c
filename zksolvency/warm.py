"""Compile the prover's kernels once, at set-up, so that the times a round reports are the round's.

Every kernel is compiled with Numba's ``cache=True``: the first process that
calls it compiles it and writes the machine code beside its source
(``__pycache__``); every later process, a Dask worker's included, loads it.
``make setup`` runs this (``python -m zksolvency.warm``): a tiny round, proven
and verified with a development SRS, calls every kernel a round calls.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def warm() -> float:
    """Prove and verify a tiny spot round and a tiny margin round; return the seconds it took."""
    from zksolvency.audit import verify_statement
    from zksolvency.ingest import parse_decimals, read_ledger
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round
    from zksolvency.sample import decimals_spec, write_sample_ledger

    started = time.perf_counter()
    srs = dev_setup(8)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.csv"
        write_sample_ledger(path, 20, seed=1)
        ledger = read_ledger(path, parse_decimals(decimals_spec()))
        for shards in (1, 2):
            rnd = prove_round(ledger, srs, "warm-up", shards=shards)
            verify_statement(rnd.statement, allow_insecure_srs=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    seconds = warm()
    print(f"… the prover's kernels are compiled and cached ({seconds:.1f} s)", file=sys.stderr)

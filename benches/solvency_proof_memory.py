"""Time and peak memory of one solvency proof (no inclusion openings) at 2^k rows of random balances.

    .venv/bin/python benches/solvency_proof_memory.py 20

Every record place is filled (2^(k-1) records of 4 slots over two rows each), 7 assets.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape
from zksolvency.prover.field import Fr
from zksolvency.prover.plonk import keygen, prove_with_polynomials
from zksolvency.prover.srs import dev_setup

ASSETS = 7


def main(log_n: int) -> None:
    rng = np.random.default_rng(1)
    shape = SolvencyShape(log_n)
    circuit = SolvencyCircuit(shape)
    records = shape.records
    hashes = Fr.to_canonical_limbs(Fr.random(records, rng))
    assets = rng.integers(0, ASSETS + 1, size=(records, shape.slots)).astype(np.uint32)
    units = rng.integers(0, 1 << 40, size=(records, shape.slots), dtype=np.uint64)
    units[assets == 0] = 0
    totals = [int(units[assets == j].astype(object).sum()) for j in range(1, ASSETS + 1)]
    srs = dev_setup(log_n)
    witness = circuit.witness(hashes, assets, units)
    pk = keygen(circuit.cs, log_n, srs, circuit.fixed)
    started = time.perf_counter()
    proof, _ = prove_with_polynomials(pk, witness, [1] + totals)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"solvency 2^{log_n} rows ({records} records): prove {seconds:.1f} s, proof {len(proof)} bytes, "
          f"peak RSS {peak:.0f} MB", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""Seconds for all inclusion openings at 2^k rows, the SRS-only transforms timed apart; peak memory.

    .venv/bin/python benches/openings_timing.py 12 14 16
"""

import os
import resource
import sys
import tempfile
import time

import numpy as np

from zksolvency.prover.field import Fr
from zksolvency.prover.openings import all_openings, srs_transforms
from zksolvency.prover.polynomial import Polynomial
from zksolvency.prover.srs import dev_setup

os.environ.setdefault("ZKSOLVENCY_CACHE_DIR", tempfile.mkdtemp(prefix="zksolvency-fk-"))

for k in map(int, sys.argv[1:] or ["12"]):
    srs = dev_setup(k)
    start = time.perf_counter()
    srs_transforms(srs, k)
    once = time.perf_counter() - start
    poly = Polynomial(Fr.random((1 << k) + 3, np.random.default_rng(k)))
    start = time.perf_counter()
    all_openings(srs, poly, k)
    each = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"2^{k} rows: SRS-only transforms {once:.1f} s (once per SRS and size), all openings {each:.1f} s, "
          f"peak {peak:.0f} MB", flush=True)

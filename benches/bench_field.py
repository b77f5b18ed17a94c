"""Montgomery multiplication over a large array of Fr elements (ns per product in extra_info)."""

import numpy as np
from conftest import run

from zksolvency.prover.field import Fr, vec_mul

SIZE = 1 << 22


def test_field_mul(benchmark, rng):
    a, b = Fr.random(SIZE, rng), Fr.random(SIZE, rng)
    out = np.empty_like(a)
    run(benchmark, lambda: vec_mul(a, b, out, Fr.params), rounds=5)
    benchmark.extra_info["ns_per_product"] = benchmark.stats.stats.median / SIZE * 1e9

"""Fr Montgomery multiplication over 2^22 element pairs, vectorised (one kernel call, both cores).

extra_info["ns_per_product"] is the median time of one call divided by 2^22.
"""

import numpy as np
from conftest import record_per_item, run

from zksolvency.prover.field import Fr, vec_mul

SIZE = 1 << 22


def test_field_mul(benchmark, rng):
    a, b = Fr.random(SIZE, rng), Fr.random(SIZE, rng)
    out = np.empty_like(a)
    benchmark.extra_info["products"] = SIZE
    run(benchmark, lambda: vec_mul(a, b, out, Fr.params), rounds=5)
    record_per_item(benchmark, "ns_per_product", SIZE)
    # The kernel computes what it claims (checked once, outside the timing, on a few entries).
    picks = [0, 1, SIZE // 2, SIZE - 1]
    got = Fr.to_ints(out[picks])
    want = [x * y % Fr.modulus for x, y in zip(Fr.to_ints(a[picks]), Fr.to_ints(b[picks]))]
    assert got == want

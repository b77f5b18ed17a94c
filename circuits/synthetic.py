"""A synthetic circuit for measuring the prover: 8 advice columns of random field values.

Gates read rotations 0 and +1, one column is looked up in a fixed table; the
shape matches ``zksolvency bench --circuit``.
"""

from __future__ import annotations

import numpy as np

from zksolvency.circuits.assignment import Assignment
from zksolvency.circuits.constraint_system import ConstraintSystem

ADVICE_COLUMNS = 8
TABLE_BITS = 8


def synthetic_circuit() -> ConstraintSystem:
    cs = ConstraintSystem("synthetic")
    a = [cs.advice_column(f"a{i}") for i in range(ADVICE_COLUMNS)]
    q = cs.fixed_column("q")
    table = cs.fixed_column("table")
    cs.gate("mul_add", q.cur() * (a[0].cur() * a[1].cur() + a[2].cur() - a[4].cur()))
    cs.gate("rotation", q.cur() * (a[3].cur() * a[4].next() - a[5].cur()))
    cs.gate("mix", q.cur() * (a[5].cur() * a[0].cur() + a[6].cur() - a[7].cur()))
    cs.lookup("byte", [a[6].cur()], table)
    return cs.compile()


def synthetic_assignment(cs: ConstraintSystem, log_n: int, rng: np.random.Generator):
    """(fixed, witness) assignments satisfying the synthetic circuit; no public inputs."""
    from zksolvency.prover.field import Fr

    n = 1 << log_n
    col = {c.name: c for c in cs.columns}
    fixed = Assignment(n)
    fixed[col["q"]] = Fr.ones(n)
    fixed[col["table"]] = Fr.from_uint64(np.arange(n, dtype=np.uint64) % (1 << TABLE_BITS))
    a = [Fr.random(n, rng) for _ in range(4)]
    a.append(Fr.add(Fr.mul(a[0], a[1]), a[2]))  # a4
    a.append(Fr.mul(a[3], np.roll(a[4], -1, axis=0)))  # a5
    a.append(Fr.from_uint64(rng.integers(0, 1 << TABLE_BITS, size=n, dtype=np.uint64)))  # a6
    a.append(Fr.add(Fr.mul(a[5], a[0]), a[6]))  # a7
    witness = Assignment(n, {col[f"a{i}"]: a[i] for i in range(ADVICE_COLUMNS)})
    return fixed, witness

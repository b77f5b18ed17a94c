"""Random circuits with satisfying witnesses, for completeness and soundness tests of the proof system."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zksolvency.circuits.assignment import ArrayEvaluator, Assignment
from zksolvency.circuits.constraint_system import ConstraintSystem


@dataclass
class Instance:
    cs: ConstraintSystem
    log_n: int
    fixed: Assignment
    witness: Assignment
    public_inputs: list
    # Where a cheating prover can break each kind of constraint.
    gate_target: tuple  # (column, row) whose change violates a gate
    lookup_target: tuple  # (column, row) whose change leaves the table
    keyed_target: tuple  # (column, row) whose change breaks a keyed sum


def _random_expression(rng, queries):
    """A random polynomial of degree <= 2 in the given queries with random small coefficients."""
    expr = None
    for _ in range(int(rng.integers(1, 4))):
        coef = int(rng.integers(1, 1 << 32))
        term = coef * queries[int(rng.integers(len(queries)))]
        if rng.random() < 0.6:
            term = term * queries[int(rng.integers(len(queries)))]
        expr = term if expr is None else expr + term
    return expr


def random_instance(seed: int, log_n: int, gates: int = 2, assets: int = 3) -> Instance:
    from zksolvency.prover.field import Fr

    rng = np.random.default_rng(seed)
    n = 1 << log_n
    max_degree = 3 + seed % 2  # helpers pack two or three fractions
    cs = ConstraintSystem(f"random-{seed}-{gates}-{assets}", max_degree=max_degree)
    free = [cs.advice_column(f"w{i}") for i in range(3)]
    queries = [c.cur() for c in free] + [free[0].next(), free[1].next()]
    derived, selectors, polys = [], [], []
    for g in range(gates):
        d, s = cs.advice_column(f"d{g}"), cs.fixed_column(f"s{g}")
        p = _random_expression(rng, queries)
        cs.gate(f"g{g}", s.cur() * (p - d.cur()))
        derived.append(d)
        selectors.append(s)
        polys.append(p)

    # Public inputs [x0, x1, total_1 .. total_K]; the first two are copied into advice x.
    pi = cs.instance_column("pi", public_start=0, row_start=0)
    x, s_pi = cs.advice_column("x"), cs.fixed_column("s_pi")
    cs.gate("public", s_pi.cur() * (x.cur() - pi.cur()))

    table = cs.fixed_column("table")
    l0, l1, l2 = (cs.advice_column(f"l{i}") for i in range(3))
    cs.lookup("set", [l0.cur(), l1.cur() + l2.cur(), l0.next()], table)

    v, k = cs.advice_column("value"), cs.advice_column("key")
    v2, k2 = cs.advice_column("value2"), cs.advice_column("key2")
    totals, total_key = cs.advice_column("totals"), cs.fixed_column("total_key")
    cs.keyed_sum("public_sum", [(v.cur(), k.cur()), (v2.cur(), k2.cur())], public_start=2)
    cs.keyed_sum("advice_sum", [(v.cur(), k.cur())], rhs_terms=[(totals.cur(), total_key.cur())])
    cs.combination("opened", [free[0].cur(), v.cur() + 2 * k.cur(), l0.next()])
    cs.compile()

    fixed, witness = Assignment(n), Assignment(n)
    for c in free:
        witness[c] = Fr.random(n, rng)
    for s in selectors:
        fixed[s] = Fr.from_uint64(rng.integers(0, 2, size=n, dtype=np.uint64))
    ev = ArrayEvaluator(witness)
    for d, s, p in zip(derived, selectors, polys):
        values = ev.result(p.evaluate(ev))
        off = np.all(fixed[s] == 0, axis=1)
        values[off] = Fr.random(int(off.sum()), rng)
        witness[d] = values
    public_x = [int(z) for z in rng.integers(0, 1 << 60, size=2)]
    xv = Fr.random(n, rng)
    xv[:2] = Fr.from_ints(public_x)
    witness[x] = xv
    fixed[s_pi] = Fr.from_ints([1, 1] + [0] * (n - 2))

    table_values = rng.integers(0, 1 << 40, size=n, dtype=np.uint64)
    fixed[table] = Fr.from_uint64(table_values)
    picks = table_values[rng.integers(0, n, size=n)]
    witness[l0] = Fr.from_uint64(picks)
    witness[l1] = Fr.random(n, rng)
    witness[l2] = Fr.sub(Fr.from_uint64(table_values[rng.integers(0, n, size=n)]), witness[l1])

    values = rng.integers(0, 1 << 32, size=n, dtype=np.uint64)
    keys = rng.integers(1, assets + 1, size=n, dtype=np.uint64)
    values2 = rng.integers(0, 1 << 32, size=n, dtype=np.uint64)
    keys2 = rng.integers(1, assets + 1, size=n, dtype=np.uint64)
    witness[v], witness[k] = Fr.from_uint64(values), Fr.from_uint64(keys)
    witness[v2], witness[k2] = Fr.from_uint64(values2), Fr.from_uint64(keys2)
    sums = [int(values[keys == j].sum(dtype=object)) for j in range(1, assets + 1)]
    sums2 = [int(values2[keys2 == j].sum(dtype=object)) for j in range(1, assets + 1)]
    public_totals = [a + b for a, b in zip(sums, sums2)]
    witness[totals] = Fr.from_ints(sums + [0] * (n - assets))
    fixed[total_key] = Fr.from_ints(list(range(1, assets + 1)) + [0] * (n - assets))

    gate_row = int(np.flatnonzero(np.any(fixed[selectors[0]] != 0, axis=1))[0])
    return Instance(
        cs, log_n, fixed, witness, public_x + public_totals,
        gate_target=(derived[0], gate_row),
        lookup_target=(l0, int(rng.integers(0, n))),
        keyed_target=(v2, int(rng.integers(0, n))),
    )

"""The direct checker: evaluates every declared gate, lookup and keyed sum on a witness.

It reads the declaration, not the compiled identities, so it is an independent
statement of what the proof must establish; failures name the constraint and
the first failing row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from zksolvency.circuits.assignment import ArrayEvaluator, Assignment, instance_values
from zksolvency.circuits.constraint_system import ConstraintSystem
from zksolvency.constants import R_MODULUS
from zksolvency.prover import field


@dataclass(frozen=True)
class ConstraintFailure(Exception):
    kind: str  # "gate", "lookup" or "keyed sum"
    name: str
    row: int | None
    detail: str = ""

    def __str__(self) -> str:
        where = f" at row {self.row}" if self.row is not None else ""
        return f"{self.kind} {self.name!r} fails{where}" + (f": {self.detail}" if self.detail else "")


def _as_keys(a: np.ndarray) -> np.ndarray:
    """Rows of an (n, 4w) uint64 array (w elements a row) as hashable records."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, 8 * a.shape[1]))).ravel()


def _sums_by_key(values: np.ndarray, keys: np.ndarray) -> dict:
    """{key: sum of its values mod r} over rows with a non-zero value, as Python ints.

    Sorted by key and summed in field arithmetic run by run, so only one sum per
    distinct key becomes a Python integer.
    """
    from zksolvency.prover.field import Fr

    nonzero = np.flatnonzero(np.any(values != 0, axis=1))
    if nonzero.size == 0:
        return {}
    values, keys = values[nonzero], keys[nonzero]
    order = np.argsort(_as_keys(keys), kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1)]))
    sums = np.empty((starts.size, 4), dtype=np.uint64)
    _segment_sums(values, starts, sums)
    return dict(zip(Fr.to_ints(keys[starts]), Fr.to_ints(sums)))


@njit(cache=True)
def _segment_sums(values, starts, out):
    F = field.FR_PARAMS
    for s in range(starts.shape[0]):
        hi = starts[s + 1] if s + 1 < starts.shape[0] else values.shape[0]
        acc = field.zero()
        for i in range(starts[s], hi):
            acc = field.add(acc, field.load(values, i), F)
        field.store(out, s, acc)


def check(cs: ConstraintSystem, assignment: Assignment, public_inputs) -> None:
    """Raise ConstraintFailure for the first violated constraint; return None if all hold."""
    found = failures(cs, assignment, public_inputs)
    if found:
        raise found[0]


def failures(cs: ConstraintSystem, assignment: Assignment, public_inputs) -> list:
    """Every violated constraint (its first failing row), in declaration order: gates, lookups, keyed sums."""
    from zksolvency.prover.field import Fr

    found = []

    assignment = assignment.with_columns(instance_values(cs, assignment.n, public_inputs))
    ev = ArrayEvaluator(assignment)

    def evaluate(expr):
        return ev.result(expr.evaluate(ev))

    for gate in cs.gates:
        values = evaluate(gate.expression)
        bad = np.flatnonzero(np.any(values != 0, axis=1))
        if bad.size:
            found.append(ConstraintFailure("gate", gate.name, int(bad[0])))

    for lk in cs.lookups:
        def rows(entries):
            return np.concatenate([evaluate(e) for e in entries], axis=1)

        # sorted once for all inputs
        table = np.unique(np.concatenate([_as_keys(rows(t)) for t in lk.tables]))
        for k, entries in enumerate(lk.inputs):
            values = _as_keys(rows(entries))
            at = np.minimum(np.searchsorted(table, values), table.size - 1)
            bad = np.flatnonzero(table[at] != values)
            if bad.size:
                found.append(ConstraintFailure("lookup", lk.name, int(bad[0]), f"input {k} is not in the table"))
                break

    for ks in cs.keyed_sums:
        values, keys = [], []
        for sign, terms in ((1, ks.terms), (-1, ks.rhs_terms)):
            for value, key in terms:
                v = evaluate(value)
                values.append(v if sign > 0 else Fr.neg(v))
                keys.append(evaluate(key))
        sums = _sums_by_key(np.concatenate(values), np.concatenate(keys))
        for j, total in ks.public_totals(public_inputs):
            sums[j] = (sums.get(j, 0) - total) % R_MODULUS
        wrong = sorted(k for k, s in sums.items() if s)
        if wrong:
            found.append(ConstraintFailure("keyed sum", ks.name, None, f"key {wrong[0]} does not sum to its total"))
    return found

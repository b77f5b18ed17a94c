"""The direct checker: evaluates every declared gate, lookup and keyed sum on a witness.

It reads the declaration, not the compiled identities, so it is an independent
statement of what the proof must establish; failures name the constraint and
the first failing row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zksolvency.circuits.assignment import ArrayEvaluator, Assignment, instance_values
from zksolvency.circuits.constraint_system import ConstraintSystem
from zksolvency.constants import R_MODULUS


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
    """Rows of an (n, 4) uint64 array as hashable 32-byte records."""
    return np.ascontiguousarray(a).view(np.dtype((np.void, 32))).ravel()


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
        table = _as_keys(assignment[lk.table])
        for k, expr in enumerate(lk.inputs):
            values = _as_keys(evaluate(expr))
            bad = np.flatnonzero(~np.isin(values, table))
            if bad.size:
                found.append(ConstraintFailure("lookup", lk.name, int(bad[0]), f"input {k} is not in the table"))
                break

    for ks in cs.keyed_sums:
        sums: dict[int, int] = {}
        for sign, terms in ((1, ks.terms), (-1, ks.rhs_terms)):
            for value, key in terms:
                for v, k in zip(Fr.to_ints(evaluate(value)), Fr.to_ints(evaluate(key))):
                    if v:
                        sums[k] = (sums.get(k, 0) + sign * v) % R_MODULUS
        if ks.public_start is not None:
            for j, total in enumerate(public_inputs[ks.public_start :], start=1):
                sums[j] = (sums.get(j, 0) - total) % R_MODULUS
        wrong = sorted(k for k, s in sums.items() if s)
        if wrong:
            found.append(ConstraintFailure("keyed sum", ks.name, None, f"key {wrong[0]} does not sum to its total"))
    return found

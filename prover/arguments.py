"""The prover's side of the log-derivative arguments: multiplicities, fraction columns, running sums."""

from __future__ import annotations

import numpy as np
from numba import njit

from zksolvency.circuits.assignment import ArrayEvaluator, Assignment
from zksolvency.circuits.constraint_system import ConstraintSystem, HelperColumn
from zksolvency.prover import field as fe
from zksolvency.prover.field import FR_PARAMS, Fr


class WitnessError(ValueError):
    """The witness cannot satisfy an argument (for example a looked-up value outside its table)."""


def _keys(a) -> np.ndarray:
    """One opaque key per row: an (n, 4) array of elements, or a tuple of them (the entries side by side)."""
    if isinstance(a, (tuple, list)):
        a = np.concatenate([np.ascontiguousarray(x) for x in a], axis=1)
    a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, 8 * a.shape[1]))).ravel()


def multiplicities(tables, inputs: list, strict: bool = True):
    """m_t[i] = how often row i of table t is looked up (counted at its first occurrence in all the tables).

    ``tables``: one table or a list of them; a table, and each input, is an
    (n, 4) array or a tuple of such arrays (a tuple lookup). Returns one column,
    or a list of them for a list of tables. With ``strict=False``
    (cheating-prover tests only) values outside the tables are skipped.
    """
    if isinstance(tables, list):
        rows = [_keys(t).shape[0] for t in tables]
        counts = _counts(np.concatenate([_keys(t) for t in tables]), inputs, strict)
        return [Fr.from_uint64(c) for c in np.split(counts, np.cumsum(rows)[:-1])]
    return Fr.from_uint64(_counts(_keys(tables), inputs, strict))


def _counts(keys: np.ndarray, inputs: list, strict: bool) -> np.ndarray:
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    counts = np.zeros(keys.shape[0], dtype=np.uint64)
    for k, values in enumerate(inputs):
        v = _keys(values)
        pos = np.searchsorted(sorted_keys, v)
        pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
        missing = sorted_keys[pos_clipped] != v
        if missing.any() and strict:
            row = int(np.flatnonzero(missing)[0])
            raise WitnessError(f"input {k} at row {row} is not in the table")
        # searchsorted (left) lands on the first of equal keys, which the stable sort keeps first.
        np.add.at(counts, order[pos_clipped[~missing]], np.uint64(1))
    return counts


@njit(cache=True)
def _running_sum(steps, c, out, F):
    """out[0] = 0, out[i+1] = out[i] + steps[i] - c."""
    acc = fe.zero()
    n = steps.shape[0]
    for i in range(n):
        fe.store(out, i, acc)
        acc = fe.sub(fe.add(acc, fe.load(steps, i), F), c, F)
    return acc


def fraction_column(helper, ev: ArrayEvaluator) -> np.ndarray:
    """phi = sum of numerator / denominator over the helper's fractions, row by row."""
    total = None
    for f in helper.fractions:
        num = ev.result(f.numerator.evaluate(ev))
        den = ev.result(f.denominator.evaluate(ev))
        inv = Fr.inverse(den)
        if np.any(np.all(den == 0, axis=1)):
            raise WitnessError(f"{helper.argument}: a denominator vanishes (challenge collision)")
        term = Fr.mul(num, inv)
        total = term if total is None else Fr.add(total, term)
    return total


def argument_columns(cs: ConstraintSystem, assignment: Assignment, challenges: dict, strict: bool = True) -> dict:
    """Values on H of every phase-1 column: fraction helpers, the running sum, combinations."""
    ev = ArrayEvaluator(assignment, challenges)
    out = {}
    for rs in cs.running_sums:
        steps = None
        for h in rs.helpers:
            phi = fraction_column(h, ev)
            out[h.column] = phi
            steps = phi if steps is None else Fr.add(steps, phi)
        if rs.absorbed:
            rest = fraction_column(HelperColumn(None, rs.argument, rs.absorbed), ev)
            steps = rest if steps is None else Fr.add(steps, rest)
        c = challenges[rs.rhs_constant] if rs.rhs_constant else Fr.from_int(0)
        z = np.empty_like(steps)
        end = _running_sum(steps, c, z, FR_PARAMS)
        if strict and Fr.to_int(end) != 0:
            raise WitnessError(f"{rs.argument}: the sums do not balance")
        out[rs.column] = z
    for comb in cs.combinations:
        out[comb.column] = ev.result(comb.combined.evaluate(ev))
    return out

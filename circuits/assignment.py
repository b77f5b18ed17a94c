"""Column assignments over a domain, and evaluation of expressions on them row by row."""

from __future__ import annotations

import numpy as np

from zksolvency.circuits.expression import Column, Evaluator, Query


class Assignment:
    """Values of columns on the n rows of the domain, as Fr Montgomery ``(n, 4)`` arrays."""

    def __init__(self, n: int, values: dict | None = None):
        if n < 1 or n & (n - 1):
            raise ValueError("the number of rows must be a power of two")
        self.n = n
        self._values: dict[Column, np.ndarray] = {}
        for col, arr in (values or {}).items():
            self[col] = arr

    def __setitem__(self, column: Column, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=np.uint64)
        if values.shape != (self.n, 4):
            raise ValueError(f"column {column.name!r}: expected shape ({self.n}, 4), got {values.shape}")
        self._values[column] = values

    def __getitem__(self, column: Column) -> np.ndarray:
        try:
            return self._values[column]
        except KeyError:
            raise KeyError(f"column {column.name!r} is not assigned") from None

    def __contains__(self, column: Column) -> bool:
        return column in self._values

    def columns(self):
        return list(self._values)

    def with_columns(self, values: dict) -> "Assignment":
        """A new assignment with these columns added (or replaced)."""
        out = Assignment(self.n, self._values)
        for col, arr in values.items():
            out[col] = arr
        return out


def instance_values(cs, n: int, public_inputs) -> dict:
    """The instance columns' values on H: public inputs placed at their declared rows."""
    from zksolvency.prover.field import Fr

    out = {}
    limit = cs.max_public_inputs(n)
    if limit is not None and len(public_inputs) > limit:
        raise ValueError(f"{len(public_inputs)} public inputs do not fit the instance columns of {n} rows "
                         f"(at most {limit})")
    for inst in cs.instances:
        values = inst.values(public_inputs)
        column = np.zeros((n, 4), dtype=np.uint64)  # zero in Montgomery form is zero
        if values:
            column[inst.row_start : inst.row_start + len(values)] = Fr.from_ints(values)
        out[inst.column] = column
    return out


class ArrayEvaluator(Evaluator):
    """Evaluates an expression on every point of a domain (or coset) at once.

    Columns resolve to arrays of evaluations; rotation +1 reads the next point
    (multiplication by omega), which on H or any coset of H is the next index,
    cyclically. Challenges are Montgomery element tuples.
    """

    def __init__(self, assignment: Assignment, challenges: dict | None = None):
        from zksolvency.prover import field

        self._field = field
        self._F = field.FR_PARAMS
        self._assignment = assignment
        self._n = assignment.n
        self._challenges = challenges or {}

    def constant(self, value):
        return ("scalar", self._field.Fr.from_int(value))

    def challenge(self, name):
        return ("scalar", self._challenges[name])

    def query(self, q: Query):
        values = self._assignment[q.column]
        if q.rotation == 0:
            return values
        return np.roll(values, -q.rotation, axis=0)

    def _full(self, s) -> np.ndarray:
        out = np.empty((self._n, 4), dtype=np.uint64)
        out[:] = np.array(s[1], dtype=np.uint64)
        return out

    def add(self, a, b):
        f = self._field
        if isinstance(a, tuple) and isinstance(b, tuple):
            return ("scalar", f.add(a[1], b[1], self._F))
        if isinstance(a, tuple):
            a = self._full(a)
        if isinstance(b, tuple):
            b = self._full(b)
        out = np.empty_like(a)
        f.vec_add(a, b, out, self._F)
        return out

    def mul(self, a, b):
        f = self._field
        if isinstance(a, tuple) and isinstance(b, tuple):
            return ("scalar", f.mul(a[1], b[1], self._F))
        if isinstance(a, tuple):
            a, b = b, a
        out = np.empty_like(a)
        if isinstance(b, tuple):
            f.vec_scale(a, b[1], out, self._F)
        else:
            f.vec_mul(a, b, out, self._F)
        return out

    def neg(self, a):
        f = self._field
        if isinstance(a, tuple):
            return ("scalar", f.neg(a[1], self._F))
        out = np.empty_like(a)
        f.vec_neg(a, out, self._F)
        return out

    def result(self, value) -> np.ndarray:
        """An evaluated expression as an array (constants broadcast)."""
        return self._full(value) if isinstance(value, tuple) else value

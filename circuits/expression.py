"""Polynomial expressions over column queries: the language gates and lookups are written in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from zksolvency.constants import R_MODULUS


class ColumnKind(str, Enum):
    FIXED = "fixed"  # chosen by the circuit, committed in the verifying key
    ADVICE = "advice"  # the prover's witness, committed in the proof
    INSTANCE = "instance"  # public inputs, evaluated by the verifier itself


@dataclass(frozen=True)
class Column:
    kind: ColumnKind
    index: int
    name: str

    def query(self, rotation: int = 0) -> "Query":
        return Query(self, rotation)

    def cur(self) -> "Query":
        return Query(self, 0)

    def next(self) -> "Query":
        return Query(self, 1)

    def __repr__(self) -> str:
        return f"{self.kind.value}:{self.name}"


class Expression:
    """A polynomial in column queries, challenges and constants of Fr."""

    def __add__(self, other):
        return Sum(self, _lift(other))

    def __radd__(self, other):
        return Sum(_lift(other), self)

    def __sub__(self, other):
        return Sum(self, Negated(_lift(other)))

    def __rsub__(self, other):
        return Sum(_lift(other), Negated(self))

    def __mul__(self, other):
        return Product(self, _lift(other))

    def __rmul__(self, other):
        return Product(_lift(other), self)

    def __neg__(self):
        return Negated(self)

    def degree(self) -> int:
        """Degree in the column polynomials (challenges and constants have degree 0)."""
        raise NotImplementedError

    def queries(self) -> set:
        raise NotImplementedError

    def evaluate(self, ops: "Evaluator"):
        raise NotImplementedError

    def canonical(self) -> str:
        """A deterministic prefix notation, hashed into the verifying key."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Constant(Expression):
    value: int

    def degree(self):
        return 0

    def queries(self):
        return set()

    def evaluate(self, ops):
        return ops.constant(self.value % R_MODULUS)

    def canonical(self):
        return str(self.value % R_MODULUS)


@dataclass(frozen=True)
class Query(Expression):
    column: Column
    rotation: int

    def __post_init__(self):
        if self.rotation not in (0, 1):
            raise ValueError("only rotations 0 and +1 are supported")

    def degree(self):
        return 1

    def queries(self):
        return {self}

    def evaluate(self, ops):
        return ops.query(self)

    def canonical(self):
        return f"{self.column.kind.value}[{self.column.index}]@{self.rotation}"


@dataclass(frozen=True, eq=False)
class Challenge(Expression):
    """A verifier challenge drawn from the transcript, by name."""

    name: str

    def degree(self):
        return 0

    def queries(self):
        return set()

    def evaluate(self, ops):
        return ops.challenge(self.name)

    def canonical(self):
        return f"${self.name}"


@dataclass(frozen=True, eq=False)
class Sum(Expression):
    a: Expression
    b: Expression

    def degree(self):
        return max(self.a.degree(), self.b.degree())

    def queries(self):
        return self.a.queries() | self.b.queries()

    def evaluate(self, ops):
        return ops.add(self.a.evaluate(ops), self.b.evaluate(ops))

    def canonical(self):
        return f"(+ {self.a.canonical()} {self.b.canonical()})"


@dataclass(frozen=True, eq=False)
class Product(Expression):
    a: Expression
    b: Expression

    def degree(self):
        return self.a.degree() + self.b.degree()

    def queries(self):
        return self.a.queries() | self.b.queries()

    def evaluate(self, ops):
        return ops.mul(self.a.evaluate(ops), self.b.evaluate(ops))

    def canonical(self):
        return f"(* {self.a.canonical()} {self.b.canonical()})"


@dataclass(frozen=True, eq=False)
class Negated(Expression):
    a: Expression

    def degree(self):
        return self.a.degree()

    def queries(self):
        return self.a.queries()

    def evaluate(self, ops):
        return ops.neg(self.a.evaluate(ops))

    def canonical(self):
        return f"(- {self.a.canonical()})"


def _lift(x) -> Expression:
    if isinstance(x, Expression):
        return x
    if isinstance(x, int):
        return Constant(x)
    raise TypeError(f"cannot use {type(x).__name__} in an expression")


class Evaluator:
    """How the leaves and operations of an expression are computed (scalars, arrays, ...)."""

    def constant(self, value: int):
        raise NotImplementedError

    def query(self, q: Query):
        raise NotImplementedError

    def challenge(self, name: str):
        raise NotImplementedError

    def add(self, a, b):
        raise NotImplementedError

    def mul(self, a, b):
        raise NotImplementedError

    def neg(self, a):
        raise NotImplementedError


class ScalarEvaluator(Evaluator):
    """Evaluates over Python integers mod r: the verifier's evaluation at a point."""

    def __init__(self, queries: Callable[[Query], int], challenges: dict):
        self._queries = queries
        self._challenges = challenges

    def constant(self, value):
        return value

    def query(self, q):
        return self._queries(q)

    def challenge(self, name):
        return self._challenges[name]

    def add(self, a, b):
        return (a + b) % R_MODULUS

    def mul(self, a, b):
        return a * b % R_MODULUS

    def neg(self, a):
        return -a % R_MODULUS

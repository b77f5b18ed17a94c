"""The PLONKish constraint system: columns, gates, logUp lookups and keyed sums, declared once.

A circuit is data. The prover, the Python verifier, the direct checker and the
Solidity generator all read the same ``ConstraintSystem``; ``compile()`` turns
its gates, lookups and keyed sums into the list of polynomial identities that
must vanish on every row of the domain H = {omega^i}, together with the helper
columns the arguments need.

Arguments (log-derivative, eprint 2022/1530):

* ``Lookup`` — every row's input expressions lie in a fixed table column:
  ``sum_rows sum_k 1/(beta - f_k) = sum_rows m/(beta - t)`` with a multiplicity
  column m (advice, derived from the witness).
* ``KeyedSum`` — weighted sums grouped by key:
  ``sum_rows sum_s value_s/(alpha - key_s) = sum_j total_j/(alpha - j)``, the
  totals (j = 1..K) taken from the public inputs or from advice terms.

Each argument's fractions are packed, at most two per row, into helper columns
phi constrained by ``phi * d1 * d2 = n1 * d2 + n2 * d1``, and one running-sum
column Z per argument with ``Z(omega X) - Z(X) - sum phi(X) + c = 0`` on all of H,
where c = (public right-hand side) / n. Summed around the cycle of H this holds
exactly when the fractions add up to the right-hand side.

Public inputs are one flat vector of field elements. An instance column places
``public[public_start:]`` at rows ``row_start, row_start + 1, ...``; a keyed sum
with public totals reads ``total_j = public[public_start + j - 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zksolvency.circuits.expression import (
    Challenge,
    Column,
    Constant,
    ColumnKind,
    Expression,
    Query,
)

# Challenge names, in transcript order.
BETA = "beta"  # lookups
ALPHA = "alpha"  # keyed sums
Y = "y"  # combines the identities into one quotient
ZETA = "zeta"  # evaluation point

# Phases of advice columns: committed in this order, challenges drawn in between.
PHASE_WITNESS = 0  # the witness and the lookup multiplicities
PHASE_ARGUMENT = 1  # helper fractions and running sums (after beta, alpha)


@dataclass(frozen=True)
class Gate:
    name: str
    expression: Expression


@dataclass(frozen=True)
class Lookup:
    name: str
    inputs: tuple
    table: Column


@dataclass(frozen=True)
class KeyedSum:
    """sum value/(alpha - key) over the terms equals the right-hand side.

    ``rhs_terms`` are (value, key) pairs on the right (advice totals); with
    ``public_start`` set, the public inputs from there on are the totals of
    keys 1, 2, ... K as well.
    """

    name: str
    terms: tuple
    rhs_terms: tuple = ()
    public_start: int | None = None


@dataclass(frozen=True)
class InstanceColumn:
    column: Column
    public_start: int
    row_start: int


@dataclass(frozen=True)
class Fraction:
    """numerator / denominator, both expressions (denominators contain a challenge)."""

    numerator: Expression
    denominator: Expression


@dataclass(frozen=True)
class HelperColumn:
    """A phase-1 advice column holding the sum of at most two fractions per row."""

    column: Column
    argument: str
    fractions: tuple


@dataclass(frozen=True)
class RunningSum:
    column: Column
    argument: str
    helpers: tuple  # HelperColumn
    rhs_constant: str | None  # name of the derived scalar (public rhs / n), or None


@dataclass(frozen=True)
class Identity:
    """A named polynomial identity that must vanish on every row of H."""

    name: str
    expression: Expression


@dataclass
class ConstraintSystem:
    name: str
    max_degree: int = 3
    columns: list = field(default_factory=list)
    gates: list = field(default_factory=list)
    lookups: list = field(default_factory=list)
    keyed_sums: list = field(default_factory=list)
    instances: list = field(default_factory=list)
    # Filled by compile().
    multiplicities: dict = field(default_factory=dict)  # lookup name -> Column
    helpers: list = field(default_factory=list)
    running_sums: list = field(default_factory=list)
    identities: list = field(default_factory=list)
    _compiled: bool = False

    # declaration --------------------------------------------------------
    def _column(self, kind: ColumnKind, name: str, phase: int = PHASE_WITNESS) -> Column:
        if self._compiled:
            raise RuntimeError("the constraint system is compiled; declare columns before compile()")
        if any(c.name == name for c in self.columns):
            raise ValueError(f"duplicate column name {name!r}")
        index = sum(1 for c in self.columns if c.kind == kind)
        col = Column(kind, index, name)
        self.columns.append(col)
        self._phases[col] = phase
        return col

    def __post_init__(self):
        self._phases = {}

    def advice_column(self, name: str) -> Column:
        return self._column(ColumnKind.ADVICE, name)

    def fixed_column(self, name: str) -> Column:
        return self._column(ColumnKind.FIXED, name)

    def instance_column(self, name: str, public_start: int = 0, row_start: int = 0) -> Column:
        col = self._column(ColumnKind.INSTANCE, name)
        self.instances.append(InstanceColumn(col, public_start, row_start))
        return col

    def gate(self, name: str, expression: Expression) -> None:
        self._check_name(name)
        self.gates.append(Gate(name, expression))

    def lookup(self, name: str, inputs, table: Column) -> None:
        self._check_name(name)
        if table.kind != ColumnKind.FIXED:
            raise ValueError(f"lookup {name!r}: the table must be a fixed column")
        self.lookups.append(Lookup(name, tuple(inputs), table))

    def keyed_sum(self, name: str, terms, rhs_terms=(), public_start: int | None = None) -> None:
        self._check_name(name)
        if not rhs_terms and public_start is None:
            raise ValueError(f"keyed sum {name!r} needs a right-hand side")
        self.keyed_sums.append(KeyedSum(name, tuple(terms), tuple(rhs_terms), public_start))

    def _check_name(self, name: str) -> None:
        taken = {g.name for g in self.gates} | {l.name for l in self.lookups} | {k.name for k in self.keyed_sums}
        if name in taken:
            raise ValueError(f"duplicate constraint name {name!r}")

    # views ----------------------------------------------------------------
    def phase(self, column: Column) -> int:
        return self._phases.get(column, PHASE_WITNESS)

    def columns_of(self, kind: ColumnKind, phase: int | None = None) -> list:
        return [c for c in self.columns if c.kind == kind and (phase is None or self.phase(c) == phase)]

    @property
    def fixed_columns(self) -> list:
        return self.columns_of(ColumnKind.FIXED)

    @property
    def witness_columns(self) -> list:
        """Advice columns the circuit's witness builder assigns (not the derived ones)."""
        derived = set(self.multiplicities.values())
        return [c for c in self.columns_of(ColumnKind.ADVICE, PHASE_WITNESS) if c not in derived]

    def queries(self) -> list:
        """Every (column, rotation) the identities read, in a canonical order."""
        found = set()
        for ident in self.identities:
            found |= ident.expression.queries()
        order = {c: i for i, c in enumerate(self.columns)}
        return sorted(found, key=lambda q: (order[q.column], q.rotation))

    def degree(self) -> int:
        """The largest degree of an identity (at least 1)."""
        return max([1] + [i.expression.degree() for i in self.identities])

    def canonical_description(self) -> str:
        """Every fact about the compiled circuit that a verifier relies on, deterministically."""
        self.compile()
        lines = [f"circuit {self.name}", f"max_degree {self.max_degree}"]
        for c in self.columns:
            lines.append(f"column {c.kind.value}[{c.index}] phase {self.phase(c)} {c.name}")
        for inst in self.instances:
            lines.append(f"instance {inst.column.index} public_start {inst.public_start} row_start {inst.row_start}")
        for rs in self.running_sums:
            lines.append(f"running_sum {rs.column.name} rhs {rs.rhs_constant}")
        for ks in self.keyed_sums:
            lines.append(f"keyed_sum {ks.name} public_start {ks.public_start}")
        for ident in self.identities:
            lines.append(f"identity {ident.name} {ident.expression.canonical()}")
        return "\n".join(lines)

    # compilation ----------------------------------------------------------
    def compile(self) -> "ConstraintSystem":
        """Derive helper columns and the identities; idempotent."""
        if self._compiled:
            return self
        beta, alpha = Challenge(BETA), Challenge(ALPHA)
        for g in self.gates:
            if g.expression.degree() > self.max_degree:
                raise ValueError(f"gate {g.name!r} has degree {g.expression.degree()} > {self.max_degree}")
            self.identities.append(Identity(g.name, g.expression))

        # Multiplicities are witness-phase advice: they depend only on the witness.
        for lk in self.lookups:
            self.multiplicities[lk.name] = self._column(ColumnKind.ADVICE, f"{lk.name}.m")
        for lk in self.lookups:
            m = self.multiplicities[lk.name]
            fractions = [Fraction(Constant(1), beta - f) for f in lk.inputs]
            fractions.append(Fraction(-m.cur(), beta - lk.table.cur()))
            self._argument(lk.name, fractions, rhs_constant=None)
        for ks in self.keyed_sums:
            fractions = [Fraction(v, alpha - k) for v, k in ks.terms]
            fractions += [Fraction(-v, alpha - k) for v, k in ks.rhs_terms]
            rhs = f"{ks.name}.rhs_over_n" if ks.public_start is not None else None
            self._argument(ks.name, fractions, rhs_constant=rhs)
        self._compiled = True
        return self

    def _argument(self, name: str, fractions: list, rhs_constant: str | None) -> None:
        packed = _pack(fractions, self.max_degree, name)
        helpers = []
        for i, group in enumerate(packed):
            col = self._column(ColumnKind.ADVICE, f"{name}.phi{i}", PHASE_ARGUMENT)
            helpers.append(HelperColumn(col, name, tuple(group)))
            self.identities.append(Identity(f"{name}.phi{i}", _fraction_identity(col.cur(), group)))
        z = self._column(ColumnKind.ADVICE, f"{name}.z", PHASE_ARGUMENT)
        step = z.next() - z.cur()
        for h in helpers:
            step = step - h.column.cur()
        if rhs_constant is not None:
            step = step + Challenge(rhs_constant)
        self.running_sums.append(RunningSum(z, name, tuple(helpers), rhs_constant))
        self.identities.append(Identity(f"{name}.sum", step))


def _fraction_identity(phi: Query, group) -> Expression:
    """phi * prod(d) - sum_i n_i * prod_{j != i} d_j."""
    if len(group) == 1:
        (f,) = group
        return phi * f.denominator - f.numerator
    f1, f2 = group
    return phi * f1.denominator * f2.denominator - (f1.numerator * f2.denominator + f2.numerator * f1.denominator)


def _pack(fractions: list, max_degree: int, name: str) -> list:
    """Group fractions two by two while the helper identity stays within max_degree."""
    groups, i = [], 0
    while i < len(fractions):
        f1 = fractions[i]
        single = 1 + f1.denominator.degree()
        if max(single, f1.numerator.degree()) > max_degree:
            raise ValueError(f"{name}: a fraction's identity exceeds degree {max_degree}")
        if i + 1 < len(fractions):
            f2 = fractions[i + 1]
            pair = max(
                1 + f1.denominator.degree() + f2.denominator.degree(),
                f1.numerator.degree() + f2.denominator.degree(),
                f2.numerator.degree() + f1.denominator.degree(),
            )
            if pair <= max_degree:
                groups.append((f1, f2))
                i += 2
                continue
        groups.append((f1,))
        i += 1
    return groups

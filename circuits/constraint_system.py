"""The PLONKish constraint system: columns, gates, logUp lookups and keyed sums, declared once.

A circuit is data. The prover, the Python verifier, the direct checker and the
Solidity generator all read the same ``ConstraintSystem``; ``compile()`` turns
its gates, lookups and keyed sums into the list of polynomial identities that
must vanish on every row of the domain H = {omega^i}, together with the helper
columns the arguments need.

Arguments (log-derivative, eprint 2022/1530):

* ``Lookup`` — every row's input tuples lie among the rows of its tables:
  ``sum_rows sum_k 1/(beta - f_k) = sum_rows sum_t m_t/(beta - T_t)`` with a
  multiplicity column m_t (advice, derived from the witness) per table. A
  tuple (e_0, e_1, ..) is compressed as e_0 + gamma e_1 + gamma^2 e_2 + ..;
  a table's entries are expressions of fixed and instance columns only (the
  verifier knows them), so a table can be built from public inputs.
* ``KeyedSum`` — weighted sums grouped by key:
  ``sum_rows sum_s value_s/(c - key_s) = sum_j total_j/(c - j)``, the totals
  taken from the public inputs (keys first_key, first_key + 1, .. at every
  ``stride``-th public input) or from advice terms, or zero (``zero=True``: the
  values of every key cancel). The challenge c is alpha, or gamma for a sum
  whose keys the prover chooses freely (a key equal to a small integer must not
  merge with the totals of that asset: their poles are in different variables).

All fractions of all arguments go into one pool. They are packed, up to
``max_degree - 1`` per row, into helper columns phi constrained by
``phi * d_1 ... d_k = sum_i n_i prod_{j != i} d_j``, and one running-sum column
Z carries ``Z(omega X) - Z(X) - sum phi(X) - (last group) + c = 0`` on all of H,
where c = (public right-hand sides) / n and the last group of fractions is
cleared of its denominators in Z's identity itself (it needs no column). Summed around the cycle of H this says that
the lookup fractions (a function of beta) plus the keyed-sum fractions (a
function of alpha) add up to the public right-hand side; for independent
random beta and alpha that holds only if each argument holds on its own (the
lookup sum is a rational function of beta vanishing at infinity, so it cannot
cancel a constant; likewise a gamma-keyed sum, a function of gamma vanishing at
infinity, cannot cancel the alpha part, and with beta -> infinity the lookup
part drops first). Sharing one Z saves a commitment per argument. Gamma also
compresses lookup tuples and builds combinations: each use needs only that
gamma is drawn after the phase-0 columns it combines are committed, and the
failure events add up (a union bound), so one challenge serves all three.

``Combination`` — a phase-1 column G = sum_j gamma^j e_j of expressions
(gamma drawn after the witness commitments). Opening G at a row opens every
e_j there at once: inclusion proofs use it, and its commitment is one point
whatever the number of columns it combines.

Public inputs are one flat vector of field elements. An instance column places
``public[public_start::stride]`` at rows ``row_start, row_start + 1, ...``; a
keyed sum with public totals reads ``total_(first_key + i) = public[public_start
+ stride i]``. With stride s, s instance columns (or sums) can share one vector
row by row, whatever its length: a circuit fixes where each value is without
fixing how many there are.
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
GAMMA = "gamma"  # combinations
Y = "y"  # combines the identities into one quotient
ZETA = "zeta"  # evaluation point

# Phases of advice columns: committed in this order, challenges drawn in between.
PHASE_WITNESS = 0  # the witness and the lookup multiplicities
PHASE_ARGUMENT = 1  # helper fractions, the running sum, combinations (after beta, alpha, gamma)

# The one log-derivative argument that carries every lookup and keyed sum.
LOGUP = "logup"
RHS_OVER_N = "logup.rhs_over_n"


@dataclass(frozen=True)
class Gate:
    name: str
    expression: Expression


@dataclass(frozen=True)
class Lookup:
    """Every tuple of ``inputs`` (tuples of expressions) is a row of one of ``tables`` (tuples of expressions)."""

    name: str
    inputs: tuple
    tables: tuple

    @property
    def width(self) -> int:
        return len(self.tables[0])


@dataclass(frozen=True)
class KeyedSum:
    """sum value/(alpha - key) over the terms equals the right-hand side.

    ``rhs_terms`` are (value, key) pairs on the right (advice totals); with
    ``public_start`` set, ``public[public_start::stride]`` are the totals of
    keys first_key, first_key + 1, .. as well. ``challenge``: ALPHA or GAMMA.
    """

    name: str
    terms: tuple
    rhs_terms: tuple = ()
    public_start: int | None = None
    stride: int = 1
    first_key: int = 1
    challenge: str = "alpha"
    zero: bool = False

    def public_totals(self, public_inputs) -> list:
        """(key, total) of every public total."""
        if self.public_start is None:
            return []
        values = public_inputs[self.public_start :: self.stride]
        return [(self.first_key + i, int(v)) for i, v in enumerate(values)]


@dataclass(frozen=True)
class Combination:
    """A committed column equal to sum_j gamma^j expressions[j] on every row."""

    name: str
    expressions: tuple
    column: Column | None = None  # set by compile()
    combined: Expression | None = None  # sum_j gamma^j expressions[j], set by compile()


@dataclass(frozen=True)
class InstanceColumn:
    column: Column
    public_start: int
    row_start: int
    stride: int = 1
    half: bool = False  # the column holds public inputs in its first n/2 rows only (the rest stays 0)

    def rows(self, n: int) -> int:
        """The rows from ``row_start`` on that may hold a public input."""
        return (n // 2 if self.half else n) - self.row_start

    def values(self, public_inputs) -> list:
        """The public inputs this column holds, from row ``row_start`` on."""
        return list(public_inputs[self.public_start :: self.stride])


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
    public_sums: tuple = ()  # KeyedSum with public totals, whose right-hand sides make up c
    absorbed: tuple = ()  # Fraction: the last group, folded into Z's own identity (no helper column)


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
    combinations: list = field(default_factory=list)
    # Filled by compile().
    multiplicities: dict = field(default_factory=dict)  # lookup name -> (Column per table)
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

    def instance_column(self, name: str, public_start: int = 0, row_start: int = 0, stride: int = 1,
                        half: bool = False) -> Column:
        """``half``: public inputs fill at most the first n/2 rows, so a table may rely on the others being 0."""
        if stride < 1:
            raise ValueError(f"instance column {name!r}: stride must be at least 1")
        col = self._column(ColumnKind.INSTANCE, name)
        self.instances.append(InstanceColumn(col, public_start, row_start, stride, half))
        return col

    def gate(self, name: str, expression: Expression) -> None:
        self._check_name(name)
        self.gates.append(Gate(name, expression))

    def lookup(self, name: str, inputs, tables) -> None:
        """Each input (an expression, or a tuple of them) lies among the rows of the tables.

        ``tables``: a fixed column, or a list of tables, each a column or an
        expression or a tuple of them, over fixed and instance columns only.
        """
        self._check_name(name)
        if isinstance(tables, (Column, Expression)):
            tables = [tables]
        tables = tuple(_tuple_of(t) for t in tables)
        inputs = tuple(_tuple_of(f) for f in inputs)
        width = len(tables[0]) if tables else 0
        if not tables or any(len(t) != width for t in tables + inputs):
            raise ValueError(f"lookup {name!r}: inputs and tables must be tuples of one width")
        for table in tables:
            for e in table:
                if any(q.column.kind == ColumnKind.ADVICE for q in e.queries()):
                    raise ValueError(f"lookup {name!r}: a table holds fixed and instance columns only")
        self.lookups.append(Lookup(name, inputs, tables))

    def keyed_sum(self, name: str, terms, rhs_terms=(), public_start: int | None = None, stride: int = 1,
                  first_key: int = 1, challenge: str = ALPHA, zero: bool = False) -> None:
        self._check_name(name)
        if not rhs_terms and public_start is None and not zero:
            raise ValueError(f"keyed sum {name!r} needs a right-hand side")
        if challenge not in (ALPHA, GAMMA) or (public_start is not None and challenge != ALPHA):
            raise ValueError(f"keyed sum {name!r}: public totals are keyed by alpha; free keys by gamma")
        self.keyed_sums.append(
            KeyedSum(name, tuple(terms), tuple(rhs_terms), public_start, stride, first_key, challenge, zero))

    def combination(self, name: str, expressions) -> None:
        """Declare G = sum_j gamma^j expressions[j], a committed column (see the module docstring)."""
        self._check_name(name)
        expressions = tuple(expressions)
        if not expressions:
            raise ValueError(f"combination {name!r} needs at least one expression")
        self.combinations.append(Combination(name, expressions))

    def _check_name(self, name: str) -> None:
        taken = {g.name for g in self.gates} | {l.name for l in self.lookups} | {k.name for k in self.keyed_sums}
        taken |= {c.name for c in self.combinations}
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
        derived = {m for ms in self.multiplicities.values() for m in ms}
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

    def max_public_inputs(self, n: int) -> int | None:
        """How many public inputs fit in n rows: an instance column holds one a row from its first row, no more
        (a value past the last row would land on row (row mod n), since omega^n = 1), and a ``half`` column no
        more than its first n/2 rows. None: no instance column."""
        fits = [inst.public_start + inst.stride * inst.rows(n) for inst in self.instances]
        return min(fits) if fits else None

    def canonical_description(self) -> str:
        """Every fact about the compiled circuit that a verifier relies on, deterministically."""
        self.compile()
        lines = [f"circuit {self.name}", f"max_degree {self.max_degree}"]
        for c in self.columns:
            lines.append(f"column {c.kind.value}[{c.index}] phase {self.phase(c)} {c.name}")
        for inst in self.instances:
            stride = f" stride {inst.stride}" if inst.stride != 1 else ""
            half = " half" if inst.half else ""
            lines.append(f"instance {inst.column.index} public_start {inst.public_start} row_start {inst.row_start}"
                         + stride + half)
        for rs in self.running_sums:
            lines.append(f"running_sum {rs.column.name} rhs {rs.rhs_constant}")
        for comb in self.combinations:
            lines.append(f"combination {comb.name} {len(comb.expressions)}")
        for ks in self.keyed_sums:
            extra = ""
            if (ks.stride, ks.first_key, ks.challenge, ks.zero) != (1, 1, ALPHA, False):
                extra = f" stride {ks.stride} first_key {ks.first_key} challenge {ks.challenge} zero {ks.zero}"
            lines.append(f"keyed_sum {ks.name} public_start {ks.public_start}" + extra)
        for ident in self.identities:
            lines.append(f"identity {ident.name} {ident.expression.canonical()}")
        return "\n".join(lines)

    # compilation ----------------------------------------------------------
    def compile(self) -> "ConstraintSystem":
        """Derive helper columns and the identities; idempotent."""
        if self._compiled:
            return self
        beta, alpha, gamma = Challenge(BETA), Challenge(ALPHA), Challenge(GAMMA)
        for g in self.gates:
            if g.expression.degree() > self.max_degree:
                raise ValueError(f"gate {g.name!r} has degree {g.expression.degree()} > {self.max_degree}")
            self.identities.append(Identity(g.name, g.expression))

        # Multiplicities are witness-phase advice: they depend only on the witness.
        for lk in self.lookups:
            self.multiplicities[lk.name] = tuple(
                self._column(ColumnKind.ADVICE, f"{lk.name}.m" + (str(t) if t else "")) for t in range(len(lk.tables)))
        fractions = []
        for lk in self.lookups:
            fractions += [Fraction(Constant(1), beta - _compress(f, gamma)) for f in lk.inputs]
            for m, table in zip(self.multiplicities[lk.name], lk.tables):
                fractions.append(Fraction(-m.cur(), beta - _compress(table, gamma)))
        for ks in self.keyed_sums:
            c = alpha if ks.challenge == ALPHA else gamma
            fractions += [Fraction(v, c - k) for v, k in ks.terms]
            fractions += [Fraction(-v, c - k) for v, k in ks.rhs_terms]
        if fractions:
            public = tuple(ks for ks in self.keyed_sums if ks.public_start is not None)
            self._argument(LOGUP, fractions, RHS_OVER_N if public else None, public)
        gamma = Challenge(GAMMA)
        for i, comb in enumerate(self.combinations):
            col = self._column(ColumnKind.ADVICE, comb.name, PHASE_ARGUMENT)
            combined = comb.expressions[-1]
            for e in reversed(comb.expressions[:-1]):
                combined = e + gamma * combined
            self.combinations[i] = Combination(comb.name, comb.expressions, col, combined)
            self.identities.append(Identity(comb.name, col.cur() - combined))
        self._compiled = True
        return self

    def _argument(self, name: str, fractions: list, rhs_constant: str | None, public_sums: tuple) -> None:
        packed = _pack(fractions, self.max_degree, name)
        # The last group needs no column of its own: Z's step stands where its phi would,
        # (Z(wX) - Z(X) - sum phi + c) * prod d = sum n_i prod_{j != i} d_j, of the same degree.
        absorbed = packed.pop()
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
        self.running_sums.append(RunningSum(z, name, tuple(helpers), rhs_constant, public_sums, tuple(absorbed)))
        self.identities.append(Identity(f"{name}.sum", _fraction_identity(step, absorbed)))


def _tuple_of(e) -> tuple:
    """An expression or a tuple of them, as a tuple of expressions (a column stands for its current row)."""
    items = e if isinstance(e, (tuple, list)) else (e,)
    return tuple(x.cur() if isinstance(x, Column) else x for x in items)


def _compress(entries: tuple, gamma: Expression) -> Expression:
    """e_0 + gamma e_1 + gamma^2 e_2 + .. (Horner); a 1-tuple is its entry."""
    acc = entries[-1]
    for e in reversed(entries[:-1]):
        acc = e + gamma * acc
    return acc


def _fraction_identity(phi: Query, group) -> Expression:
    """phi * prod_i d_i - sum_i n_i * prod_{j != i} d_j."""
    lhs = phi
    for f in group:
        lhs = lhs * f.denominator
    rhs = None
    for i, f in enumerate(group):
        term = f.numerator
        for j, g in enumerate(group):
            if j != i:
                term = term * g.denominator
        rhs = term if rhs is None else rhs + term
    return lhs - rhs


def _identity_degree(group) -> int:
    dens = [f.denominator.degree() for f in group]
    numerators = [f.numerator.degree() + sum(dens) - d for f, d in zip(group, dens)]
    return max([1 + sum(dens)] + numerators)


def _pack(fractions: list, max_degree: int, name: str) -> list:
    """Group consecutive fractions, as many per helper as keep its identity within max_degree."""
    groups, i = [], 0
    while i < len(fractions):
        group = [fractions[i]]
        if _identity_degree(group) > max_degree:
            raise ValueError(f"{name}: a fraction's identity exceeds degree {max_degree}")
        while i + len(group) < len(fractions) and _identity_degree(group + [fractions[i + len(group)]]) <= max_degree:
            group.append(fractions[i + len(group)])
        groups.append(tuple(group))
        i += len(group)
    return groups

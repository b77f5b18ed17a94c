"""The proof's schedule for one compiled circuit: what is committed, evaluated and opened, in order.

Prover, Python verifier and the Solidity generator all take their order from
here, so the three can be read side by side:

1. public inputs (their count, then each value)
2. commitments to the witness-phase advice columns (witness, multiplicities)
   -> challenges beta, alpha, gamma
3. commitments to the argument-phase advice columns (fractions, the running
   sum, combinations)
   -> challenge y
4. commitments to the quotient chunks t_0 .. t_{d-1}
   -> challenge zeta
5. evaluations: every queried non-instance column at zeta * omega^rotation,
   then every quotient chunk at zeta
   -> challenge v
6. the two opening proofs, at zeta and at zeta * omega
   -> challenge u (combines the two openings into one pairing check)
"""

from __future__ import annotations

from dataclasses import dataclass

from zksolvency.circuits.constraint_system import (
    ALPHA,
    BETA,
    GAMMA,
    PHASE_ARGUMENT,
    PHASE_WITNESS,
    ZETA,
    Y,
    ConstraintSystem,
)
from zksolvency.circuits.expression import ColumnKind, Query

V = "v"  # combines the polynomials opened at one point
U = "u"  # combines the two opening points


@dataclass(frozen=True)
class Layout:
    """Counts and orders derived from a compiled constraint system and a domain size."""

    log_n: int
    witness_columns: tuple  # Column, phase-0 advice (commitment order)
    argument_columns: tuple  # Column, phase-1 advice
    fixed_columns: tuple
    evaluated_queries: tuple  # Query, non-instance, evaluation order
    quotient_chunks: int
    extension: int  # the quotient is computed on a coset of size extension * n

    @property
    def n(self) -> int:
        return 1 << self.log_n

    @property
    def num_evaluations(self) -> int:
        return len(self.evaluated_queries) + self.quotient_chunks

    def opened_at(self, rotation: int) -> list:
        """(index into evaluations, query) for every query opened at zeta * omega^rotation."""
        return [(i, q) for i, q in enumerate(self.evaluated_queries) if q.rotation == rotation]


def layout(cs: ConstraintSystem, log_n: int) -> Layout:
    cs.compile()
    n = 1 << log_n
    degree = cs.degree()
    # Committed polynomials have degree <= n + 2 (blinded by Z_H times a degree-2
    # polynomial), so the quotient t = (sum y^i I_i) / Z_H has degree at most
    # degree * (n + 2) - n; it is interpolated from its values on a coset of
    # extension * n points, which must exceed that degree. Its d = degree chunks of
    # n coefficients hold (d - 1) n + 2 d + 1 coefficients once n > 2 d.
    extension = 1
    while extension * n <= degree * (n + 2) - n:
        extension *= 2
    if n <= 2 * degree:
        raise ValueError(f"a domain of {n} rows is too small for identities of degree {degree}")
    queries = tuple(q for q in cs.queries() if q.column.kind != ColumnKind.INSTANCE)
    return Layout(
        log_n=log_n,
        witness_columns=tuple(cs.columns_of(ColumnKind.ADVICE, PHASE_WITNESS)),
        argument_columns=tuple(cs.columns_of(ColumnKind.ADVICE, PHASE_ARGUMENT)),
        fixed_columns=tuple(cs.fixed_columns),
        evaluated_queries=queries,
        quotient_chunks=max(1, degree),
        extension=extension,
    )


CHALLENGE_ORDER = (BETA, ALPHA, GAMMA, Y, ZETA, V, U)

__all__ = ["Layout", "layout", "CHALLENGE_ORDER", "Query", "V", "U"]

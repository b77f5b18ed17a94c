"""Checks anyone can run on a round: the round's proof, and one user's inclusion in it.

Both use only the verifier package and the circuit declaration, never the prover.
"""

from __future__ import annotations

from dataclasses import dataclass

from zksolvency.artifacts import InclusionFile, RoundStatement
from zksolvency.circuits.constraint_system import GAMMA
from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape, inclusion_values
from zksolvency.hashing import round_tag, user_hash
from zksolvency.verifier.inclusion import InclusionError, verify_row
from zksolvency.verifier.formats import VerifyingKey
from zksolvency.verifier.plonk import VerificationError, VerifiedProof, verify


@dataclass(frozen=True)
class VerifiedRound:
    statement: RoundStatement
    circuit: SolvencyCircuit
    verified: VerifiedProof


def verify_round(statement: RoundStatement, allow_insecure_srs: bool = False,
                 expected_vk: VerifyingKey | None = None) -> VerifiedRound:
    """Raise VerificationError unless the round's proof holds for its stated shape and values.

    The verifying key comes with the round; its fixed columns (the range table)
    are what make the range checks mean anything. ``expected_vk``, made from a
    trusted SRS for the same shape (``zksolvency.round.verifying_key_for``), pins
    it; the on-chain verifier has it compiled in.
    """
    try:
        shape = SolvencyShape(statement.log_n, statement.slots, statement.private_totals)
    except ValueError as e:
        raise VerificationError(f"the round's shape is not a solvency circuit: {e}") from None
    circuit = SolvencyCircuit(shape)
    vk = statement.verifying_key
    if expected_vk is not None and vk.to_bytes() != expected_vk.to_bytes():
        raise VerificationError(
            "the round's verifying key is not the circuit's for this SRS (its fixed columns or SRS differ)"
        )
    if vk.log_n != statement.log_n:
        raise VerificationError("the verifying key is for another number of rows")
    expected = (round_tag(statement.round_id),) + tuple(statement.values)
    if tuple(statement.public_inputs) != expected:
        raise VerificationError(
            f"the public inputs are not the round tag and the stated {statement.values_name}"
        )
    verified = verify(circuit.cs, vk, list(statement.public_inputs), statement.proof, allow_insecure_srs)
    if verified.commitment(circuit.inclusion) != statement.inclusion_commitment:
        raise VerificationError("the inclusion commitment is not the proof's")
    return VerifiedRound(statement, circuit, verified)


def check_inclusion(inclusion: InclusionFile, verified: VerifiedRound, expected_user_id: str | None = None) -> dict:
    """Raise InclusionError unless every row of the user's file opens correctly; return balances by asset."""
    statement = verified.statement
    if inclusion.round_id != statement.round_id:
        raise InclusionError(f"the inclusion proof is for round {inclusion.round_id!r}, not {statement.round_id!r}")
    if expected_user_id is not None and expected_user_id != inclusion.user_id:
        raise InclusionError("the inclusion proof is for another user id")
    if inclusion.assets and tuple(inclusion.assets) != tuple(a.name for a in statement.assets):
        raise InclusionError("the inclusion file lists the round's assets in another order than the round")
    index = {a.name: j for j, a in enumerate(statement.assets, start=1)}
    h = user_hash(statement.round_id, inclusion.user_id, inclusion.salt)
    gamma = verified.verified.challenges[GAMMA]
    balances = {a.name: 0 for a in statement.assets}
    seen = set()
    for r in inclusion.rows:
        if r.row in seen:
            raise InclusionError(f"row {r.row} appears twice")
        seen.add(r.row)
        if len(r.slots) != statement.slots:
            raise InclusionError(f"row {r.row}: {len(r.slots)} slots, the round has {statement.slots} per record")
        slots = []
        for name, units in r.slots:
            if name is None:
                if units:
                    raise InclusionError(f"row {r.row}: an empty slot holds {units} units")
                slots.append((0, 0))
                continue
            if name not in index:
                raise InclusionError(f"row {r.row}: asset {name!r} is not in this round")
            if units >> 64:
                raise InclusionError(f"row {r.row}: {units} units of {name} is not below 2^64")
            slots.append((index[name], units))
            balances[name] += units
        verify_row(statement.verifying_key, statement.inclusion_commitment, gamma, r.row,
                   inclusion_values(h, slots), r.proof)
    return balances

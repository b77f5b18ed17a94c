"""Checks anyone can run on a round: the round's proof, and one user's inclusion in it.

Both use only the verifier package and the circuit declaration, never the prover.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zksolvency.artifacts import InclusionFile, RoundStatement
from zksolvency.circuits.constraint_system import GAMMA
from zksolvency.circuits.solvency import (
    FIRST_ASSET_KEY,
    SolvencyCircuit,
    debt_key,
    equity_key,
    key_kind,
)
from zksolvency.hashing import account_key, record_hash, user_prefix
from zksolvency.verifier.inclusion import (
    InclusionError,
    InclusionKeys,
    Record,
    Rule,
    check_records,
    is_margin_account,
    slot_weights,
)
from zksolvency.verifier.plonk import VerificationError, VerifiedProof, verify


@dataclass(frozen=True)
class VerifiedRound:
    statement: RoundStatement
    circuit: SolvencyCircuit
    verified: VerifiedProof


class PinError(VerificationError):
    """The verifying key, or the registry's verifier, is not the pinned one."""


@dataclass(frozen=True)
class Pin:
    """What a verdict's verifying key is pinned to: an SRS the verifier holds (the key must be the circuit's for it),
    a key digest published by whoever checked the key, or nothing (an explicit choice, and said so)."""

    kind: str  # "srs", "vk_digest" or "none"
    digest: bytes = b""  # the SRS's digest, or the key's
    srs: object = None  # kind "srs": the SRS

    @staticmethod
    def to_srs(srs) -> "Pin":
        return Pin("srs", srs.digest, srs)

    @staticmethod
    def to_vk_digest(digest: bytes) -> "Pin":
        return Pin("vk_digest", bytes(digest))

    def to_json(self):
        return "none" if self.kind == "none" else {self.kind: "0x" + self.digest.hex()}

    def describe(self) -> str:
        if self.kind == "srs":
            return f"pinned to the SRS 0x{self.digest.hex()}"
        if self.kind == "vk_digest":
            return f"pinned to the verifying key 0x{self.digest.hex()}"
        return "NOT PINNED: the verifying key is the exchange's own (--unpinned)"

    def check(self, statement: RoundStatement) -> None:
        """Raise VerificationError unless the round's verifying key is the pinned one."""
        vk = statement.verifying_key
        if self.kind == "srs":
            from zksolvency.round import verifying_key_for

            if vk.to_bytes() != verifying_key_for(statement, self.srs).to_bytes():
                raise PinError("the round's verifying key is not the circuit's for this SRS "
                                        "(its fixed columns or SRS differ)")
        elif self.kind == "vk_digest" and vk.digest() != self.digest:
            raise PinError(f"the round's verifying key 0x{vk.digest().hex()} is not the pinned "
                                    f"0x{self.digest.hex()}")


UNPINNED = Pin("none")


def verify_round(statement: RoundStatement, allow_insecure_srs: bool = False, pin: Pin = UNPINNED,
                 pinned: bool = False) -> VerifiedRound:
    """Raise VerificationError unless the round's proof holds for its stated shape and values, with a pinned key.

    The verifying key comes with the round; its fixed columns (the range table)
    are what make the range checks mean anything, and its G2 points what make the
    openings binding: a key the exchange made itself proves nothing unless
    ``pin`` ties it to an SRS the verifier holds or to a digest someone checked.
    The on-chain verifier has its key compiled in (``audit-deployment`` pins it).
    ``pinned``: the key was checked against ``pin`` already (the shards of one round share it).
    """
    try:
        shape = statement.shape()
    except ValueError as e:
        raise VerificationError(f"the round's shape is not a solvency circuit: {e}") from None
    circuit = SolvencyCircuit(shape)
    vk = statement.verifying_key
    if not pinned:
        pin.check(statement)
    if vk.log_n != statement.log_n:
        raise VerificationError("the verifying key is for another number of rows")
    expected = tuple(statement_inputs(statement, circuit, statement.tag()))
    if tuple(statement.public_inputs) != expected:
        raise VerificationError(
            f"the public inputs are not the round tag (round id, time, asset names and decimals) and the stated "
            f"{statement.values_name}"
        )
    verified = verify(circuit.cs, vk, list(statement.public_inputs), statement.proof, allow_insecure_srs)
    if verified.commitment(circuit.inclusion) != statement.inclusion_commitment:
        raise VerificationError("the inclusion commitment is not the proof's")
    return VerifiedRound(statement, circuit, verified)


def check_shard_sums(statement) -> None:
    """Raise VerificationError unless a sharded round's shards add up to what the round states.

    Public totals: every asset's total (and, in a margin round, debt total) is
    the sum of the shards'. Private totals: every asset's allocations sum to at
    most its reserves, so the liabilities each shard proves within its
    allocation sum to at most the reserves. The shards must be the round's
    0..M-1, each under the round's labels and verifying key (their proofs bind
    their index and M through the shard tag).
    """
    shards = statement.shard_statements
    count = len(shards)
    if count == 1:
        return
    key = statement.verifying_key.to_bytes()
    for i, shard in enumerate(shards):
        if shard.shard != (i, count):
            raise VerificationError(f"shard {i} is listed as shard {shard.shard} (of {count})")
        same = (shard.round_id, shard.timestamp, shard.assets, shard.slots, shard.log_n, shard.private_totals,
                shard.margin)
        if same != (statement.round_id, statement.timestamp, statement.assets, statement.slots, statement.log_n,
                    statement.private_totals, statement.margin):
            raise VerificationError(f"shard {i} is not under the round's labels and shape")
    names = [a.name for a in statement.assets]
    for i, shard in enumerate(shards):
        if shard.verifying_key.to_bytes() != key:
            raise VerificationError(f"shard {i} is not under the round's verifying key")
    for j, name in enumerate(names):
        parts = sum(shard.values[j] for shard in shards)
        if statement.private_totals and parts > statement.values[j]:
            raise VerificationError(f"the shards' allocations of {name} sum to more than its reserves")
        if not statement.private_totals and parts != statement.values[j]:
            raise VerificationError(f"the {name} total is not the sum of the shards' totals")
        if statement.debts is not None and sum(shard.debts[j] for shard in shards) != statement.debts[j]:
            raise VerificationError(f"the {name} debt total is not the sum of the shards' debt totals")


def verify_statement(statement, allow_insecure_srs: bool = False, pin: Pin = UNPINNED, only=None) -> list:
    """Verify a round of either kind: its shards' sums, then the proof of every shard (or of the shards ``only``
    names); return their VerifiedRound by index. One shard: the round's own proof."""
    check_shard_sums(statement)
    shards = statement.shard_statements
    pin.check(shards[0])  # one key for every shard (check_shard_sums)
    picked = range(len(shards)) if only is None else only
    out = {}
    for i in picked:
        try:
            out[i] = verify_round(shards[i], allow_insecure_srs, pin, pinned=True)
        except VerificationError as e:
            if len(shards) == 1:
                raise
            raise type(e)(f"shard {i} of {len(shards)}: {e}") from None
    return out


def shard_of(statement, inclusion: InclusionFile) -> int:
    """The shard a user's file names, which must be one of the round's (InclusionError Rule.SHARD otherwise)."""
    count = len(statement.shard_statements)
    if count == 1:
        if inclusion.shard is not None:
            raise InclusionError(Rule.SHARD, f"the file names shard {inclusion.shard}; round "
                                             f"{statement.round_id!r} has no shards")
        return 0
    if inclusion.shard is None or not 0 <= inclusion.shard < count:
        named = "no shard" if inclusion.shard is None else f"shard {inclusion.shard}"
        raise InclusionError(Rule.SHARD, f"the file names {named}; round {statement.round_id!r} has shards "
                                         f"0 to {count - 1}")
    return inclusion.shard


def statement_inputs(statement: RoundStatement, circuit, tag: int) -> list:
    """The public inputs the round's statement means: [tag, values] (spot), or the margin circuit's pairs of
    (value, weight) per key, the weights made from the stated prices and ratios (a price the round does not
    state cannot enter the proof)."""
    if statement.margin is None:
        return [tag] + list(statement.values)
    from zksolvency.circuits.solvency import key_values
    from zksolvency.margin import MarginError

    try:
        weights = statement.margin.weights([a.decimals for a in statement.assets])
    except MarginError as e:
        raise VerificationError(f"the round's prices: {e}") from None
    if statement.private_totals:
        return circuit.margin_public_inputs(tag, weights, reserves=list(statement.values))
    return circuit.margin_public_inputs(tag, weights, key_values(statement.values, statement.debts))


def round_keys(verified: VerifiedRound) -> InclusionKeys:
    """What a user's records are checked against, taken from a verified round."""
    st, vk = verified.statement, verified.statement.verifying_key
    weights = None if st.margin is None else tuple(st.margin.weights([a.decimals for a in st.assets]))
    return InclusionKeys(st.log_n, st.slots, len(st.assets), st.inclusion_commitment,
                         verified.verified.challenges[GAMMA], vk.g1, vk.g2, vk.tau_g2, weights)


DEBT_LABEL = ":debt"
SURPLUS_LABEL = "surplus:"


def slot_labels(asset_names, margin: bool) -> dict:
    """Slot label -> index (spot: asset index 1..K) or key (margin: "BTC", "BTC:debt", "surplus:1".."surplus:3").

    InclusionError (Rule.ASSET_LIST) if an asset's name is another slot's label (it would show one slot as another).
    """
    if not margin:
        return {name: j for j, name in enumerate(asset_names, start=1)}
    labels = {f"{SURPLUS_LABEL}{t}": t for t in range(1, FIRST_ASSET_KEY)}
    for j, name in enumerate(asset_names, start=1):
        for label, key in ((name, equity_key(j)), (name + DEBT_LABEL, debt_key(j))):
            if label in labels:
                raise InclusionError(Rule.ASSET_LIST, f"the asset name {label!r} is also a slot label of the round")
            labels[label] = key
    return labels


def label_of(key: int, asset_names, margin: bool):
    """The label an exported slot carries (None for an empty slot)."""
    if key == 0:
        return None
    if not margin:
        return asset_names[key - 1]
    kind, at = key_kind(key, len(asset_names))
    if kind == "surplus":
        return f"{SURPLUS_LABEL}{at + 1}"
    return asset_names[at - 1] + (DEBT_LABEL if kind == "debt" else "")


def records_of(inclusion: InclusionFile, asset_names, keys: InclusionKeys | None = None) -> list:
    """The file's records as the integers every verifier checks: names as indices, hashes recomputed.

    An empty slot is asset 0; a name that is not one of the round's gets index
    K + 1 (margin: key 2K + 4), which every verifier refuses (Rule.UNKNOWN_ASSET)
    in its place among the rules. In a margin round (``keys.weights``) each
    record also carries the account key and slot weights its owner expects.
    """
    margin = keys is not None and keys.weights is not None
    index = slot_labels(asset_names, margin)
    unknown = FIRST_ASSET_KEY + 2 * len(asset_names) if margin else len(asset_names) + 1
    prefix = user_prefix(inclusion.round_id, inclusion.user_id, inclusion.salt)
    count = len(inclusion.records)
    all_slots = [tuple((0 if name is None else index.get(name, unknown), units) for name, units in r.slots)
                 for r in inclusion.records]
    out = []
    for k, (r, slots) in enumerate(zip(inclusion.records, all_slots)):
        out.append(Record(r.row, record_hash(prefix, k, count, slots), slots, (r.proof.x, r.proof.y)))
    if margin:
        indebted = is_margin_account(out)
        account = account_key(prefix) if indebted else 0
        out = [dataclasses.replace(r, account=account, weights=slot_weights(keys, r.slots, indebted)) for r in out]
    return out


def check_identity(inclusion: InclusionFile, round_id: str, user_id: str | None) -> None:
    """Raise InclusionError unless the file is for this round and (when given) for this user id."""
    if inclusion.round_id != round_id:
        raise InclusionError(Rule.ROUND_ID, f"the inclusion file is for round {inclusion.round_id!r}, not {round_id!r}")
    if user_id is not None and inclusion.user_id != user_id:
        raise InclusionError(Rule.USER_ID, f"the inclusion file is for user id {inclusion.user_id!r}, not {user_id!r}")


def balances_of(records, asset_names, margin: bool = False) -> dict:
    """Every asset's balance in checked records (canonical: each asset in at most one slot); a margin round's
    labels ("BTC:debt", "surplus:1") keep their own entries."""
    balances = {name: 0 for name in asset_names}
    for r in records:
        for asset, units in r.slots:
            if asset:
                label = label_of(asset, asset_names, margin)
                balances[label] = balances.get(label, 0) + units
    return balances


def check_inclusion(inclusion: InclusionFile, keys: InclusionKeys, round_id: str, asset_names,
                    user_id: str | None, final=None) -> dict:
    """Raise InclusionError unless the user's file proves their records in the round; return balances by asset.

    ``final(keys, records)`` decides on the records (default ``check_records``; the
    registry's view through ``zksolvency.onchain.ViewCheck``).
    """
    check_identity(inclusion, round_id, user_id)
    if list(inclusion.assets) != list(asset_names) or len(asset_names) != keys.asset_count:
        raise InclusionError(Rule.ASSET_LIST, f"the file lists {len(inclusion.assets)} asset names, not the round's "
                                              f"{keys.asset_count} in its order")
    records = records_of(inclusion, asset_names, keys)
    (final or check_records)(keys, records)
    return balances_of(records, asset_names, keys.weights is not None)


def audit_registry(registry, recorded: dict, statement: RoundStatement | None, pin: Pin) -> None:
    """Raise PinError unless the registry's verifier is the one generated from the pinned key: the key made from
    the pinned SRS for the recorded shape, or the round file's key (pinned by its digest or its SRS)."""
    from zksolvency.onchain import audit_against, recorded_shape

    shape = recorded_shape(recorded)
    if statement is not None:
        vk = statement.verifying_key  # pin.check has held for it
    else:
        from zksolvency.prover.plonk import keygen

        circuit = SolvencyCircuit(shape)
        vk = keygen(circuit.cs, shape.log_n, pin.srs.truncated(shape.log_n), circuit.fixed).vk
    audit = audit_against(registry.w3, registry.address, shape, vk)
    if not audit.matches:
        raise PinError("the registry is not pinned: " + "; ".join(audit.differences))


def account_summary(balances: dict, asset_names, decimals, weights) -> dict:
    """A checked margin account: equity and debt per asset, and its haircut collateral and debt in USD
    (units of 10^-8 USD, collateral rounded down, debt up; the check itself was exact, rule 20), from the round's
    key weights (``InclusionKeys.weights``: round.json's terms, or the registry's record of them)."""
    from zksolvency.circuits.solvency import BASIS_POINTS

    # Weights are in 10^-(8 + D) USD a unit and carry a factor of 10^4 (basis points): to 10^-8 USD.
    scale = 10 ** max(decimals) * BASIS_POINTS
    collateral = sum(balances[a] * weights[equity_key(j)] for j, a in enumerate(asset_names, start=1))
    debt = sum(balances.get(a + DEBT_LABEL, 0) * -weights[debt_key(j)] for j, a in enumerate(asset_names, start=1))
    return {
        "equity": {a: balances[a] for a in asset_names},
        "debt": {a: balances.get(a + DEBT_LABEL, 0) for a in asset_names},
        "collateral_usd_units": collateral // scale,
        "debt_usd_units": -(-debt // scale),
        "covered": collateral >= debt,
    }

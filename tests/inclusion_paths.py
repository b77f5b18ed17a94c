"""The verification paths of a customer's inclusion file, as the CLI runs them, for the tables that drive them all
with the same cases: the Python round.json path (``verify-inclusion --round``), the Python chain path (``--rpc
--registry``, alone and with ``--round``) and the registry's view (``--onchain``)."""

from __future__ import annotations

from zksolvency.artifacts import ArtifactError, InclusionFile
from zksolvency.audit import check_inclusion
from zksolvency.onchain import ViewCheck, recorded_keys
from zksolvency.verifier.inclusion import InclusionError


def verdict(check) -> str:
    """What a path says: "VALID", "MALFORMED" (the file does not parse) or the name of the refusing rule."""
    try:
        check()
        return "VALID"
    except ArtifactError:
        return "MALFORMED"
    except InclusionError as e:
        return e.rule.name


def paths(statement, keys, registry, measure_gas=True):
    """Each verification path as the CLI runs it, from the file's JSON and the customer's id."""
    names = [a.name for a in statement.assets]

    def round_file(obj, uid):
        return check_inclusion(InclusionFile.from_json(obj, "case"), keys, statement.round_id, names, uid)

    def chain(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        chain_keys, recorded = recorded_keys(registry, inclusion.round_id)
        return check_inclusion(inclusion, chain_keys, inclusion.round_id, recorded["assets"], uid)

    def chain_and_round_file(obj, uid):
        chain_keys, _ = recorded_keys(registry, statement.round_id, keys)
        return check_inclusion(InclusionFile.from_json(obj, "case"), chain_keys, statement.round_id, names, uid)

    def view(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        chain_keys, recorded = recorded_keys(registry, inclusion.round_id)
        return check_inclusion(inclusion, chain_keys, inclusion.round_id, recorded["assets"], uid,
                               ViewCheck(registry, inclusion.round_id, measure_gas))

    return {"round": round_file, "chain": chain, "chain+round": chain_and_round_file, "view": view}


# Why the registry's view reverts rather than answering with a rule (the round's state, not the customer's
# records), as the rule every Python chain path reports for it (zksolvency.onchain.recorded_round).
VIEW_REVERTS = {"UnknownRound": "ROUND_ID", "RoundNotComplete": "ROUND_ID", "ShardedRound": "SHARD",
                "BadShard": "SHARD", "NotSharded": "SHARD"}


def sharded_paths(statement, keys_by_shard, registry, measure_gas=True):
    """The paths of a sharded round's customer file: ``paths``' four, each taking the shard the file names
    (round file: its shard's verified keys; chain: that shard's record), and the registry's own view called
    directly with the file's shard ("registry": its code, or the rule of its revert, VIEW_REVERTS)."""
    from zksolvency.audit import check_identity, records_of, shard_of
    from zksolvency.onchain import _reason, inclusion_calldata, margin_inclusion_calldata
    from zksolvency.verifier.inclusion import Rule

    names = [a.name for a in statement.assets]

    def round_file(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        check_identity(inclusion, statement.round_id, uid)
        keys = keys_by_shard[shard_of(statement, inclusion)]
        return check_inclusion(inclusion, keys, statement.round_id, names, uid)

    def chain(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        chain_keys, recorded = recorded_keys(registry, inclusion.round_id, shard=inclusion.shard)
        return check_inclusion(inclusion, chain_keys, inclusion.round_id, recorded["assets"], uid)

    def chain_and_round_file(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        check_identity(inclusion, statement.round_id, uid)
        shard = shard_of(statement, inclusion)
        chain_keys, _ = recorded_keys(registry, statement.round_id, keys_by_shard[shard], shard=shard)
        return check_inclusion(inclusion, chain_keys, statement.round_id, names, uid)

    def view(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        chain_keys, recorded = recorded_keys(registry, inclusion.round_id, shard=inclusion.shard)
        return check_inclusion(inclusion, chain_keys, inclusion.round_id, recorded["assets"], uid,
                               ViewCheck(registry, inclusion.round_id, measure_gas, inclusion.shard))

    def registry_view(obj, uid):
        inclusion = InclusionFile.from_json(obj, "case")
        # Any shard's keys tell records_of the round's kind (a margin round's weights are every shard's).
        records = records_of(inclusion, names, next(iter(keys_by_shard.values()), None))
        if statement.margin is None:
            args, view = inclusion_calldata(records), registry.functions.inclusionFailure
        else:  # the round's weights, as its terms and the registered decimals make them
            weights = statement.margin.weights([a.decimals for a in statement.assets])
            args, view = margin_inclusion_calldata(records, weights), registry.functions.marginInclusionFailure
        if inclusion.shard is not None:
            args = (inclusion.shard,) + args
        try:
            code = view(inclusion.round_id, *args).call()
        except Exception as e:
            reason = _reason(e)
            raise InclusionError(Rule[VIEW_REVERTS[reason.partition("(")[0]]], reason) from None
        if code:
            raise InclusionError(Rule(code), f"the registry's view: {Rule(code).name}")

    return {"round": round_file, "chain": chain, "chain+round": chain_and_round_file, "view": view,
            "registry": registry_view}

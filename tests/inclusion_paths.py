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

"""Rounds in the shapes production uses, through both verifiers and the registry: 2^16 rows (16-bit limbs),
a balance of exactly 2^64 - 1 units, and every slot count from 2 to 16."""

from __future__ import annotations

import pytest
from eth_account import Account

from zksolvency.audit import check_inclusion, round_keys, verify_round
from zksolvency.chain import anvil, connect
from zksolvency.circuits.solvency import limb_bits_for
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    ViewCheck,
    deploy_round_contracts,
    publish,
    recorded_keys,
    register_round_assets,
    registry_contract,
)
from zksolvency.round import prove_round
from zksolvency.sample import SAMPLE_ASSETS, decimals_spec, write_sample_ledger
from zksolvency.verifier.inclusion import InclusionError, Rule

OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0
ASSETS = SAMPLE_ASSETS + (("RAW", 0, 5.0),)  # an asset counted in whole units, to hold 2^64 - 1 of them
MAX_UNITS = (1 << 64) - 1
WHALE = "whale"


@pytest.fixture(scope="module")
def chain():
    with anvil() as url:
        yield connect(url)


def _round(tmp_path, srs, users: int, slots: int, round_id: str):
    path = tmp_path / f"{round_id}.csv"
    write_sample_ledger(path, users, seed=slots, assets=ASSETS)
    with open(path, "a", encoding="utf-8") as f:  # the whale holds 2^64 - 1 RAW and some of every other asset
        f.write(WHALE + "," + ",".join("1" for _ in ASSETS[:-1]) + f",{MAX_UNITS}\n")
    ledger = read_ledger(path, parse_decimals(decimals_spec(ASSETS)))
    return prove_round(ledger, srs, round_id, slots=slots)


def _whale_file(r):
    return r.inclusion_file(r.user_ids.index(WHALE))


def _through_everything(chain, r):
    """Python verify, the generated verifier and the registry (submitRound), then the whale's file on every path,
    and its twin with one unit more (2^64) refused everywhere."""
    import dataclasses

    st = r.statement
    keys = round_keys(verify_round(st, allow_insecure_srs=True))
    owner = Account.from_key(OWNER_KEY)
    d = deploy_round_contracts(chain, owner, st)
    registry = registry_contract(chain, d.registry)
    register_round_assets(chain, registry, owner, st)
    publish(chain, registry, owner, st)
    chain_keys, _ = recorded_keys(registry, st.round_id, keys)
    names = [a.name for a in st.assets]
    whale = _whale_file(r)
    raw = [(i, k) for i, rec in enumerate(whale.records) for k, (a, _) in enumerate(rec.slots) if a == "RAW"]
    (i, k), = raw
    slots = list(whale.records[i].slots)
    slots[k] = ("RAW", MAX_UNITS + 1)
    over = dataclasses.replace(whale, records=whale.records[:i] + (
        dataclasses.replace(whale.records[i], slots=tuple(slots)),) + whale.records[i + 1:])
    for path_keys, final in ((keys, None), (chain_keys, None), (chain_keys, ViewCheck(registry, st.round_id))):
        balances = check_inclusion(whale, path_keys, st.round_id, names, WHALE, final)
        assert balances["RAW"] == MAX_UNITS and balances["BTC"] == 10**8  # "1" BTC in satoshi
        with pytest.raises(InclusionError) as refused:
            check_inclusion(over, path_keys, st.round_id, names, WHALE, final)
        assert refused.value.rule == Rule.UNITS_RANGE
    return keys


@pytest.mark.parametrize("slots", [2, 4, 8, 12])
def test_every_deployable_slot_count_through_both_verifiers_and_the_registry(chain, tmp_path, dev_srs, slots):
    r = _round(tmp_path, dev_srs, 40, slots, f"slots-{slots}")
    assert r.statement.slots == slots and len(_whale_file(r).records) == -(-len(ASSETS) // slots)
    _through_everything(chain, r)


def test_sixteen_slots_verify_in_python_and_are_refused_for_the_chain_before_anything_is_sent(chain, tmp_path,
                                                                                              dev_srs):
    """Sixteen slots a record make a verifier of about 28 KB even at the smallest code, over EIP-170's 24,576
    bytes: such a round is checked in Python only, and deploy says why."""
    from zksolvency.chain import ChainError
    from zksolvency.onchain import compile_round_contracts

    r = _round(tmp_path, dev_srs, 40, 16, "slots-16")
    keys = round_keys(verify_round(r.statement, allow_insecure_srs=True))
    names = [a.name for a in r.statement.assets]
    assert check_inclusion(_whale_file(r), keys, r.statement.round_id, names, WHALE)["RAW"] == MAX_UNITS
    nonce = chain.eth.get_transaction_count(Account.from_key(OWNER_KEY).address)
    with pytest.raises(ChainError, match="over the EVM's 24,576-byte limit"):
        compile_round_contracts(r.statement)
    assert chain.eth.get_transaction_count(Account.from_key(OWNER_KEY).address) == nonce


def test_a_round_of_2_16_rows_with_16_bit_limbs(chain, tmp_path):
    from zksolvency.prover.srs import dev_setup

    r = _round(tmp_path, dev_setup(16), 17_000, 4, "rows-2^16")
    assert r.statement.log_n == 16 and limb_bits_for(r.statement.log_n) == 16
    assert r.statement.verifying_key.circuit.endswith("/limb=16/public")
    _through_everything(chain, r)

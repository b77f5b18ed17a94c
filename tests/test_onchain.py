"""On a real local chain (anvil): the generated verifier and the registry agree with the Python verifier."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from eth_account import Account

from zksolvency.artifacts import InclusionFile, InclusionRow
from zksolvency.audit import check_inclusion, verify_round
from zksolvency.chain import ChainError, anvil, compile_solidity, connect, deploy, send
from zksolvency.encoding import G1Point
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    check_inclusion_onchain,
    compile_round_contracts,
    deploy_round_contracts,
    publish,
    recorded_round,
    register_reserve,
)
from zksolvency.round import prove_round
from zksolvency.sample import decimals_spec, write_sample_ledger
from zksolvency.verifier.inclusion import InclusionError
from zksolvency.verifier.plonk import VerificationError

# anvil's well-known development keys (accounts 0 and 1), funded on every fresh anvil.
KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
]
FOUR_ASSETS = (("BTC", 8, 0.05), ("ETH", 9, 1.5), ("USDT", 6, 800.0), ("SOL", 9, 20.0))


@pytest.fixture(scope="module")
def chain():
    with anvil() as url:
        yield connect(url)


def _round(tmp_path, srs, round_id, assets=FOUR_ASSETS, users=60, slots=2, reserves=None, seed=3):
    path = tmp_path / f"{round_id}.csv"
    write_sample_ledger(path, users, seed=seed, assets=assets)
    ledger = read_ledger(path, parse_decimals(decimals_spec(assets)))
    r = prove_round(ledger, srs, round_id, slots=slots, private_totals=reserves is not None, reserves=reserves)
    return r, ledger


@pytest.fixture(scope="module")
def public_round(tmp_path_factory, dev_srs):
    return _round(tmp_path_factory.mktemp("onchain"), dev_srs, "chain-1")


@pytest.fixture(scope="module")
def deployed(chain, public_round):
    r, _ = public_round
    owner = Account.from_key(KEYS[0])
    compiled = compile_round_contracts(r.statement)
    d = deploy_round_contracts(chain, owner, r.statement, compiled)
    registry = chain.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
    verifier = chain.eth.contract(address=d.verifier, abi=compiled["SolvencyVerifier"]["abi"])
    return owner, registry, verifier, compiled


def _selector(signature: str) -> str:
    from zksolvency.verifier.transcript import keccak256

    return "0x" + keccak256(signature.encode())[:4].hex()


def _rejects_onchain(verifier, proof, inputs) -> bool:
    try:
        verifier.functions.verifyProof(proof, inputs).call()
        return False
    except Exception:
        return True


def test_valid_round_is_accepted_recorded_and_not_replayed(chain, public_round, deployed):
    r, _ = public_round
    owner, registry, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    assert verifier.functions.verifyProof(r.statement.proof, inputs).call() is True
    receipt = publish(chain, registry, owner, r.statement)
    recorded = recorded_round(registry, r.statement.round_id)
    c = r.statement.inclusion_commitment
    assert recorded["commitment"] == (c.x, c.y) and recorded["block"] == receipt["blockNumber"]
    with pytest.raises(ChainError, match="RoundExists|refuses"):
        publish(chain, registry, owner, r.statement)


def test_every_single_byte_change_is_rejected_like_the_python_verifier(public_round, deployed):
    r, _ = public_round
    _, _, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    proof = r.statement.proof
    for i in range(len(proof)):
        tampered = bytearray(proof)
        tampered[i] ^= 1 << (i % 8)
        tampered = bytes(tampered)
        assert _rejects_onchain(verifier, tampered, inputs), i
        with pytest.raises(VerificationError):
            verify_round(dataclasses.replace(r.statement, proof=tampered), allow_insecure_srs=True)


def test_changed_public_inputs_and_other_shapes_are_rejected(tmp_path, dev_srs, public_round, deployed):
    r, _ = public_round
    _, registry, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    for k in range(len(inputs)):
        changed = list(inputs)
        changed[k] += 1
        assert _rejects_onchain(verifier, r.statement.proof, changed)
        with pytest.raises(VerificationError):
            verify_round(dataclasses.replace(r.statement, values=tuple(changed[1:]), public_inputs=tuple(changed)),
                         allow_insecure_srs=True)
    other, _ = _round(tmp_path, dev_srs, "other-shape", slots=4)
    assert _rejects_onchain(verifier, other.statement.proof, list(other.statement.public_inputs))


def _inclusion_of(r, ledger, u: int) -> InclusionFile:
    names = [a.name for a in r.statement.assets]
    rows = []
    for k in range(r.plan.records):
        if int(r.plan.user[k]) != u:
            continue
        slots = tuple((names[a - 1] if a else None, int(b)) for a, b in zip(r.plan.assets[k], r.plan.units[k]))
        rows.append(InclusionRow(int(r.positions[k]), slots, G1Point.from_bytes(r.openings[64 * k : 64 * k + 64])))
    return InclusionFile(r.statement.round_id, ledger.user_ids[u], r.salts[u], tuple(rows))


def test_inclusion_view_and_local_check_agree(public_round, deployed):
    r, ledger = public_round
    _, registry, _, _ = deployed
    names = [a.name for a in r.statement.assets]
    verified = verify_round(r.statement, allow_insecure_srs=True)
    n = 1 << r.statement.log_n
    for u in (0, 5):
        good = _inclusion_of(r, ledger, u)
        first = good.rows[0]
        raised = dataclasses.replace(first, slots=((first.slots[0][0] or "BTC", first.slots[0][1] + 1),) + first.slots[1:])
        cases = {
            "valid": (good, True),
            "raised balance": (dataclasses.replace(good, rows=(raised,) + good.rows[1:]), False),
            "other salt": (dataclasses.replace(good, salt=b"\1" * 32), False),
            "next record": (dataclasses.replace(good, rows=(dataclasses.replace(first, row=(first.row + 2) % n),)), False),
            "odd row": (dataclasses.replace(good, rows=(dataclasses.replace(first, row=first.row + 1),)), False),
        }
        for name, (inclusion, expected) in cases.items():
            onchain, gas = check_inclusion_onchain(registry, inclusion, names)
            try:
                check_inclusion(inclusion, verified)
                local = True
            except InclusionError:
                local = False
            assert onchain == local == expected, name


def test_an_odd_row_is_refused_onchain_even_with_a_valid_opening(chain, dev_srs, public_round, deployed):
    """No constraint covers the user hash on odd rows, where the inclusion column pairs the second half
    of one record with the first half of the next: a cheating exchange can put a hash there and prove
    the round. Its opening holds, so the registry, like the local check, must refuse the odd row."""
    from zksolvency.circuits.constraint_system import GAMMA
    from zksolvency.hashing import round_tag, user_hash
    from zksolvency.onchain import circuit_of
    from zksolvency.prover.field import Fr
    from zksolvency.prover.openings import single_opening
    from zksolvency.prover.plonk import keygen, prove_with_polynomials
    from zksolvency.verifier.formats import Proof
    from zksolvency.circuits.solvency import inclusion_values
    from zksolvency.verifier.inclusion import combine, opening_holds

    r, _ = public_round
    owner, registry, _, _ = deployed
    st = r.statement
    circuit = circuit_of(st)
    shape, names = circuit.shape, [a.name for a in st.assets]
    rng = np.random.default_rng(5)
    hashes = np.zeros((shape.records, 4), dtype=np.uint64)
    assets = np.zeros((shape.records, shape.slots), dtype=np.uint32)
    units = np.zeros((shape.records, shape.slots), dtype=np.uint64)
    hashes[:2] = Fr.to_canonical_limbs(Fr.random(2, rng))
    assets[:2] = rng.integers(1, len(names) + 1, size=(2, shape.slots))
    units[:2] = rng.integers(1, 1 << 30, size=(2, shape.slots), dtype=np.uint64)
    totals = [int(units[assets == j].astype(object).sum()) for j in range(1, len(names) + 1)]
    round_id, user_id, salt = "forged-odd-row", "mallory", b"\7" * 32
    h = user_hash(round_id, user_id, salt)
    witness = circuit.witness(hashes, assets, units, None, None)
    forged = witness.with_columns({circuit.user_hash: witness[circuit.user_hash].copy()})
    forged[circuit.user_hash][1] = Fr.from_ints([h])[0]
    srs = dev_srs.truncated(st.log_n)
    public = [round_tag(round_id)] + totals
    pk = keygen(circuit.cs, st.log_n, srs, circuit.fixed)
    proof, polys = prove_with_polynomials(pk, forged, public)
    parsed = Proof.from_bytes(proof, pk.layout)
    commitment = parsed.argument_commitments[pk.layout.argument_columns.index(circuit.inclusion)]
    statement = dataclasses.replace(st, round_id=round_id, values=tuple(totals), public_inputs=tuple(public),
                                    proof=proof, inclusion_commitment=commitment)
    publish(chain, registry, owner, statement)  # the proof is valid: the round is recorded

    half = shape.row_slots
    shown = [(int(assets[0, s]), int(units[0, s])) for s in range(half, shape.slots)]
    shown += [(int(assets[1, s]), int(units[1, s])) for s in range(half)]
    pi = single_opening(srs, polys[circuit.inclusion], st.log_n, 1)
    verified = verify_round(statement, allow_insecure_srs=True)
    gamma = verified.verified.challenges[GAMMA]
    assert opening_holds(st.verifying_key, commitment, 1, combine(inclusion_values(h, shown), gamma), pi)
    row = InclusionRow(1, tuple((names[a - 1], u) for a, u in shown), pi)
    inclusion = InclusionFile(round_id, user_id, salt, (row,))
    with pytest.raises(InclusionError, match="odd"):
        check_inclusion(inclusion, verified)
    assert check_inclusion_onchain(registry, inclusion, names)[0] is False


def test_private_totals_against_reserves_held_onchain(chain, tmp_path, dev_srs):
    owner, eth_holder = (Account.from_key(k) for k in KEYS)
    token_holder = Account.create()
    send(chain, owner, {"to": token_holder.address, "value": 10**18, "from": owner.address, "gas": 21000,
                        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    assets = (("ETH", 9, 1.5), ("TOK", 6, 100.0))
    token_src = (compile_solidity.__globals__["CONTRACTS"] / "test" / "TestToken.sol").read_text()
    token_compiled = compile_solidity({"TestToken.sol": token_src})["TestToken"]
    token_address = deploy(chain, token_compiled, owner, "Test token", 6)
    token = chain.eth.contract(address=token_address, abi=token_compiled["abi"])
    send(chain, owner, token.functions.mint(token_holder.address, 10**12).build_transaction({"from": owner.address}))

    def make(round_id, seed):
        # The exchange proves against the reserves the registry will read at submission.
        units = {"ETH": registry.functions.reserveUnits("ETH", 9).call(),
                 "TOK": registry.functions.reserveUnits("TOK", 6).call()}
        return _round(tmp_path, dev_srs, round_id, assets=assets, reserves=units, seed=seed)[0]

    first, _ = _round(tmp_path, dev_srs, "probe", assets=assets, reserves={"ETH": 10**30, "TOK": 10**30})
    compiled = compile_round_contracts(first.statement)
    d = deploy_round_contracts(chain, owner, first.statement, compiled)
    registry = chain.eth.contract(address=d.registry, abi=compiled["SolvencyRegistry"]["abi"])
    register_reserve(chain, registry, owner, eth_holder, "ETH")
    register_reserve(chain, registry, owner, token_holder, "TOK", token_address)
    # A signature by another key than the holder's is refused.
    from eth_account.messages import encode_defunct

    zero = "0x" + "00" * 20
    message = registry.functions.reserveMessage("ETH", eth_holder.address, zero).call()
    forged = token_holder.sign_message(encode_defunct(primitive=message)).signature
    with pytest.raises(Exception, match=_selector("BadSignature()")):
        registry.functions.registerReserve("ETH", eth_holder.address, zero, forged).call({"from": owner.address})

    covered = make("private-1", seed=4)
    publish(chain, registry, owner, covered.statement)
    assert recorded_round(registry, "private-1")["block"] > 0

    emptied = make("private-2", seed=5)
    send(chain, token_holder, token.functions.transfer(owner.address, 10**12).build_transaction(
        {"from": token_holder.address}))
    with pytest.raises(ChainError, match="refuses"):
        publish(chain, registry, owner, emptied.statement)


def test_cli_deploy_publish_and_check_inclusion(chain, tmp_path, dev_srs, monkeypatch):
    import json

    from click.testing import CliRunner

    from zksolvency.cli import main

    url = chain.provider.endpoint_uri
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args])
        assert (result.exit_code == 0) == ok, result.output
        return result

    dev_srs.truncated(9).save(tmp_path / "srs.bin")
    write_sample_ledger(tmp_path / "ledger.csv", 40, seed=8, assets=FOUR_ASSETS)
    run("prove", tmp_path / "ledger.csv", "--srs", tmp_path / "srs.bin", "--decimals", decimals_spec(FOUR_ASSETS),
        "--out", tmp_path / "round", "--round-id", "cli-1", "--slots", "2")
    monkeypatch.delenv("ZKSOLVENCY_PRIVATE_KEY", raising=False)
    assert "ZKSOLVENCY_PRIVATE_KEY" in run("deploy", tmp_path / "round", "--rpc", url, "--allow-insecure-srs",
                                           ok=False).output
    monkeypatch.setenv("ZKSOLVENCY_PRIVATE_KEY", KEYS[0])
    assert "insecure" in run("deploy", tmp_path / "round", "--rpc", url, ok=False).output
    addresses = json.loads(run("deploy", tmp_path / "round", "--rpc", url, "--allow-insecure-srs", "--json").stdout)
    out = json.loads(run("publish", tmp_path / "round", "--rpc", url, "--registry", addresses["registry"],
                         "--json").stdout)
    assert out["gas_used"] > 0 and out["block"] > 0
    again = run("publish", tmp_path / "round", "--rpc", url, "--registry", addresses["registry"], ok=False)
    assert "refuses" in again.output
    ledger = read_ledger(tmp_path / "ledger.csv", parse_decimals(decimals_spec(FOUR_ASSETS)))
    uid = ledger.user_ids[3]
    run("inclusion", tmp_path / "round", "--user", uid, "--out", tmp_path / "u.json")
    local = json.loads(run("verify-inclusion", tmp_path / "u.json", "--rpc", url, "--registry",
                           addresses["registry"], "--json").stdout)
    onchain = json.loads(run("verify-inclusion", tmp_path / "u.json", "--rpc", url, "--registry",
                             addresses["registry"], "--onchain", "--json").stdout)
    assert local["valid"] and onchain["valid"] and onchain["gas"] > 0
    assert local["balances"] == onchain["balances"]
    data = json.loads((tmp_path / "u.json").read_text(encoding="utf-8"))
    slot = next(s for s in data["rows"][0]["slots"] if s["asset"])
    slot["units"] = str(int(slot["units"]) + 1)
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    for extra in ([], ["--onchain"]):
        result = run("verify-inclusion", tmp_path / "bad.json", "--rpc", url, "--registry", addresses["registry"],
                     "--json", *extra, ok=False)
        assert json.loads(result.stdout)["valid"] is False

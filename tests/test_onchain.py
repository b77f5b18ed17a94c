"""On a real local chain (anvil): the generated verifier and the registry agree with the Python verifier."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from eth_account import Account

from zksolvency.artifacts import InclusionFile, InclusionRecord
from zksolvency.audit import check_inclusion, verify_round
from zksolvency.constants import R_MODULUS
from zksolvency.chain import ChainError, anvil, compile_solidity, connect, deploy
from zksolvency.ingest import parse_decimals, read_ledger
from zksolvency.onchain import (
    compile_round_contracts,
    deploy_round_contracts,
    publish,
    recorded_round,
    register_round_assets,
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
    register_round_assets(chain, registry, owner, r.statement)
    return owner, registry, verifier, compiled


def _selector(signature: str) -> str:
    from zksolvency.verifier.transcript import keccak256

    return "0x" + keccak256(signature.encode())[:4].hex()


# What the generated verifier reverts with (contracts/Verifier.sol.template): a refusal names one of these.
VERIFIER_REASONS = ("zksolvency: wrong proof length", "zksolvency: point not reduced", "zksolvency: point not on curve",
                    "zksolvency: bad proof header", "zksolvency: scalar not reduced", "zksolvency: quotient identity",
                    "zksolvency: pairing check failed", "zksolvency: public input >= r", "zksolvency: too few public inputs",
                    "zksolvency: too many public inputs")


def _refusal(verifier, proof, inputs) -> str:
    """The verifier's own revert reason for (proof, inputs); fails the test on any other outcome."""
    from web3.exceptions import ContractLogicError

    try:
        verifier.functions.verifyProof(proof, inputs).call()
    except ContractLogicError as e:
        reason = str(e.message).replace("execution reverted: ", "")
        assert reason in VERIFIER_REASONS, reason
        return reason
    raise AssertionError("the verifier accepted")


def test_valid_round_is_accepted_recorded_and_not_replayed(chain, public_round, deployed):
    r, _ = public_round
    owner, registry, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    assert verifier.functions.verifyProof(r.statement.proof, inputs).call() is True
    receipt = publish(chain, registry, owner, r.statement)
    recorded = recorded_round(registry, r.statement.round_id)
    c = r.statement.inclusion_commitment
    assert recorded["commitment"] == (c.x, c.y) and recorded["block"] == receipt["blockNumber"]
    with pytest.raises(ChainError, match="refuses the round: RoundExists"):
        publish(chain, registry, owner, r.statement)


def test_every_single_byte_change_is_rejected_like_the_python_verifier(public_round, deployed):
    r, _ = public_round
    _, _, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    proof = r.statement.proof
    assert verifier.functions.verifyProof(proof, inputs).call() is True  # the positive twin
    verify_round(r.statement, allow_insecure_srs=True)
    reasons = set()
    for i in range(len(proof)):
        tampered = bytearray(proof)
        tampered[i] ^= 1 << (i % 8)
        tampered = bytes(tampered)
        reasons.add(_refusal(verifier, tampered, inputs))
        with pytest.raises(VerificationError):
            verify_round(dataclasses.replace(r.statement, proof=tampered), allow_insecure_srs=True)
    assert {"zksolvency: bad proof header", "zksolvency: point not on curve", "zksolvency: quotient identity"} <= reasons


def test_changed_public_inputs_and_other_shapes_are_rejected(tmp_path, dev_srs, public_round, deployed):
    r, _ = public_round
    _, registry, verifier, _ = deployed
    inputs = list(r.statement.public_inputs)
    assert verifier.functions.verifyProof(r.statement.proof, inputs).call() is True  # the positive twin
    for k in range(len(inputs)):
        changed = list(inputs)
        changed[k] += 1
        assert _refusal(verifier, r.statement.proof, changed) in ("zksolvency: quotient identity",
                                                                   "zksolvency: pairing check failed")
        with pytest.raises(VerificationError):
            verify_round(dataclasses.replace(r.statement, values=tuple(changed[1:]), public_inputs=tuple(changed)),
                         allow_insecure_srs=True)
    assert _refusal(verifier, r.statement.proof, inputs[:-1] + [R_MODULUS]) == "zksolvency: public input >= r"
    other, _ = _round(tmp_path, dev_srs, "other-shape", slots=4)
    assert _refusal(verifier, other.statement.proof, list(other.statement.public_inputs)) == (
        "zksolvency: wrong proof length")


def test_an_odd_row_is_refused_on_every_path_even_with_a_valid_opening(chain, dev_srs, public_round, deployed):
    """No constraint covers the hash column on odd rows, where the inclusion column pairs the second half
    of one record with the first half of the next: a cheating exchange can put a record hash there and prove
    the round, showing the slots of row 1 to two customers. Its opening holds, so every path must refuse
    the odd row, with the same rule."""
    from zksolvency.audit import records_of, round_keys
    from zksolvency.hashing import record_hash, round_tag, user_prefix
    from zksolvency.onchain import ViewCheck, circuit_of, recorded_keys
    from zksolvency.prover.field import Fr
    from zksolvency.prover.openings import single_opening
    from zksolvency.prover.plonk import keygen, prove_with_polynomials
    from zksolvency.verifier.formats import Proof
    from zksolvency.verifier.inclusion import Rule, combine, opening_holds

    r, _ = public_round
    owner, registry, _, _ = deployed
    st = r.statement
    circuit = circuit_of(st)
    shape, names = circuit.shape, [a.name for a in st.assets]
    assert shape.slots == 2
    hashes = np.zeros((shape.records, 4), dtype=np.uint64)
    assets = np.zeros((shape.records, shape.slots), dtype=np.uint32)
    units = np.zeros((shape.records, shape.slots), dtype=np.uint64)
    hashes[:2] = Fr.to_canonical_limbs(Fr.random(2, np.random.default_rng(5)))
    assets[:2] = [[1, 2], [3, 4]]
    units[:2] = [[10, 20], [30, 40]]
    totals = [int(units[assets == j].astype(object).sum()) for j in range(1, len(names) + 1)]
    round_id, user_id, salt = "forged-odd-row", "mallory", b"\7" * 32
    shown = [(2, 20), (3, 30)]  # row 1's combination: record 0's second half, record 1's first half
    h = record_hash(user_prefix(round_id, user_id, salt), 0, 1, shown)
    witness = circuit.witness(hashes, assets, units, None, None)
    forged = witness.with_columns({circuit.record_hash: witness[circuit.record_hash].copy()})
    forged[circuit.record_hash][1] = Fr.from_ints([h])[0]
    srs = dev_srs.truncated(st.log_n)
    public = [round_tag(round_id, st.timestamp, [(a.name, a.decimals) for a in st.assets])] + totals
    pk = keygen(circuit.cs, st.log_n, srs, circuit.fixed)
    proof, polys = prove_with_polynomials(pk, forged, public)
    parsed = Proof.from_bytes(proof, pk.layout)
    commitment = parsed.argument_commitments[pk.layout.argument_columns.index(circuit.inclusion)]
    statement = dataclasses.replace(st, round_id=round_id, values=tuple(totals), public_inputs=tuple(public),
                                    proof=proof, inclusion_commitment=commitment)
    publish(chain, registry, owner, statement)  # the proof is valid: the round is recorded

    pi = single_opening(srs, polys[circuit.inclusion], st.log_n, 1)
    keys = round_keys(verify_round(statement, allow_insecure_srs=True))
    assert opening_holds(keys, commitment, 1, combine([h] + [v for slot in shown for v in slot], keys.gamma), pi)
    inclusion = InclusionFile(round_id, user_id, salt, (InclusionRecord(1, tuple((names[a - 1], u) for a, u in shown),
                                                                        pi),), tuple(names))
    assert records_of(inclusion, names)[0].record_hash == h
    chain_keys, _ = recorded_keys(registry, round_id, keys)
    for final in (None, ViewCheck(registry, round_id)):
        for k in (keys, chain_keys):
            with pytest.raises(InclusionError) as refused:
                check_inclusion(inclusion, k, round_id, names, user_id, final)
            assert refused.value.rule == Rule.ODD_ROW


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
    unregistered = run("publish", tmp_path / "round", "--rpc", url, "--registry", addresses["registry"], ok=False)
    assert "the registry has no asset 'BTC': register it before publishing" in unregistered.output
    for name, decimals, _ in FOUR_ASSETS:
        run("register-asset", "--rpc", url, "--registry", addresses["registry"], "--asset", name, "--decimals",
            decimals, "--offchain")
    out = json.loads(run("publish", tmp_path / "round", "--rpc", url, "--registry", addresses["registry"],
                         "--json").stdout)
    assert out["gas_used"] > 0 and out["block"] > 0
    again = run("publish", tmp_path / "round", "--rpc", url, "--registry", addresses["registry"], ok=False)
    assert "refuses the round: RoundExists" in again.output
    ledger = read_ledger(tmp_path / "ledger.csv", parse_decimals(decimals_spec(FOUR_ASSETS)))
    uid = ledger.user_ids[3]
    run("inclusion", tmp_path / "round", "--user", uid, "--out", tmp_path / "u.json")
    local = json.loads(run("verify-inclusion", tmp_path / "u.json", "--user-id", uid, "--rpc", url, "--registry",
                           addresses["registry"], "--json").stdout)
    onchain = json.loads(run("verify-inclusion", tmp_path / "u.json", "--user-id", uid, "--rpc", url, "--registry",
                             addresses["registry"], "--onchain", "--json").stdout)
    assert local["valid"] and onchain["valid"] and onchain["gas"] > 0
    assert local["balances"] == onchain["balances"]
    data = json.loads((tmp_path / "u.json").read_text(encoding="utf-8"))
    slot = next(s for s in data["records"][0]["slots"] if s["asset"])
    slot["units"] = str(int(slot["units"]) + 1)
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    for extra in ([], ["--onchain"]):
        result = run("verify-inclusion", tmp_path / "bad.json", "--user-id", uid, "--rpc", url, "--registry",
                     addresses["registry"], "--json", *extra, ok=False)
        out = json.loads(result.stdout)
        assert out["valid"] is False and out["rule"] == "OPENING"


def test_reserves_past_the_last_row_are_refused_by_both_verifiers(chain, dev_srs, monkeypatch):
    """Private mode with K = n + 1 assets: a cheating prover puts asset n + 1's reserves on row n, which is row
    0 (omega^n = 1), where they cover asset 1's liabilities. 150 units owed against 100 stated reserves prove;
    the verifiers must bound K by the rows (one rule: ConstraintSystem.max_public_inputs)."""
    from zksolvency.circuits.constraint_system import ConstraintSystem
    from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape
    from zksolvency.prover import plonk as prover
    from zksolvency.prover.field import Fr
    from zksolvency.verifier.plonk import verify
    from zksolvency.verifier.solidity import generate_verifier

    shape = SolvencyShape(8, 2, private_totals=True)
    circuit, n = SolvencyCircuit(shape), shape.n
    hashes = np.zeros((shape.records, 4), dtype=np.uint64)
    assets = np.zeros((shape.records, 2), dtype=np.uint32)
    units = np.zeros((shape.records, 2), dtype=np.uint64)
    hashes[0, 0], assets[0, 0], units[0, 0] = 7, 1, 150
    row_reserves = [150] + [0] * (n - 1)  # what row 0 holds once the wrapped reserves are added up
    witness = circuit.witness(hashes, assets, units, [150] + [0] * (n - 1), row_reserves)
    stated = [100] + [0] * (n - 1) + [50]  # K = n + 1: asset n + 1's 50 land on row 0
    public = [12345] + stated  # the tag's value does not matter to the circuit

    def wrapped(cs, rows, public_inputs):  # the cheating prover: values past the last row wrap around
        out = {}
        for inst in cs.instances:
            acc = [0] * rows
            for k, v in enumerate(public_inputs[inst.public_start:]):
                acc[(inst.row_start + k) % rows] += v
            out[inst.column] = Fr.from_ints(acc)
        return out

    monkeypatch.setattr(prover, "instance_values", wrapped)
    pk = prover.keygen(circuit.cs, shape.log_n, dev_srs.truncated(shape.log_n), circuit.fixed)
    proof = prover.prove(pk, witness, public, strict=False)
    with pytest.raises(VerificationError, match="do not fit the circuit's instance columns of 256 rows"):
        verify(circuit.cs, pk.vk, public, proof, allow_insecure_srs=True)
    # Without the bound the forgery holds: the bound is what refuses it.
    with monkeypatch.context() as m:
        m.setattr(ConstraintSystem, "max_public_inputs", lambda self, rows: None)
        verify(circuit.cs, pk.vk, public, proof, allow_insecure_srs=True)
    compiled = compile_solidity({"V.sol": generate_verifier(circuit.cs, pk.vk, contract="V")})["V"]
    address = deploy(chain, compiled, Account.from_key(KEYS[0]))
    verifier = chain.eth.contract(address=address, abi=compiled["abi"])
    assert _refusal(verifier, proof, public) == "zksolvency: too many public inputs"


def test_audit_deployment_matches_the_honest_deployment_and_names_every_rigged_part(chain, dev_srs, public_round,
                                                                                     deployed, tmp_path):
    import json

    from click.testing import CliRunner

    from zksolvency.cli import main
    from zksolvency.onchain import REGISTRY_SOURCE, audit_deployment, circuit_of
    from zksolvency.prover.field import Fr
    from zksolvency.prover.plonk import keygen
    from zksolvency.prover.srs import dev_setup

    r, _ = public_round
    owner, registry, verifier, _ = deployed
    st = r.statement
    honest = audit_deployment(chain, registry.address, dev_srs, st)
    assert honest.matches and honest.verifier == verifier.address, honest.differences
    dev_srs.truncated(st.log_n).save(tmp_path / "srs.bin")
    st.save(tmp_path / "round.json")
    out = CliRunner().invoke(main, ["audit-deployment", "--rpc", chain.provider.endpoint_uri, "--registry",
                                    registry.address, "--srs", str(tmp_path / "srs.bin"), "--round",
                                    str(tmp_path / "round.json"), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout) == {
        "verifier": verifier.address, "registry": registry.address, "matches": True,
        "srs": "0x" + dev_srs.truncated(st.log_n).digest.hex()}

    # A key whose range table holds one more value (what hides a liability), its verifier and a registry bound to it.
    circuit = circuit_of(st)
    fixed = circuit.fixed.with_columns({circuit.range: circuit.fixed[circuit.range].copy()})
    fixed[circuit.range][-1] = Fr.from_ints([R_MODULUS - 7])[0]
    rigged = dataclasses.replace(st, verifying_key=keygen(circuit.cs, st.log_n, dev_srs.truncated(st.log_n), fixed).vk)
    d = deploy_round_contracts(chain, owner, rigged)
    audit = audit_deployment(chain, d.registry, dev_srs, rigged)
    assert not audit.matches and any("not the circuit's for this SRS" in x for x in audit.differences)
    assert any(f"the verifier at {d.verifier} is not the one generated" in x for x in audit.differences)
    # The honest round's key, audited against another SRS than the one it was made from.
    assert not audit_deployment(chain, registry.address, dev_setup(st.log_n, seed="test"), st).matches
    # The honest verifier, with a registry that is not this project's (compiled otherwise).
    other = compile_solidity({"SolvencyRegistry.sol": REGISTRY_SOURCE.read_text().replace(
        "MAX_RESERVE_UNITS = (1 << 128) - 1", "MAX_RESERVE_UNITS = (1 << 200) - 1")})["SolvencyRegistry"]
    foreign = deploy(chain, other, owner, verifier.address, st.slots)
    audit = audit_deployment(chain, foreign, dev_srs, st)
    assert audit.differences == (f"the code at {foreign} is not this project's SolvencyRegistry",)

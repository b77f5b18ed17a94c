"""The proof system end to end: completeness on random circuits, and everything the verifier must reject."""

from __future__ import annotations

import pytest
from random_circuits import random_instance

from zksolvency.circuits.checker import ConstraintFailure, check
from zksolvency.constants import R_MODULUS
from zksolvency.prover.field import Fr
from zksolvency.prover.plonk import keygen, prove
from zksolvency.verifier.formats import Proof, VerifyingKey
from zksolvency.verifier.plonk import VerificationError, verify
from zksolvency.verifier.protocol import layout


def _setup(instance, srs):
    return keygen(instance.cs, instance.log_n, srs, instance.fixed)


@pytest.fixture(scope="module")
def proven(dev_srs):
    """One valid proof on a random circuit of 2^5 rows, shared by the rejection tests."""
    inst = random_instance(seed=1, log_n=5)
    pk = _setup(inst, dev_srs)
    proof = prove(pk, inst.witness, inst.public_inputs)
    return inst, pk, proof


@pytest.mark.parametrize("seed,log_n,gates", [(2, 4, 1), (3, 6, 2), (4, 8, 3), (5, 10, 2), (6, 12, 1)])
def test_completeness_on_random_circuits(dev_srs, seed, log_n, gates):
    inst = random_instance(seed, log_n, gates=gates)
    check(inst.cs, inst.fixed.with_columns({c: inst.witness[c] for c in inst.cs.witness_columns}), inst.public_inputs)
    pk = _setup(inst, dev_srs)
    proof = prove(pk, inst.witness, inst.public_inputs)
    assert len(proof) == Proof.size(layout(inst.cs, log_n))
    verify(inst.cs, pk.vk, inst.public_inputs, proof, allow_insecure_srs=True)


def test_dev_srs_refused_unless_allowed(proven):
    inst, pk, proof = proven
    with pytest.raises(VerificationError, match="insecure"):
        verify(inst.cs, pk.vk, inst.public_inputs, proof)


def test_every_single_byte_change_is_rejected(proven):
    inst, pk, proof = proven
    for i in range(len(proof)):
        tampered = bytearray(proof)
        tampered[i] ^= 1 << (i % 8)
        with pytest.raises(VerificationError):
            verify(inst.cs, pk.vk, inst.public_inputs, bytes(tampered), allow_insecure_srs=True)


def test_truncated_and_extended_proofs_are_rejected(proven):
    inst, pk, proof = proven
    for bad in (proof[:-1], proof + b"\0", b"", proof[:100]):
        with pytest.raises(VerificationError, match="expected"):
            verify(inst.cs, pk.vk, inst.public_inputs, bad, allow_insecure_srs=True)


def test_every_changed_public_input_is_rejected(proven):
    inst, pk, proof = proven
    for i in range(len(inst.public_inputs)):
        for delta in (1, R_MODULUS - 1):
            changed = list(inst.public_inputs)
            changed[i] = (changed[i] + delta) % R_MODULUS
            with pytest.raises(VerificationError):
                verify(inst.cs, pk.vk, changed, proof, allow_insecure_srs=True)
    with pytest.raises(VerificationError):
        verify(inst.cs, pk.vk, inst.public_inputs + [0], proof, allow_insecure_srs=True)
    with pytest.raises(VerificationError):
        verify(inst.cs, pk.vk, inst.public_inputs[:-1], proof, allow_insecure_srs=True)
    with pytest.raises(VerificationError, match="not a field element"):
        verify(inst.cs, pk.vk, [R_MODULUS] + inst.public_inputs[1:], proof, allow_insecure_srs=True)


def test_proof_replayed_against_another_verifying_key(proven, dev_srs):
    inst, pk, proof = proven
    # Same circuit, other fixed columns: another verifying key.
    other = random_instance(seed=1, log_n=5)
    other.fixed[other.cs.fixed_columns[0]] = Fr.ones(1 << 5)
    other_pk = keygen(inst.cs, inst.log_n, dev_srs, other.fixed)
    with pytest.raises(VerificationError):
        verify(inst.cs, other_pk.vk, inst.public_inputs, proof, allow_insecure_srs=True)
    # Another circuit altogether.
    alien = random_instance(seed=9, log_n=5)
    alien_pk = _setup(alien, dev_srs)
    with pytest.raises(VerificationError, match="another circuit"):
        verify(inst.cs, alien_pk.vk, inst.public_inputs, proof, allow_insecure_srs=True)


def test_verifying_key_round_trips(proven):
    _, pk, _ = proven
    vk = pk.vk
    assert VerifyingKey.from_bytes(vk.to_bytes()) == vk
    assert VerifyingKey.from_json(vk.to_json()) == vk


def _cheat(inst, column, row, value):
    witness = inst.witness.with_columns({column: inst.witness[column].copy()})
    witness[column][row] = Fr.from_ints([value])[0]
    return witness


@pytest.mark.parametrize("target", ["gate_target", "lookup_target", "keyed_target"])
def test_cheating_prover_is_rejected(proven, dev_srs, target):
    inst, pk, _ = proven
    column, row = getattr(inst, target)
    original = Fr.to_ints(inst.witness[column][row : row + 1])[0]
    forged = original + (1 << 50) + 12345  # outside every table and sum
    witness = _cheat(inst, column, row, forged)
    # The checker names what breaks ...
    with pytest.raises(ConstraintFailure):
        check(inst.cs, inst.fixed.with_columns({c: witness[c] for c in inst.cs.witness_columns}), inst.public_inputs)
    # ... and a prover that skips every check cannot make the verifier accept.
    proof = prove(pk, witness, inst.public_inputs, strict=False)
    with pytest.raises(VerificationError):
        verify(inst.cs, pk.vk, inst.public_inputs, proof, allow_insecure_srs=True)


def test_honest_prover_refuses_a_bad_witness(proven):
    inst, pk, _ = proven
    column, row = inst.gate_target
    with pytest.raises(ConstraintFailure, match="g0"):
        prove(pk, _cheat(inst, column, row, 7), inst.public_inputs)


def test_zero_knowledge_smoke(proven):
    inst, pk, proof = proven
    again = prove(pk, inst.witness, inst.public_inputs)
    assert again != proof
    verify(inst.cs, pk.vk, inst.public_inputs, again, allow_insecure_srs=True)
    # No witness value (as a 32-byte word, either endianness) appears in the proof bytes.
    for c in inst.cs.witness_columns:
        for value in Fr.to_ints(inst.witness[c]):
            if value > 1 << 16:
                assert value.to_bytes(32, "big") not in proof
                assert value.to_bytes(32, "little") not in proof


def test_a_forged_combination_column_is_rejected(proven, monkeypatch):
    """A prover whose combination column differs from sum gamma^j e_j on one row is caught."""
    import zksolvency.prover.plonk as prover_plonk

    inst, pk, _ = proven
    honest = prover_plonk.argument_columns
    (comb,) = inst.cs.combinations

    def forged(cs, values, challenges, strict=True):
        out = honest(cs, values, challenges, strict)
        column = out[comb.column].copy()
        column[3] = Fr.add(column[3:4], Fr.ones(1))[0]
        out[comb.column] = column
        return out

    monkeypatch.setattr(prover_plonk, "argument_columns", forged)
    proof = prove(pk, inst.witness, inst.public_inputs, strict=False)
    with pytest.raises(VerificationError, match="quotient identity"):
        verify(inst.cs, pk.vk, inst.public_inputs, proof, allow_insecure_srs=True)

"""The solvency circuit: honest rounds verify, and every known way to cheat on balances or totals is rejected."""

from __future__ import annotations

import numpy as np
import pytest

from zksolvency.circuits.checker import check, failures
from zksolvency.circuits.solvency import RECORD_ROWS, SolvencyCircuit, SolvencyShape, limb_bits_for
from zksolvency.constants import R_MODULUS
from zksolvency.prover.field import Fr
from zksolvency.prover.plonk import keygen, prove
from zksolvency.verifier.plonk import VerificationError, verify

LOG_N = 8
ASSETS = 5


def _records(rng, records: int, slots: int, max_units: int = 1 << 40):
    hashes = Fr.to_canonical_limbs(Fr.random(records, rng))
    assets = rng.integers(0, ASSETS + 1, size=(records, slots)).astype(np.uint32)
    units = rng.integers(0, max_units, size=(records, slots), dtype=np.uint64)
    units[assets == 0] = 0
    return hashes, assets, units


def _totals(assets, units) -> list:
    return [int(units[assets == j].astype(object).sum()) for j in range(1, ASSETS + 1)]


class Round:
    """An honest round of random records, and the means to forge parts of its witness."""

    def __init__(self, dev_srs, private: bool, seed: int = 1, slots: int = 4, log_n: int = LOG_N):
        rng = np.random.default_rng(seed)
        self.shape = SolvencyShape(log_n, slots, private)
        self.circuit = SolvencyCircuit(self.shape)
        self.hashes, self.assets, self.units = _records(rng, 100, slots)
        self.totals = _totals(self.assets, self.units)
        self.reserves = [t + int(rng.integers(0, 1 << 30)) for t in self.totals]
        self.values = self.reserves if private else self.totals
        self.public = [12345] + self.values
        self.witness = self._witness(self.assets, self.units, self.totals)
        self.pk = keygen(self.circuit.cs, log_n, dev_srs, self.circuit.fixed)

    def _witness(self, assets, units, totals):
        private = self.shape.private_totals
        return self.circuit.witness(self.hashes, assets, units, totals if private else None,
                                    self.reserves if private else None)

    def broken(self, witness, public) -> set:
        """The names of the constraints the witness violates (the direct checker's view)."""
        full = self.circuit.fixed.with_columns({c: witness[c] for c in self.circuit.cs.witness_columns})
        return {f.name for f in failures(self.circuit.cs, full, public)}

    def accepts(self, witness, public, strict=False) -> bool:
        proof = prove(self.pk, witness, public, strict=strict)
        try:
            verify(self.circuit.cs, self.pk.vk, public, proof, allow_insecure_srs=True)
            return True
        except VerificationError:
            return False

    def set_limb(self, witness, record: int, slot: int, limb: int, value: int):
        """The witness with one limb of a record's slot replaced (slot s < S sits on row 2 record + s // (S/2))."""
        half = self.shape.row_slots
        column = self.circuit.limb[slot % half][limb]
        forged = witness.with_columns({column: witness[column].copy()})
        forged[column][RECORD_ROWS * record + slot // half] = Fr.from_ints([value])[0]
        return forged


@pytest.fixture(scope="module", params=[False, True], ids=["public", "private"])
def honest(request, dev_srs):
    return Round(dev_srs, request.param)


def test_limb_width_follows_the_domain():
    assert limb_bits_for(8) == 8 and limb_bits_for(15) == 8 and limb_bits_for(16) == 16
    assert SolvencyShape(16).limbs == 4 and SolvencyShape(12).limbs == 8


@pytest.mark.parametrize("slots", [0, 1, 3, 17, 18])
def test_slots_per_record_are_even_and_bounded(slots):
    with pytest.raises(ValueError, match="even"):
        SolvencyShape(LOG_N, slots)


def test_a_record_spans_two_rows(dev_srs):
    """Record j: its hash and first half of slots on row 2j, the second half on row 2j + 1 (hash 0 there)."""
    r = Round(dev_srs, private=False, seed=2)
    c, half, w = r.circuit, r.shape.row_slots, r.witness
    j = 17
    assert Fr.to_ints(w[c.record_hash][2 * j : 2 * j + 2]) == [Fr.to_ints(Fr.from_canonical_limbs(r.hashes[j : j + 1]))[0], 0]
    for s in range(r.shape.slots):
        row, h = 2 * j + s // half, s % half
        assert Fr.to_ints(w[c.asset[h]][row : row + 1]) == [int(r.assets[j, s])]
        limbs = Fr.to_ints(np.stack([w[c.limb[h][t]][row] for t in range(r.shape.limbs)]))
        assert sum(x << (r.shape.limb_bits * t) for t, x in enumerate(limbs)) == int(r.units[j, s])
    assert not np.any(w[c.record_hash][2 * 100 :]) and not np.any(w[c.asset[0]][2 * 100 :])


def test_an_odd_row_is_refused_even_with_a_valid_opening(dev_srs):
    """On odd row 2j + 1 the inclusion column pairs the second half of record j with the first half of
    record j + 1. A cheating prover that puts a record hash there gets a valid opening of it, so
    verifiers must refuse odd rows."""
    from zksolvency.circuits.constraint_system import GAMMA
    from zksolvency.prover.openings import single_opening
    from zksolvency.prover.plonk import prove_with_polynomials
    from zksolvency.verifier.inclusion import InclusionError, InclusionKeys, Record, Rule, check_records, combine
    from zksolvency.verifier.inclusion import opening_holds

    r = Round(dev_srs, private=False, seed=8)
    c, half = r.circuit, r.shape.row_slots
    j, h = 4, 123456789
    forged = r.witness.with_columns({c.record_hash: r.witness[c.record_hash].copy()})
    forged[c.record_hash][2 * j + 1] = Fr.from_ints([h])[0]
    proof, polys = prove_with_polynomials(r.pk, forged, r.public)  # the checker finds nothing wrong
    verified = verify(c.cs, r.pk.vk, r.public, proof, allow_insecure_srs=True)
    gamma, commitment = verified.challenges[GAMMA], verified.commitment(c.inclusion)
    shown = [(int(r.assets[j, s]), int(r.units[j, s])) for s in range(half, r.shape.slots)]
    shown += [(int(r.assets[j + 1, s]), int(r.units[j + 1, s])) for s in range(half)]
    values = [h] + [x for slot in shown for x in slot]
    row = 2 * j + 1
    pi = single_opening(dev_srs, polys[c.inclusion], r.shape.log_n, row)
    assert opening_holds(r.pk.vk, commitment, row, combine(values, gamma), pi)
    vk = r.pk.vk
    keys = InclusionKeys(vk.log_n, r.shape.slots, ASSETS, commitment, gamma, vk.g1, vk.g2, vk.tau_g2)
    with pytest.raises(InclusionError, match="odd") as refused:
        check_records(keys, [Record(row, h, tuple(shown), (pi.x, pi.y))])
    assert refused.value.rule == Rule.ODD_ROW


def test_honest_round_verifies(honest):
    witness = honest.circuit.fixed.with_columns({c: honest.witness[c] for c in honest.circuit.cs.witness_columns})
    check(honest.circuit.cs, witness, honest.public)
    assert honest.accepts(honest.witness, honest.public, strict=True)


def test_a_changed_total_or_reserve_is_rejected(honest):
    for j in range(1, ASSETS + 1):
        for delta in (1, R_MODULUS - 1):
            public = list(honest.public)
            public[j] = (public[j] + delta) % R_MODULUS
            if honest.shape.private_totals and delta == 1:
                continue  # more reserves than stated still cover the totals; the proof is bound to them anyway
            assert not honest.accepts(honest.witness, public)


def _pick(honest):
    """A record and slot on the record's second row holding a non-zero balance of some asset."""
    records, slots = np.nonzero(honest.units[:, honest.shape.row_slots :])
    slot = int(slots[0]) + honest.shape.row_slots
    return int(records[0]), slot, int(honest.assets[records[0], slot])


def test_negative_balance_is_rejected(honest):
    """Debt hidden as a negative balance: limb 0 holds -5 mod r and the total drops by 5 + b."""
    row, slot, asset = _pick(honest)
    b = int(honest.units[row, slot])
    witness = honest.witness
    for t in range(honest.shape.limbs):
        witness = honest.set_limb(witness, row, slot, t, 0)
    witness = honest.set_limb(witness, row, slot, 0, R_MODULUS - 5)
    units = honest.units.copy()
    units[row, slot] = 0
    totals = _totals(honest.assets, units)
    totals[asset - 1] -= 5
    public = _forged_public(honest, totals)
    witness = _with_totals(honest, witness, totals)
    assert b > 0 and honest.broken(witness, public) == {"range"}  # the sums balance: only the range check catches it
    assert not honest.accepts(witness, public)


def test_oversized_balance_is_rejected(honest):
    """A limb of 2^w (an unchecked carry) would let a balance exceed 2^64 or wrap."""
    row, slot, asset = _pick(honest)
    w = honest.shape.limb_bits
    top = honest.shape.limbs - 1
    witness = honest.set_limb(honest.witness, row, slot, top, 1 << w)
    old_top = int(honest.units[row, slot]) >> (w * top)
    totals = list(honest.totals)
    totals[asset - 1] += ((1 << w) - old_top) << (w * top)  # the balance the forged limbs add up to
    public = _forged_public(honest, totals)
    witness = _with_totals(honest, witness, totals)
    assert honest.broken(witness, public) == {"range"}
    assert not honest.accepts(witness, public)


def test_balance_under_an_asset_outside_the_round_does_not_count(honest):
    """Moving a balance to asset 0 or K + 1 and dropping it from the total is rejected."""
    row, slot, asset = _pick(honest)
    for fake in (0, ASSETS + 1):
        assets = honest.assets.copy()
        assets[row, slot] = fake
        totals = list(honest.totals)
        totals[asset - 1] -= int(honest.units[row, slot])
        witness = honest._witness(assets, honest.units, totals) if not honest.shape.private_totals else None
        if witness is None:
            witness = _private_witness(honest, assets, honest.units, totals)
        public = _forged_public(honest, totals)
        assert honest.broken(witness, public) == {"totals"}
        assert not honest.accepts(witness, public)


def test_private_mode_rejects_liabilities_above_reserves(dev_srs):
    """Reserves below the totals: no slack below 2^128 exists, so a forged slack is rejected."""
    r = Round(dev_srs, private=True, seed=3)
    reserves = list(r.reserves)
    reserves[0] = r.totals[0] - 1
    r.reserves = reserves
    with pytest.raises(ValueError, match="cover"):
        r._witness(r.assets, r.units, r.totals)
    # A cheating prover fills the slack with r - 1 (that is, -1) in limb arithmetic.
    witness = _private_witness(r, r.assets, r.units, r.totals)
    assert r.broken(witness, [12345] + reserves) == {"range"}
    assert not r.accepts(witness, [12345] + reserves)


def _forged_public(honest, totals):
    if honest.shape.private_totals:
        return list(honest.public)  # reserves unchanged; the hidden totals are forged
    return [honest.public[0]] + totals


def _with_totals(honest, witness, totals):
    """In private mode the totals column (and slack) must follow the forged totals."""
    if not honest.shape.private_totals:
        return witness
    forged = _private_witness(honest, honest.assets, honest.units, totals)
    keep = {c: witness[c] for row in honest.circuit.limb for c in row}
    return forged.with_columns(keep)


def _private_witness(honest, assets, units, totals):
    """The private-mode witness with the given totals, slack computed mod r (a cheater's choice)."""
    c = honest.circuit
    w, L, n = honest.shape.limb_bits, honest.shape.limbs, honest.shape.n
    base = c.witness(honest.hashes, assets, units, [0] * len(totals), [0] * len(totals))
    k = len(totals)
    slack = [(r - t) % R_MODULUS for r, t in zip(honest.reserves, totals)] + [0] * (n - k)
    out = base.with_columns({c.total: Fr.from_ints(list(totals) + [0] * (n - k))})
    for t in range(2 * L):
        limbs = [(x >> (w * t)) & ((1 << w) - 1) for x in slack]
        if t == 2 * L - 1:
            limbs = [(x >> (w * t)) for x in slack]  # whatever is left goes into the top limb
        out[c.slack[t]] = Fr.from_ints(limbs)
    return out


def test_range_table_is_pinned_by_the_verifying_key(dev_srs):
    """A prover with its own, wider range table proves an oversized limb; pinning the key catches it."""
    from zksolvency.artifacts import Asset, RoundStatement
    from zksolvency.audit import Pin, verify_round
    from zksolvency.hashing import round_tag

    r = Round(dev_srs, private=False, seed=5, log_n=LOG_N + 1)  # table rows past 2^w are free
    row, slot, asset = _pick(r)
    w = r.shape.limb_bits
    forged = r.set_limb(r.witness, row, slot, 0, int(r.units[row, slot] & ((1 << w) - 1)) + (1 << w))
    totals = list(r.totals)
    totals[asset - 1] += 1 << w
    fixed = r.circuit.fixed.with_columns({r.circuit.range: r.circuit.fixed[r.circuit.range].copy()})
    fixed[r.circuit.range][(1 << w) + 5] = Fr.from_ints([(1 << w) + int(r.units[row, slot] & ((1 << w) - 1))])[0]
    pk = keygen(r.circuit.cs, LOG_N + 1, dev_srs, fixed)
    labels = tuple(Asset(f"A{j}", 0) for j in range(1, ASSETS + 1))
    public = [round_tag("t", "now", [(a.name, a.decimals) for a in labels])] + totals
    proof = prove(pk, forged, public, strict=False)
    verified = verify(r.circuit.cs, pk.vk, public, proof, allow_insecure_srs=True)  # valid against its own key ...
    statement = RoundStatement("t", "now", False, labels,
                               r.shape.slots, LOG_N + 1, tuple(totals), tuple(public),
                               verified.commitment(r.circuit.inclusion), proof, pk.vk)
    verify_round(statement, True)  # unpinned
    with pytest.raises(VerificationError, match="not the circuit's"):  # ... but not the circuit's key
        verify_round(statement, True, Pin.to_srs(dev_srs))
    honest = keygen(r.circuit.cs, LOG_N + 1, dev_srs, r.circuit.fixed).vk
    with pytest.raises(VerificationError, match="is not the pinned"):
        verify_round(statement, True, Pin.to_vk_digest(honest.digest()))
    verify_round(statement, True, Pin.to_vk_digest(pk.vk.digest()))  # pinned to what it is, it holds


def test_committed_columns_are_blinded(dev_srs):
    """Every committed polynomial, the opened inclusion column first, has degree n + 2 (random above n - 1)."""
    from zksolvency.prover.plonk import prove_with_polynomials

    r = Round(dev_srs, private=False, seed=6)
    _, polys = prove_with_polynomials(r.pk, r.witness, r.public)
    n = r.shape.n
    committed = list(r.pk.layout.witness_columns) + list(r.pk.layout.argument_columns)
    assert r.circuit.inclusion in committed
    for column in committed:
        tail = polys[column].coeffs[n:]
        assert len(polys[column]) == n + 3 and np.any(tail != 0), column.name
    _, again = prove_with_polynomials(r.pk, r.witness, r.public)
    assert not np.array_equal(again[r.circuit.inclusion].coeffs, polys[r.circuit.inclusion].coeffs)

"""The margin circuit: honest margin rounds verify, and each way a cheating exchange could hide an
undercollateralized debt, invent a debtor or bend a price is rejected by the checker and by both verifiers
(Python, and the generated Solidity verifier on anvil, which must agree on every proof)."""

from __future__ import annotations

import numpy as np
import pytest

from zksolvency.circuits.checker import failures
from zksolvency.circuits.solvency import (
    FIRST_ASSET_KEY,
    RECORD_ROWS,
    SURPLUS_WORD_BITS,
    SURPLUS_WORDS,
    SolvencyCircuit,
    SolvencyShape,
    debt_key,
    equity_key,
    margin_weights,
)
from zksolvency.constants import R_MODULUS
from zksolvency.prover.field import Fr
from zksolvency.prover.plonk import keygen, prove
from zksolvency.verifier.plonk import VerificationError, verify

LOG_N = 8
SLOTS = 4
PRICES = [7_000_000, 3_100, 100, 1]  # per smallest unit, in the round's quote unit
RATIOS = [9_500, 9_000, 10_000, 0]  # basis points; the last asset is no collateral


def net_value(customer) -> int:
    """Sum of equity * price * ratio less debt * price * 10^4, with Python ints (the reference)."""
    equity, debt = customer
    return (sum(u * PRICES[j - 1] * RATIOS[j - 1] for j, u in equity.items())
            - sum(u * PRICES[j - 1] * 10_000 for j, u in debt.items()))


def surplus_words(net: int) -> dict:
    return {1 + t: (net >> (SURPLUS_WORD_BITS * t)) & ((1 << SURPLUS_WORD_BITS) - 1) for t in range(SURPLUS_WORDS)}


def records_of(customers, rng):
    """The honest records: per customer its slots sorted by key (surplus words, then equity and debt by asset),
    S to a record; a customer with debts gets a random account and its surplus words."""
    hashes, keys, units, accounts, margin = [], [], [], [], []
    for customer in customers:
        equity, debt = customer
        slots = {equity_key(j): u for j, u in equity.items() if u}
        slots |= {debt_key(j): u for j, u in debt.items() if u}
        has_debt = any(debt.values())
        account = Fr.to_canonical_limbs(Fr.random(1, rng))[0] if has_debt else np.zeros(4, dtype=np.uint64)
        if has_debt:
            net = net_value(customer)
            assert net >= 0, "an honest round has no undercollateralized account"
            slots |= {k: u for k, u in surplus_words(net).items() if u}
        items = sorted(slots.items()) or [(0, 0)]
        for at in range(0, len(items), SLOTS):
            chunk = items[at : at + SLOTS] + [(0, 0)] * (SLOTS - len(items[at : at + SLOTS]))
            keys.append([k for k, _ in chunk])
            units.append([u for _, u in chunk])
            accounts.append(account)
            margin.append(has_debt)
    hashes = Fr.to_canonical_limbs(Fr.random(len(keys), rng))
    return (hashes, np.array(keys, dtype=np.uint32), np.array(units, dtype=np.uint64),
            np.array(accounts, dtype=np.uint64), np.array(margin, dtype=bool))


def random_customers(rng, count: int = 60):
    out = []
    for c in range(count):
        equity = {j: int(rng.integers(0, 1 << 40)) for j in range(1, 5) if rng.random() < 0.6}
        debt = {}
        if c % 3 == 0 and equity:
            # A debt worth at most the haircut collateral: borrow against 1..2 assets.
            j = int(rng.integers(1, 5))
            capacity = sum(u * PRICES[i - 1] * RATIOS[i - 1] for i, u in equity.items())
            debt = {j: capacity // (PRICES[j - 1] * 10_000) // int(rng.integers(1, 4))}
        out.append((equity, debt))
    out.append(({3: 10_000}, {3: 10_000}))  # exactly at the limit: ratio 100%, surplus zero
    return out


class MarginRound:
    def __init__(self, dev_srs, private: bool, seed: int = 3, chain=None):
        self.chain, self.verifier = chain, None
        self.rng = np.random.default_rng(seed)
        self.shape = SolvencyShape(LOG_N, SLOTS, private, margin=True)
        self.circuit = SolvencyCircuit(self.shape)
        self.customers = random_customers(self.rng)
        self.records = records_of(self.customers, self.rng)
        self.weights = margin_weights(PRICES, RATIOS)
        self.private = private
        self.pk = keygen(self.circuit.cs, LOG_N, dev_srs, self.circuit.fixed)
        self.witness, self.public = self.make(*self.records)

    def make(self, hashes, keys, units, accounts, margin, weights=None, reserves=None):
        weights = weights or self.weights
        from zksolvency.circuits.solvency import key_totals

        totals = key_totals(keys, units, len(weights))
        if self.private:
            reserves = reserves or [totals[equity_key(j)] - totals[debt_key(j)] + 5 for j in range(1, 5)]
            reserves = [max(r, 0) for r in reserves]
        witness = self.circuit.margin_witness(hashes, keys, units, accounts, margin, weights, reserves)
        public = self.circuit.margin_public_inputs(777, weights, totals, reserves)
        return witness, public

    def broken(self, witness, public) -> set:
        full = self.circuit.fixed.with_columns({c: witness[c] for c in self.circuit.cs.witness_columns})
        return {f.name for f in failures(self.circuit.cs, full, public)}

    def accepts(self, witness, public, strict: bool = False) -> bool:
        """Both verifiers' verdict on a proof of this witness (they must agree): Python, then the generated
        Solidity verifier on anvil."""
        proof = prove(self.pk, witness, public, strict=strict)
        return self.verdict(proof, public)

    def verdict(self, proof, public) -> bool:
        try:
            verify(self.circuit.cs, self.pk.vk, public, proof, allow_insecure_srs=True)
            python = True
        except VerificationError:
            python = False
        assert self.onchain(proof, public) == python, "the Solidity verifier disagrees with the Python one"
        return python

    def onchain(self, proof, public) -> bool:
        from web3.exceptions import ContractLogicError

        if self.verifier is None:
            from eth_account import Account

            from zksolvency.chain import compile_solidity, deploy
            from zksolvency.verifier.solidity import generate_verifier

            compiled = compile_solidity({"V.sol": generate_verifier(self.circuit.cs, self.pk.vk, contract="V")})["V"]
            address = deploy(self.chain, compiled, Account.from_key(ANVIL_KEY))
            self.verifier = self.chain.eth.contract(address=address, abi=compiled["abi"])
        try:
            return bool(self.verifier.functions.verifyProof(proof, [x % R_MODULUS for x in public]).call())
        except ContractLogicError:
            return False

    def forged(self, witness, column, record: int, slot_row: int, value: int):
        out = witness.with_columns({column: witness[column].copy()})
        out[column][RECORD_ROWS * record + slot_row] = Fr.from_ints([value % R_MODULUS])[0]
        return out


ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0


@pytest.fixture(scope="module")
def chain():
    from zksolvency.chain import anvil, connect

    with anvil() as url:
        yield connect(url)


@pytest.fixture(scope="module", params=[False, True], ids=["public", "private"])
def honest(request, dev_srs, chain):
    return MarginRound(dev_srs, request.param, chain=chain)


def test_honest_margin_round_proves_and_verifies(honest):
    assert honest.broken(honest.witness, honest.public) == set()
    assert honest.accepts(honest.witness, honest.public, strict=True)


def test_weights_are_exact_and_bounded():
    w = margin_weights([5, 2**100], [9_000, 10_000])
    assert w[:FIRST_ASSET_KEY] == [0, -1, -(1 << 64), -(1 << 128)]
    assert w[equity_key(1)] == 45_000 and w[debt_key(1)] == -50_000 and w[equity_key(2)] == 2**100 * 10_000
    with pytest.raises(ValueError, match="2\\^128"):
        margin_weights([2**115], [10_000])


def _debtor(honest):
    """The first record of a customer with debts, and that customer's index."""
    hashes, keys, units, accounts, margin = honest.records
    r = int(np.flatnonzero(margin)[0])
    return r


def test_a_debt_beyond_the_haircut_collateral_is_refused(honest):
    """The exchange raises a debtor's debt past what their collateral covers and keeps the old surplus words."""
    hashes, keys, units, accounts, margin = (x.copy() for x in honest.records)
    r = _debtor(honest)
    s = int(np.flatnonzero((keys[r] >= FIRST_ASSET_KEY) & ((keys[r] - FIRST_ASSET_KEY) % 2 == 1))[0]) \
        if np.any((keys[r] >= FIRST_ASSET_KEY) & ((keys[r] - FIRST_ASSET_KEY) % 2 == 1)) else None
    if s is None:  # the debt is in the customer's next record
        r += 1
        s = int(np.flatnonzero((keys[r] - FIRST_ASSET_KEY) % 2 == 1)[0])
    units[r, s] += 1 << 30
    witness, public = honest.make(hashes, keys, units, accounts, margin)
    assert "collateral" in honest.broken(witness, public)
    assert not honest.accepts(witness, public)


def test_a_deficit_cannot_hide_in_a_wrapped_surplus_word(honest):
    """An undercollateralized account's surplus word written as r - deficit (a 'negative' surplus)."""
    hashes, keys, units, accounts, margin = (x.copy() for x in honest.records)
    account = Fr.to_canonical_limbs(Fr.random(1, honest.rng))[0]
    # A new debtor: 1 unit of collateral, a debt of 10^6 units of asset 1.
    deficit = 1_000_000 * PRICES[0] * 10_000 - 1 * PRICES[2] * RATIOS[2]
    row = [(1, 0), (equity_key(3), 1), (debt_key(1), 1_000_000), (0, 0)]
    keys = np.vstack([keys, [[k for k, _ in row]]]).astype(np.uint32)
    units = np.vstack([units, [[u for _, u in row]]]).astype(np.uint64)
    hashes = np.vstack([hashes, Fr.to_canonical_limbs(Fr.random(1, honest.rng))])
    accounts = np.vstack([accounts, [account]])
    margin = np.append(margin, True)
    witness, public = honest.make(hashes, keys, units, accounts, margin)
    assert "collateral" in honest.broken(witness, public)
    # The surplus limb column forged to hold -deficit.
    limb_column = honest.circuit.limb[0]
    forged = witness
    value = (-deficit) % R_MODULUS
    w = honest.shape.limb_bits
    for t, column in enumerate(limb_column):
        forged = honest.forged(forged, column, len(keys) - 1, 0, (value >> (w * t)) & ((1 << w) - 1)
                               if t < len(limb_column) - 1 else value >> (w * t))
    assert "range" in honest.broken(forged, public)
    assert not honest.accepts(forged, public)


@pytest.mark.parametrize("collateral_asset", [None, 4], ids=["no collateral", "zero-ratio collateral"])
def test_a_fabricated_debtor_is_refused(honest, collateral_asset):
    """The dummy-user attack: an invented customer owing 10^9 units of asset 1 lowers the net liability of
    asset 1, backed by nothing, or by an asset that counts for nothing."""
    hashes, keys, units, accounts, margin = (x.copy() for x in honest.records)
    row = [(debt_key(1), 10**9), (0, 0), (0, 0), (0, 0)]
    if collateral_asset:
        row = [(equity_key(collateral_asset), 10**12), (debt_key(1), 10**9), (0, 0), (0, 0)]
    for form in (True, False):  # as a debtor, and dressed as an account without debts
        account = Fr.to_canonical_limbs(Fr.random(1, honest.rng))[0] if form else np.zeros(4, np.uint64)
        k = np.vstack([keys, [[x for x, _ in row]]]).astype(np.uint32)
        u = np.vstack([units, [[y for _, y in row]]]).astype(np.uint64)
        h = np.vstack([hashes, Fr.to_canonical_limbs(Fr.random(1, honest.rng))])
        a = np.vstack([accounts, [account]])
        witness, public = honest.make(h, k, u, a, np.append(margin, form))
        assert "collateral" in honest.broken(witness, public)
        assert not honest.accepts(witness, public)


def test_a_debt_weighted_zero_is_refused(honest):
    """The exchange gives a debt slot weight 0 (as if it were the equity of an account without debts)."""
    r = _debtor(honest)
    hashes, keys, units, accounts, margin = honest.records
    half = honest.shape.row_slots
    slot = next(s for s in range(SLOTS) if keys[r, s] >= FIRST_ASSET_KEY and (keys[r, s] - FIRST_ASSET_KEY) % 2)
    forged = honest.forged(honest.witness, honest.circuit.weight[slot % half], r, slot // half, 0)
    assert "weights" in honest.broken(forged, honest.public)
    assert not honest.accepts(forged, honest.public)


def test_a_weight_outside_the_table_is_refused(honest):
    """A collateral slot weighted as if its price were 1,000 times higher."""
    hashes, keys, units, accounts, margin = honest.records
    r = _debtor(honest)
    half = honest.shape.row_slots
    slot = next(s for s in range(SLOTS) if keys[r, s] >= FIRST_ASSET_KEY and (keys[r, s] - FIRST_ASSET_KEY) % 2 == 0)
    value = honest.weights[int(keys[r, slot])] * 1000
    forged = honest.forged(honest.witness, honest.circuit.weight[slot % half], r, slot // half, value)
    assert "weights" in honest.broken(forged, honest.public)
    assert not honest.accepts(forged, honest.public)


def test_prices_other_than_the_stated_ones_are_refused(honest):
    """A proof made with one set of prices does not verify against another (a cheaper debt asset)."""
    other = margin_weights([PRICES[0] // 2] + PRICES[1:], RATIOS)
    witness, _ = honest.make(*honest.records)
    _, public = honest.make(*honest.records, weights=other)
    proof = prove(honest.pk, witness, honest.public, strict=True)
    assert honest.verdict(proof, honest.public)
    assert not honest.verdict(proof, public)


def test_public_totals_count_equity_and_debt_per_asset(dev_srs, chain):
    """Public mode: a debt total published lower than the ledger's is refused (the exchange claims to be owed less
    than it is would be harmless; claiming to owe less equity is the attack, and so is a debt total inflated)."""
    rnd = MarginRound(dev_srs, private=False, seed=5, chain=chain)
    for key in (equity_key(1), debt_key(2)):
        for delta in (-1, 1):
            public = list(rnd.public)
            public[1 + 2 * key] += delta
            assert "totals" in rnd.broken(rnd.witness, public)
            assert not rnd.accepts(rnd.witness, public)


def test_private_mode_proves_equity_less_debt_within_reserves(dev_srs, chain):
    rnd = MarginRound(dev_srs, private=True, seed=6, chain=chain)
    hashes, keys, units, accounts, margin = rnd.records
    from zksolvency.circuits.solvency import key_totals

    totals = key_totals(keys, units, len(rnd.weights))
    net = [totals[equity_key(j)] - totals[debt_key(j)] for j in range(1, 5)]
    assert any(totals[debt_key(j)] for j in range(1, 5))
    with pytest.raises(ValueError, match="reserves must cover"):
        rnd.make(*rnd.records, reserves=[max(n, 0) - 1 if n > 0 else -1 for n in net])
    # A cheating prover claims reserves one unit short of the net liability of the asset with the most debt.
    j = max(range(1, 5), key=lambda i: totals[debt_key(i)])
    reserves = [max(n, 0) + 5 for n in net]
    honest_w, honest_p = rnd.make(*rnd.records, reserves=reserves)
    assert rnd.accepts(honest_w, honest_p, strict=True)
    short = list(honest_p)
    short[1 + 2 * equity_key(j)] = net[j - 1] - 1
    assert "solvent" in rnd.broken(honest_w, short)
    assert not rnd.accepts(honest_w, short)


def test_a_balance_under_the_empty_key_does_not_count(honest):
    """A slot keyed 0 with units: in public mode key 0's total is 0, so it cannot carry a balance."""
    if honest.private:
        pytest.skip("private mode's key-0 total is the prover's; a customer refuses a non-empty empty slot")
    hashes, keys, units, accounts, margin = (x.copy() for x in honest.records)
    r = int(np.flatnonzero(keys[:, -1] == 0)[0])
    units[r, -1] = 5
    witness, _ = honest.make(hashes, keys, units, accounts, margin)
    assert "totals" in honest.broken(witness, honest.public)
    assert not honest.accepts(witness, honest.public)


def test_a_surplus_total_cannot_carry_an_asset_total(honest):
    """Public mode keys the surplus words' private totals by the weights table's keys: the exchange moves 5
    units of asset 1's equity total into that column, on asset 1's row, and publishes 5 units less."""
    if honest.private:
        pytest.skip("private mode totals every key in a column of its own, bound by the solvent gate")
    column = honest.circuit.surplus_total
    forged = honest.witness.with_columns({column: honest.witness[column].copy()})
    forged[column][equity_key(1)] = Fr.from_ints([5])[0]
    public = list(honest.public)
    public[1 + 2 * equity_key(1)] -= 5
    assert honest.broken(forged, public) == {"surplus_rows"}
    assert not honest.accepts(forged, public)


def test_weights_past_half_the_rows_are_refused(honest, monkeypatch):
    """The weights table's rows from n/2 on give each equity key the weight 0, read from public inputs that
    must be 0 there. A cheating exchange states 63 assets (130 keys, past n/2 = 128 rows), so that asset 63's
    weight lands on row 128, asset 1's equity row of weight 0, and weights a fabricated debtor's 1 unit of
    asset 1 at 1,000 times its price: the debt it covers is invented. The verifiers bound the public inputs by
    the rows a table may read (one rule: ConstraintSystem.max_public_inputs)."""
    from zksolvency.circuits.constraint_system import ConstraintSystem

    if honest.private:
        pytest.skip("the same bound serves both modes; public mode shows it")
    n = honest.shape.n
    k = (n // 2 - FIRST_ASSET_KEY) // 2 + 1  # the first asset count past the table's half
    assert k == 63 and honest.shape.max_assets() == k - 1
    weights = margin_weights(PRICES + [1] * (k - 5) + [PRICES[0] * 1000], RATIOS + [0] * (k - 5) + [10_000])
    W = weights[n // 2]  # what row n/2 (table key: asset 1's equity) reads once the weights run past n/2
    assert W == PRICES[0] * 1000 * 10_000
    # A ledger of one honest customer (asset 3, no debts) and the fabricated debtor: rows 128 and 129 no longer
    # give assets 1 and 2 their zero-weight entries, which the exchange's ledger then avoids.
    hashes, keys, units, accounts, margin = records_of([({3: 1000}, {})], honest.rng)
    debt = 100  # worth PRICES[0] * 10^6; the 1 unit of collateral is worth PRICES[0] * 9,500 at its real weight
    surplus = W - debt * PRICES[0] * 10_000
    row = [(1, surplus), (equity_key(1), 1), (debt_key(1), debt), (0, 0)]
    keys = np.vstack([keys, [[x for x, _ in row]]]).astype(np.uint32)
    units = np.vstack([units, [[y for _, y in row]]]).astype(np.uint64)
    hashes = np.vstack([hashes, Fr.to_canonical_limbs(Fr.random(1, honest.rng))])
    accounts = np.vstack([accounts, Fr.to_canonical_limbs(Fr.random(1, honest.rng))])
    margin = np.append(margin, True)
    with monkeypatch.context() as m:  # the cheating prover places every stated weight
        m.setattr(ConstraintSystem, "max_public_inputs", lambda self, rows: None)
        witness, public = honest.make(hashes, keys, units, accounts, margin, weights=weights)
        half = honest.shape.row_slots
        witness = honest.forged(witness, honest.circuit.weight[1 % half], len(keys) - 1, 1 // half, W)
        proof = prove(honest.pk, witness, public, strict=False)
        verify(honest.circuit.cs, honest.pk.vk, public, proof, allow_insecure_srs=True)  # without the bound: holds
    with pytest.raises(VerificationError, match="do not fit the circuit's instance columns of 256 rows"):
        verify(honest.circuit.cs, honest.pk.vk, public, proof, allow_insecure_srs=True)
    assert not honest.onchain(proof, public)

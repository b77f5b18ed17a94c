"""Whole proofs of the synthetic circuit (8 advice columns, a lookup) and all inclusion openings."""

import pytest
from conftest import run

from zksolvency.circuits.synthetic import synthetic_assignment, synthetic_circuit
from zksolvency.prover.field import Fr
from zksolvency.prover.openings import all_openings, srs_transforms
from zksolvency.prover.plonk import keygen, prove
from zksolvency.prover.polynomial import Polynomial
from zksolvency.prover.srs import dev_setup


@pytest.mark.parametrize("log_n", [12, 16])
def test_prove_synthetic(benchmark, rng, log_n):
    cs = synthetic_circuit()
    fixed, witness = synthetic_assignment(cs, log_n, rng)
    pk = keygen(cs, log_n, dev_setup(log_n), fixed)
    run(benchmark, lambda: prove(pk, witness, []), rounds=3)


@pytest.mark.parametrize("log_n", [12, 14, 16])
def test_all_openings(benchmark, rng, log_n):
    srs = dev_setup(log_n)
    srs_transforms(srs, log_n)  # SRS-only part: once per SRS and size, not timed here
    poly = Polynomial(Fr.random((1 << log_n) + 3, rng))
    run(benchmark, lambda: all_openings(srs, poly, log_n), rounds=1)

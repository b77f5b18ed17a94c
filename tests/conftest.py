"""Shared test fixtures: independent references for the BN254 fields."""

import galois
import pytest

from zksolvency.constants import FR_MULTIPLICATIVE_GENERATOR, Q_MODULUS, R_MODULUS

# galois would otherwise factor p - 1 to verify the primitive element (minutes for 254-bit
# primes); both generators are standard (5 for r, 3 for q) and the moduli are checked primes.
GF_R = galois.GF(R_MODULUS, primitive_element=FR_MULTIPLICATIVE_GENERATOR, verify=False)
GF_Q = galois.GF(Q_MODULUS, primitive_element=3, verify=False)


@pytest.fixture(scope="session")
def gf_r():
    return GF_R


@pytest.fixture(scope="session")
def gf_q():
    return GF_Q


@pytest.fixture(scope="session")
def dev_srs():
    """An insecure development SRS for circuits up to 2^12 rows (deterministic tau)."""
    from zksolvency.prover.srs import dev_setup

    return dev_setup(12)

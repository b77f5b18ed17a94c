"""The Python verifiers beside py_ecc in the same run: a round's proof, a user's inclusion check, one pairing product.

"py_ecc" is the verifier with its pairing product and G1 combinations done by
py_ecc directly (as before ``verifier/pairing.py`` and ``verifier/msm.py``);
"ours" is the verifier as shipped. The round is the test vectors' round
(``tests/vectors/inclusion``: 2^9 rows, 10 assets, 4 slots), the user the one
with three records.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import run

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "inclusion"


def _py_ecc_product(pairs) -> bool:
    from py_ecc.optimized_bn128 import FQ12
    from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

    acc = FQ12.one()
    for p, q in pairs:
        if p is not None:
            acc = acc * pairing(q, p, final_exponentiate=False)
    return final_exponentiate(acc) == FQ12.one()


def _py_ecc_lincomb(points, scalars):
    from py_ecc.optimized_bn128 import FQ, add, multiply, normalize

    acc = None
    for (x, y), s in zip(points, scalars):
        if s % 21888242871839275222246405745257275088548364400416034343698204186575808495617 and (x, y) != (0, 0):
            term = multiply((FQ(x), FQ(y), FQ(1)), s % 21888242871839275222246405745257275088548364400416034343698204186575808495617)
            acc = term if acc is None else add(acc, term)
    if acc is None or acc[2] == FQ(0):
        return None
    x, y = normalize(acc)
    return int(x), int(y)


@contextmanager
def engine(name: str):
    """Run the verifiers with their arithmetic from py_ecc ("py_ecc") or as shipped ("ours")."""
    from zksolvency.verifier import inclusion, kzg

    saved = (kzg.pairing_product_is_one, kzg.lincomb, inclusion.pairing_product_is_one, inclusion.lincomb)
    if name == "py_ecc":
        kzg.pairing_product_is_one = inclusion.pairing_product_is_one = _py_ecc_product
        kzg.lincomb = inclusion.lincomb = _py_ecc_lincomb
    try:
        yield
    finally:
        kzg.pairing_product_is_one, kzg.lincomb, inclusion.pairing_product_is_one, inclusion.lincomb = saved


@pytest.fixture(scope="module")
def statement():
    from zksolvency.artifacts import RoundStatement

    return RoundStatement.load(VECTORS / "round.json")


@pytest.mark.parametrize("name", ["ours", "py_ecc"])
def test_verify_round(benchmark, statement, name):
    from zksolvency.audit import verify_round

    with engine(name):
        run(benchmark, lambda: verify_round(statement, allow_insecure_srs=True), rounds=5)


@pytest.mark.parametrize("name", ["ours", "py_ecc"])
def test_inclusion_of_three_records(benchmark, statement, name):
    from zksolvency.artifacts import InclusionFile
    from zksolvency.audit import check_inclusion, records_of, round_keys, verify_round
    from zksolvency.verifier import inclusion

    case = next(c for c in json.loads((VECTORS / "cases.json").read_text()) if c["name"] == "honest_several_records")
    file = InclusionFile.from_json(case["file"], "case")
    keys = round_keys(verify_round(statement, allow_insecure_srs=True))
    names = [a.name for a in statement.assets]
    assert len(records_of(file, names)) == 3

    def check():
        inclusion.openings_hold.cache_clear()  # time the check, not its memo
        check_inclusion(file, keys, statement.round_id, names, case["user_id"])

    with engine(name):
        run(benchmark, check, rounds=5)

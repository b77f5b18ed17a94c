"""Montgomery field kernels against Python integers and galois, on random and edge inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zksolvency.prover.field import Fq, Fr

FIELDS = [pytest.param(Fr, id="Fr"), pytest.param(Fq, id="Fq")]


def elements(p):
    edge = st.sampled_from([0, 1, 2, p - 1, p - 2, (p - 1) // 2, 1 << 64, (1 << 128) - 1])
    return st.one_of(edge, st.integers(0, p - 1))


def vectors(p):
    return st.lists(elements(p), min_size=1, max_size=40)


def pairs(p):
    return st.lists(st.tuples(elements(p), elements(p)), min_size=1, max_size=40)


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_arithmetic_matches_python_ints(field, data):
    p = field.modulus
    xy = data.draw(pairs(p))
    xs, ys = [x for x, _ in xy], [y for _, y in xy]
    a, b = field.from_ints(xs), field.from_ints(ys)
    assert field.to_ints(a) == xs
    assert field.to_ints(field.add(a, b)) == [(x + y) % p for x, y in xy]
    assert field.to_ints(field.sub(a, b)) == [(x - y) % p for x, y in xy]
    assert field.to_ints(field.mul(a, b)) == [x * y % p for x, y in xy]
    assert field.to_ints(field.square(a)) == [x * x % p for x in xs]
    assert field.to_ints(field.neg(a)) == [-x % p for x in xs]


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_inverse_and_pow(field, data):
    p = field.modulus
    xs = data.draw(vectors(p))
    e = data.draw(st.one_of(st.sampled_from([0, 1, 2, p - 2, p - 1]), st.integers(0, (1 << 256) - 1)))
    a = field.from_ints(xs)
    assert field.to_ints(field.inverse(a)) == [pow(x, -1, p) if x else 0 for x in xs]
    assert field.to_ints(field.pow(a, e)) == [pow(x, e, p) for x in xs]


@pytest.mark.parametrize("field", FIELDS)
def test_batch_inverse_large_chunks(field):
    """Arrays large enough to be split across threads, with zeros sprinkled in."""
    rng = np.random.default_rng(7)
    a = field.random(5000, rng)
    a[::97] = 0
    inv = field.inverse(a)
    prod = field.to_ints(field.mul(a, inv))
    assert prod == [0 if i % 97 == 0 else 1 for i in range(5000)]


@pytest.mark.parametrize("field", FIELDS)
def test_random_is_canonical_and_spread(field):
    rng = np.random.default_rng(1)
    values = field.to_ints(field.random(2000, rng))
    assert all(0 <= v < field.modulus for v in values)
    assert len(set(values)) == 2000
    # The top bits are used: some values fall in the upper half of the field.
    assert any(v > field.modulus // 2 for v in values)


@pytest.mark.parametrize("field", FIELDS)
def test_from_uint64(field):
    rng = np.random.default_rng(3)
    values = rng.integers(0, 1 << 64, size=300, dtype=np.uint64, endpoint=False)
    values[:3] = [0, 1, (1 << 64) - 1]
    assert field.to_ints(field.from_uint64(values)) == [int(v) for v in values]


@pytest.mark.parametrize("field", FIELDS)
def test_against_galois(field, gf_r, gf_q):
    """Products, quotients and powers agree with galois' independent prime-field arithmetic."""
    gf = gf_r if field is Fr else gf_q
    assert gf.order == field.modulus
    rng = np.random.default_rng(11)
    a = field.random(64, rng)
    b = field.random(64, rng)
    ga = gf([int(x) for x in field.to_ints(a)])
    gb = gf([int(x) for x in field.to_ints(b)])
    assert field.to_ints(field.mul(a, b)) == [int(x) for x in ga * gb]
    assert field.to_ints(field.mul(a, field.inverse(b))) == [int(x) for x in ga / gb]
    assert field.to_ints(field.sub(a, b)) == [int(x) for x in ga - gb]
    assert field.to_ints(field.pow(a, 12345)) == [int(x) for x in ga**12345]


@pytest.mark.parametrize("field", FIELDS)
def test_galois_round_trip(field, gf_r, gf_q):
    gf = gf_r if field is Fr else gf_q
    a = field.random(50, np.random.default_rng(5))
    g = field.to_galois(a, gf)
    assert np.array_equal(field.from_galois(g), a)
    other = gf_q if field is Fr else gf_r
    with pytest.raises(ValueError):
        field.to_galois(a, other)

"""Small linear combinations of G1 points for the verifiers: Straus's shared doubling chain, Jacobian coordinates in ints.

A verifier combines a few dozen points (a proof's commitments, a user's
openings). py_ecc multiplies each point on its own through field-element
objects; here the doublings are shared by all points (4-bit windows) and the
arithmetic is on Python ints, which makes the combination an order of
magnitude faster. Tests compare it with py_ecc.
"""

from __future__ import annotations

from zksolvency.constants import Q_MODULUS, R_MODULUS

P = Q_MODULUS
WINDOW = 4

# A Jacobian point (X, Y, Z) stands for (X / Z^2, Y / Z^3); Z = 0 is the point at infinity.
INFINITY = (1, 1, 0)


def _double(p):
    x, y, z = p
    if z == 0 or y == 0:
        return INFINITY
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) * (x + b) - a - c) % P
    e = 3 * a % P
    x3 = (e * e - 2 * d) % P
    return x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P


def _add(p, q):
    x1, y1, z1 = p
    x2, y2, z2 = q
    if z1 == 0:
        return q
    if z2 == 0:
        return p
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    h, r = (u2 - u1) % P, 2 * (s2 - s1) % P
    if h == 0:
        return _double(p) if r == 0 else INFINITY
    i = 4 * h * h % P
    j = h * i % P
    v = u1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * s1 * j) % P
    return x3, y3, ((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h % P


def lincomb(points, scalars):
    """sum s_i P_i for affine points (x, y) ((0, 0) is infinity) and integer scalars; the affine sum or None."""
    table, digits = [], []
    for (x, y), s in zip(points, scalars):
        s %= R_MODULUS
        if s == 0 or (x == 0 and y == 0):
            continue
        row = [INFINITY, (x, y, 1)]
        for _ in range((1 << WINDOW) - 2):
            row.append(_add(row[-1], row[1]))
        table.append(row)
        digits.append(s)
    acc = INFINITY
    mask = (1 << WINDOW) - 1
    for shift in range(R_MODULUS.bit_length() - R_MODULUS.bit_length() % WINDOW, -1, -WINDOW):
        for _ in range(WINDOW):
            acc = _double(acc)
        for row, s in zip(table, digits):
            d = (s >> shift) & mask
            if d:
                acc = _add(acc, row[d])
    return to_affine(acc)


def to_affine(p):
    x, y, z = p
    if z == 0:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P

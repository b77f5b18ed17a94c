"""BN254 (EVM alt_bn128) constants, defined once and checked when loaded."""

# Scalar field r: the field of circuit values, NTT domains and exponents.
R_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
# Base field q: the field of G1 point coordinates.
Q_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583

# Curve y^2 = x^3 + B over the base field; generator of G1.
CURVE_B = 3
G1_GENERATOR = (1, 2)

# r - 1 = 2^28 * odd: the largest power-of-two NTT domain is 2^28.
TWO_ADICITY = 28
# 5 generates the multiplicative group of Fr (the choice of snarkjs and arkworks).
FR_MULTIPLICATIVE_GENERATOR = 5
# omega of order 2^28: 5^((r-1)/2^28) mod r.
ROOT_OF_UNITY_2_28 = pow(FR_MULTIPLICATIVE_GENERATOR, (R_MODULUS - 1) >> TWO_ADICITY, R_MODULUS)

# GLV endomorphism (x, y) -> (BETA x, y) equals scalar multiplication by LAMBDA.
GLV_BETA = 21888242871839275220042445260109153167277707414472061641714758635765020556616
GLV_LAMBDA = 21888242871839275217838484774961031246154997185409878258781734729429964517155


def _check() -> None:
    assert (R_MODULUS - 1) % (1 << TWO_ADICITY) == 0
    assert ((R_MODULUS - 1) >> TWO_ADICITY) % 2 == 1
    assert pow(ROOT_OF_UNITY_2_28, 1 << TWO_ADICITY, R_MODULUS) == 1
    assert pow(ROOT_OF_UNITY_2_28, 1 << (TWO_ADICITY - 1), R_MODULUS) != 1
    x, y = G1_GENERATOR
    assert (y * y - x * x * x - CURVE_B) % Q_MODULUS == 0
    assert pow(GLV_BETA, 3, Q_MODULUS) == 1 and GLV_BETA != 1
    assert pow(GLV_LAMBDA, 3, R_MODULUS) == 1 and GLV_LAMBDA != 1
    assert R_MODULUS < 1 << 254 and Q_MODULUS < 1 << 254


_check()

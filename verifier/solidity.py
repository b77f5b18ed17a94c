"""The Solidity verifier, generated from a verifying key and the circuit declaration the Python verifier reads.

One template (``contracts/Verifier.sol.template``) is filled with constants (the
key's points and digest, the domain, the proof's layout) and with Yul code
emitted from the circuit's identities through the same ``Expression.evaluate``
the Python verifier uses, so no constraint is written twice. The generated
``verifyProof(bytes proof, uint256[] publicInputs)`` repeats
``zksolvency.verifier.plonk.verify`` step by step: the Keccak transcript, the
quotient identity at zeta, and one pairing-product check of the two batched
openings. It returns true or reverts: every failed check, and every failed
precompile call (including one that runs out of gas), reverts with a reason.

Memory: the Yul code keeps every value in a fixed slot from 0x80 up (constant
addresses keep the code small): evaluations, challenges, derived scalars, then
temporaries of the identities, so that the number of values never meets the
stack's limits. R lives in a stack variable ``r`` inside the generated blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from zksolvency.circuits.constraint_system import ALPHA, BETA, GAMMA, ConstraintSystem
from zksolvency.circuits.expression import ColumnKind, Evaluator, Query
from zksolvency.constants import Q_MODULUS, R_MODULUS
from zksolvency.verifier.development import is_development_key
from zksolvency.verifier.formats import FORMAT_VERSION, PROOF_MAGIC, Proof, VerifyingKey
from zksolvency.verifier.plonk import circuit_digest, domain_generator
from zksolvency.verifier.protocol import layout
from zksolvency.verifier.transcript import PROTOCOL_DOMAIN, keccak256

TEMPLATE = Path(__file__).resolve().parents[1] / "contracts" / "Verifier.sol.template"
# The slots start at 0x80, past Solidity's scratch space: the assembly block owns memory until it returns.
BASE = 0x80
G1_BYTES, SCALAR_BYTES = 64, 32


@dataclass
class _Slots:
    """Names of 32-byte memory slots above p, in allocation order."""

    names: dict = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = len(self.names)
        return f"{BASE + 32 * self.names[name]:#x}"

    def load(self, name: str) -> str:
        return f"mload({self(name)})"

    @property
    def size(self) -> int:
        return 32 * len(self.names)


class _YulEmitter(Evaluator):
    """Emits Yul for an expression: small subtrees stay nested, larger ones go to a memory slot.

    Values are (code, depth) pairs; a node deeper than ``MAX_DEPTH`` nested calls is
    stored in a temporary slot first, which keeps the stack shallow without paying a
    store and a load for every operation.
    """

    MAX_DEPTH = 3

    def __init__(self, slots: _Slots, query_slot, lines: list):
        self.slots, self.query_slot, self.lines = slots, query_slot, lines
        self.temps = 0

    def _node(self, code: str, depth: int):
        if depth <= self.MAX_DEPTH:
            return code, depth
        name = f"tmp{self.temps}"
        self.temps += 1
        self.lines.append(f"mstore({self.slots(name)}, {code})")
        return self.slots.load(name), 1

    def constant(self, value: int):
        return hex(value % R_MODULUS), 0

    def query(self, q: Query):
        return self.slots.load(self.query_slot(q)), 1

    def challenge(self, name: str):
        return self.slots.load(f"ch:{name}"), 1

    def add(self, a, b):
        return self._node(f"addmod({a[0]}, {b[0]}, r)", max(a[1], b[1]) + 1)

    def mul(self, a, b):
        return self._node(f"mulmod({a[0]}, {b[0]}, r)", max(a[1], b[1]) + 1)

    def neg(self, a):
        return self._node(f"addmod(sub(r, {a[0]}), 0, r)", a[1] + 1)


def _g2_words(point) -> list:
    """EVM order of a G2 point: x.c1, x.c0, y.c1, y.c0."""
    return [point.x[1], point.x[0], point.y[1], point.y[0]]


def generate_verifier(cs: ConstraintSystem, vk: VerifyingKey, contract: str = "Verifier") -> str:
    """The Solidity source of a verifier for ``cs`` under ``vk``."""
    cs.compile()
    if vk.circuit != cs.name or vk.circuit_digest != circuit_digest(cs):
        raise ValueError("the verifying key is for another circuit")
    lay = layout(cs, vk.log_n)
    slots = _Slots()
    n_eval = lay.num_evaluations
    for i in range(n_eval):
        slots(f"ev{i}")

    # Offsets in the proof bytes.
    header = len(PROOF_MAGIC) + 1
    witness_at = header
    argument_at = witness_at + G1_BYTES * len(lay.witness_columns)
    quotient_at = argument_at + G1_BYTES * len(lay.argument_columns)
    evaluations_at = quotient_at + G1_BYTES * lay.quotient_chunks
    openings_at = evaluations_at + SCALAR_BYTES * n_eval
    proof_length = Proof.size(lay)
    assert openings_at + 2 * G1_BYTES == proof_length
    points_count = (evaluations_at - header) // G1_BYTES

    # Where each queried value lives.
    eval_index = {q: i for i, q in enumerate(lay.evaluated_queries)}
    instance_queries = sorted(
        {q for q in cs.queries() if q.column.kind == ColumnKind.INSTANCE}, key=lambda q: (q.column.index, q.rotation)
    )

    def query_slot(q: Query) -> str:
        if q.column.kind == ColumnKind.INSTANCE:
            return f"inst{q.column.index}@{q.rotation}"
        return f"ev{eval_index[q]}"

    # Derived scalars: the public right-hand sides of the running sums and the instance evaluations, each a
    # fraction num/den over the public inputs (keyedFraction, lagrangeFraction), then one inversion for all
    # (Montgomery's trick over the denominators: den_0 .. den_i's product at prod{i}).
    derived = ["let end := add(publicInputs.offset, mul(publicInputs.length, 32))", "let unreduced := 0"]
    fractions = []  # (slot the scalar goes to, Yul factor it is multiplied by)
    read = []  # (start, stride) of the public inputs the loops read
    for rs in cs.running_sums:
        if rs.rhs_constant is None:
            continue
        f = len(fractions)
        derived.append("{ let n := 0 let d := 1 let b := 0")
        for ks in rs.public_sums:
            read.append((ks.public_start, ks.stride))
            derived.append(f"n, d, b := keyedFraction(n, d, {slots.load('ch:' + ALPHA)}, "
                           f"add(publicInputs.offset, {32 * ks.public_start}), end, {32 * ks.stride}, {ks.first_key})")
            derived.append("unreduced := or(unreduced, b)")
        derived.append(f"mstore({slots(f'num{f}')}, n) mstore({slots(f'den{f}')}, d) }}")
        fractions.append((slots("ch:" + rs.rhs_constant), "N_INV"))
    for q in instance_queries:
        inst = next(i for i in cs.instances if i.column == q.column)
        x = slots.load("ch:zeta") if q.rotation == 0 else slots.load("zeta_omega")
        f = len(fractions)
        read.append((inst.public_start, inst.stride))
        derived.append(f"{{ let n, d, b := lagrangeFraction({x}, add(publicInputs.offset, {32 * inst.public_start}), "
                       f"end, {32 * inst.stride}, {pow(domain_generator(vk.log_n), inst.row_start, R_MODULUS):#x}) "
                       f"unreduced := or(unreduced, b) mstore({slots(f'num{f}')}, n) mstore({slots(f'den{f}')}, d) }}")
        fractions.append((slots(query_slot(q)), f"mulmod(addmod({slots.load('zeta_n')}, sub(R, 1), R), N_INV, R)"))
    unread = _unread(read)
    if unread is None:  # the loops leave gaps: every input is checked
        derived.append("for { let p := publicInputs.offset } lt(p, end) { p := add(p, 32) } "
                       "{ unreduced := or(unreduced, iszero(lt(calldataload(p), R))) }")
    else:  # below MIN_PUBLIC: each is there
        derived += [f"unreduced := or(unreduced, iszero(lt(calldataload(add(publicInputs.offset, {32 * i})), R)))"
                    for i in unread]
    derived.append('if unreduced { fail("zksolvency: public input >= r", 29) }')
    if fractions:
        derived.append(f"mstore({slots('prod0')}, {slots.load('den0')})")
        for f in range(1, len(fractions)):
            derived.append(f"mstore({slots(f'prod{f}')}, mulmod({slots.load(f'prod{f - 1}')}, "
                           f"{slots.load(f'den{f}')}, R))")
        last = len(fractions) - 1
        derived.append(f"let inv := {slots.load(f'prod{last}')}")
        derived.append('if iszero(inv) { fail("zksolvency: zero denominator", 28) }')
        derived.append("inv := inverse(inv, scratch)")
        for f in range(last, -1, -1):
            one = "inv" if f == 0 else f"mulmod(inv, {slots.load(f'prod{f - 1}')}, R)"
            target, factor = fractions[f]
            derived.append(f"mstore({target}, mulmod(mulmod({slots.load(f'num{f}')}, {one}, R), {factor}, R))")
            if f:
                derived.append(f"inv := mulmod(inv, {slots.load(f'den{f}')}, R)")

    # The identities, combined with powers of y by Horner's rule from the last.
    identity_lines: list = []
    emitter = _YulEmitter(slots, query_slot, identity_lines)
    for k, ident in enumerate(reversed(cs.identities)):
        value = ident.expression.evaluate(emitter)[0]
        if k == 0:
            identity_lines.append(f"mstore({slots('numerator')}, {value})")
        else:
            identity_lines.append(
                f"mstore({slots('numerator')}, addmod(mulmod({slots.load('numerator')}, {slots.load('ch:y')}, r), "
                f"{value}, r))"
            )

    # The batched opening: every distinct commitment with its merged scalar.
    commitment_source = {}
    for i, c in enumerate(lay.witness_columns):
        commitment_source[c] = ("proof", witness_at + G1_BYTES * i)
    for i, c in enumerate(lay.argument_columns):
        commitment_source[c] = ("proof", argument_at + G1_BYTES * i)
    for i, c in enumerate(lay.fixed_columns):
        commitment_source[c] = ("fixed", i)
    terms: dict = {}  # source -> list of (claim, power index)
    order = []
    opening_lines = []
    for claim, rotation in ((0, 0), (1, 1)):
        opened = [(i, commitment_source[q.column]) for i, q in lay.opened_at(rotation)]
        if claim == 0:
            opened += [(len(lay.evaluated_queries) + k, ("proof", quotient_at + G1_BYTES * k))
                       for k in range(lay.quotient_chunks)]
        value = slots("value")
        opening_lines.append(f"// claim at zeta{'*omega' if claim else ''}: {len(opened)} polynomials")
        opening_lines.append("{")
        opening_lines.append("    let vj := 1")
        opening_lines.append("    let e := 0")
        for j, (ev, source) in enumerate(opened):
            if source not in terms:
                terms[source] = []
                order.append(source)
            scalar_slot = f"scalar{order.index(source)}"
            weight = "vj" if claim == 0 else f"mulmod(vj, {slots.load('ch:u')}, R)"
            if len(terms[source]) == 0:
                opening_lines.append(f"    mstore({slots(scalar_slot)}, {weight})")
            else:
                opening_lines.append(
                    f"    mstore({slots(scalar_slot)}, addmod({slots.load(scalar_slot)}, {weight}, R))")
            terms[source].append((claim, j))
            opening_lines.append(f"    e := addmod(e, mulmod(vj, {slots.load(f'ev{ev}')}, R), R)")
            opening_lines.append(f"    vj := mulmod(vj, {slots.load('ch:v')}, R)")
        if claim == 0:
            opening_lines.append(f"    mstore({value}, e)")
        else:
            opening_lines.append(
                f"    mstore({value}, addmod({slots.load('value')}, mulmod(e, {slots.load('ch:u')}, R), R))")
        opening_lines.append("}")
    msm_lines = []
    for k, source in enumerate(order):
        scalar = slots.load(f"scalar{k}")
        if source[0] == "proof":
            msm_lines.append(f"accumulate(acc, calldataload(add(proof.offset, {source[1]})), "
                             f"calldataload(add(proof.offset, {source[1] + 32})), {scalar}, mem)")
        else:
            msm_lines.append(f"accumulate(acc, FIXED_{source[1]}_X, FIXED_{source[1]}_Y, {scalar}, mem)")

    inclusion_at = 0
    if cs.combinations:
        inclusion_at = argument_at + G1_BYTES * lay.argument_columns.index(cs.combinations[0].column)

    fixed_constants = []
    for i, c in enumerate(vk.fixed_commitments):
        fixed_constants.append(f"uint256 internal constant FIXED_{i}_X = {c.x:#x};")
        fixed_constants.append(f"uint256 internal constant FIXED_{i}_Y = {c.y:#x};")

    g2 = _g2_words(vk.g2)
    tau_g2 = _g2_words(vk.tau_g2)
    omega = domain_generator(vk.log_n)
    n = 1 << vk.log_n
    min_public = max([1] + [i.public_start for i in cs.instances]
                     + [ks.public_start for ks in cs.keyed_sums if ks.public_start is not None])
    values = {
        "CONTRACT": contract,
        "CIRCUIT": cs.name,
        "LOG_N": str(vk.log_n),
        "VK_DIGEST": "0x" + vk.digest().hex(),
        "INSECURE_NOTE": "// WARNING: made from an INSECURE development SRS: anyone can forge proofs for it.\n"
        if is_development_key(vk) else "",
        "R": hex(R_MODULUS),
        "Q": hex(Q_MODULUS),
        "N": str(n),
        "N_INV": hex(pow(n, -1, R_MODULUS)),
        "OMEGA": hex(omega),
        "TRANSCRIPT_START": "0x" + keccak256(PROTOCOL_DOMAIN).hex(),
        "PROOF_LENGTH": str(proof_length),
        "PROOF_HEADER": hex(int.from_bytes(PROOF_MAGIC + bytes([FORMAT_VERSION]), "big")),
        "PROOF_HEADER_BYTES": str(header),
        "MIN_PUBLIC": str(min_public + 1),
        # At most this many public inputs (zksolvency.circuits.constraint_system.max_public_inputs).
        "MAX_PUBLIC": str(cs.max_public_inputs(n) if cs.instances else (1 << 32)),
        "G1_X": hex(vk.g1.x),
        "G1_Y": hex(vk.g1.y),
        **{f"G2_{k}": hex(w) for k, w in enumerate(g2)},
        **{f"TAU_G2_{k}": hex(w) for k, w in enumerate(tau_g2)},
        "FIXED_CONSTANTS": "\n    ".join(fixed_constants),
        "POINTS_AT": str(header),
        "POINTS_COUNT": str(points_count),
        "EVALUATIONS_AT": str(evaluations_at),
        "EVALUATIONS_COUNT": str(n_eval),
        "WITNESS_AT": str(witness_at),
        "ARGUMENT_AT": str(argument_at),
        "QUOTIENT_AT": str(quotient_at),
        "OPENINGS_AT": str(openings_at),
        "QUOTIENT_CHUNKS": str(lay.quotient_chunks),
        "INCLUSION_AT": str(inclusion_at),
        "FIRST_CHUNK_EVAL": str(len(lay.evaluated_queries)),
        "DERIVED": "\n            ".join(derived),
        "IDENTITIES": "\n            ".join(identity_lines),
        "OPENING_SCALARS": "\n            ".join(opening_lines),
        "MSM": "\n            ".join(msm_lines),
    }
    for name in ("ch:" + BETA, "ch:" + ALPHA, "ch:" + GAMMA, "ch:y", "ch:zeta", "ch:v", "ch:u"):
        slots(name)
    # The accumulated points take two consecutive slots each (x, y).
    for name in ("zeta_omega", "zeta_n", "vanishing", "acc", "acc_y", "left", "left_y"):
        slots(name)
    values.update({
        "S_BETA": slots("ch:" + BETA), "S_ALPHA": slots("ch:" + ALPHA), "S_GAMMA": slots("ch:" + GAMMA),
        "S_Y": slots("ch:y"), "S_ZETA": slots("ch:zeta"), "S_V": slots("ch:v"), "S_U": slots("ch:u"),
        "S_ZETA_OMEGA": slots("zeta_omega"), "S_ZETA_N": slots("zeta_n"), "S_VANISHING": slots("vanishing"),
        "S_NUMERATOR": slots("numerator"), "S_VALUE": slots("value"),
        "S_ACC": slots("acc"), "S_LEFT": slots("left"),
        "S_EV0": slots("ev0"),
    })
    values["MEMORY_END"] = hex(BASE + slots.size + 64)
    source = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        source = source.replace("{{" + key + "}}", value)
    if "{{" in source:
        raise AssertionError("unfilled template field: " + source[source.index("{{"):][:40])
    return source


def _unread(read) -> list | None:
    """The public inputs no derived-scalar loop reads, when they are a few before every loop's start (whose
    starts, below MIN_PUBLIC, the verifier checks are there): ``read`` is (start, stride) per loop, reading
    start, start + stride, ... Otherwise (gaps past the starts) None."""
    top = max([start for start, _ in read], default=0)
    period = math.lcm(*[stride for _, stride in read]) if read else 1
    covered = lambda i: any(i >= s and (i - s) % t == 0 for s, t in read)  # noqa: E731
    if not all(covered(i) for i in range(top, top + period)):
        return None
    return [i for i in range(top) if not covered(i)]

"""A round on-chain: deploy its verifier and a registry, register reserves, publish, check inclusion.

Everything goes through ``zksolvency.chain`` (pinned solc, web3.py). Keys come
from the caller (the CLI reads them from the environment, never from flags or
files).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zksolvency.artifacts import RoundStatement, ShardedStatement
from zksolvency.chain import CONTRACTS, ChainError, compile_solidity, send
from zksolvency.constants import R_MODULUS
from zksolvency.circuits.solvency import SolvencyCircuit, SolvencyShape
from zksolvency.verifier.solidity import generate_verifier

REGISTRY_SOURCE = CONTRACTS / "SolvencyRegistry.sol"


def circuit_of(statement: RoundStatement) -> SolvencyCircuit:
    return SolvencyCircuit(statement.shape())


# The contracts are deployed once and called every round: the optimizer is told so (runs), which
# trades a larger code for less gas per call, as far as the code still fits (REGISTRY_RUNS).
OPTIMIZER_RUNS = 100_000


# EIP-170: no contract's code may exceed this on Ethereum and its usual peers.
MAX_CODE_BYTES = 24_576


def compile_round_contracts(statement: RoundStatement) -> dict:
    """The round's generated verifier and its registry (``compile_contracts``)."""
    return compile_contracts(statement.shape(), statement.verifying_key, isinstance(statement, ShardedStatement))


# The registry of each kind of round: spot rounds (of one shard or sharded), margin rounds (prices, ratios, feeds,
# rule 20) of one shard, and sharded margin rounds: one contract for both kinds of margin round would exceed the
# EVM's code size limit.
def registry_name(margin: bool, sharded: bool = False) -> str:
    if not margin:
        return "SolvencyRegistry"
    return "ShardedMarginSolvencyRegistry" if sharded else "MarginSolvencyRegistry"


def _code_size(compiled: dict) -> int:
    return (len(compiled["runtime"]) - 2) // 2


def _compiled_to_fit(sources: dict, name: str, runs_tried) -> dict | None:
    """The contract ``name`` compiled for the first optimizer runs whose code fits the EVM's limit, or None."""
    for runs in runs_tried:
        compiled = compile_solidity(sources, optimize_runs=runs)[name]
        if _code_size(compiled) <= MAX_CODE_BYTES:
            return compiled
    return None


def compile_contracts(shape: SolvencyShape, vk, sharded: bool = False) -> dict:
    """{"SolvencyVerifier": the verifier generated from ``vk`` for ``shape``, "SolvencyRegistry": the registry of
    the shape's kind (``registry_name``; ``sharded``: for sharded rounds)}, each compiled as described below.

    Each for the optimizer runs that cost least gas a call, unless its code then
    exceeds the EVM's size limit: then for fewer runs, down to the smallest code.
    A shape whose verifier exceeds the limit even so (many slots a record) cannot
    be deployed, and ChainError says so before anything is sent.
    """
    verifier = generate_verifier(SolvencyCircuit(shape).cs, vk, contract="SolvencyVerifier")
    compiled_verifier = _compiled_to_fit({"SolvencyVerifier.sol": verifier}, "SolvencyVerifier",
                                                (OPTIMIZER_RUNS, 1))
    if compiled_verifier is None:
        size = _code_size(compile_solidity({"SolvencyVerifier.sol": verifier}, optimize_runs=1)["SolvencyVerifier"])
        raise ChainError(f"the verifier of this round's shape ({shape.slots} slots a record, "
                         f"{vk.circuit}) is {size:,} bytes, over the EVM's {MAX_CODE_BYTES:,}-byte "
                         f"limit: a round to publish on-chain needs fewer slots a record")
    return {"SolvencyVerifier": compiled_verifier,
            "SolvencyRegistry": compiled_registry(shape.margin, sharded and shape.margin)}


def compiled_registry(margin: bool, sharded: bool = False) -> dict:
    """The registry of a kind of round, compiled for the most optimizer runs among REGISTRY_RUNS that fit; its
    "inclusion_rules" the runtime code of the InclusionRules contract it creates (compiled with it)."""
    name = registry_name(margin, sharded)
    for runs in REGISTRY_RUNS:
        output = compile_solidity({"SolvencyRegistry.sol": REGISTRY_SOURCE.read_text()}, optimize_runs=runs)
        if _code_size(output[name]) <= MAX_CODE_BYTES:
            return {**output[name], "inclusion_rules": output["InclusionRules"]["runtime"]}
    raise ChainError(f"{name} exceeds the EVM's {MAX_CODE_BYTES:,}-byte limit")


# No registry's code fits at OPTIMIZER_RUNS; at 10,000 runs the margin registry fits (23,153 bytes), at 1,000 the
# spot one (22,519: it takes sharded rounds), at 200 the sharded margin one (23,346). The fewer runs after them are
# for a registry that grows.
REGISTRY_RUNS = (OPTIMIZER_RUNS, 10_000, 1_000, 200, 1)


@dataclass(frozen=True)
class Deployment:
    verifier: str
    registry: str


def deploy_round_contracts(w3, account, statement: RoundStatement, compiled: dict | None = None) -> Deployment:
    from zksolvency.chain import deploy

    compiled = compiled or compile_round_contracts(statement)
    verifier = deploy(w3, compiled["SolvencyVerifier"], account)
    registry = deploy(w3, compiled["SolvencyRegistry"], account, verifier, statement.slots)
    return Deployment(verifier, registry)


def registry_contract(w3, address: str):
    """The registry at ``address``, with the interface of its kind (its ``margin()`` says which)."""
    compiled = compile_solidity({"SolvencyRegistry.sol": REGISTRY_SOURCE.read_text()})
    address = checked_address(w3, address, "the registry")
    spot = w3.eth.contract(address=address, abi=compiled["SolvencyRegistry"]["abi"])
    margin = takes_margin_rounds(spot)
    if not margin:
        return spot
    return w3.eth.contract(address=address, abi=compiled[registry_name(True, takes_only_sharded_rounds(spot))]["abi"])


def checked_address(w3, text: str, what: str) -> str:
    """``text`` as a checksummed address; ChainError naming ``what`` if it is not one (a mixed-case address whose
    checksum is wrong included)."""
    try:
        return w3.to_checksum_address(text)
    except (TypeError, ValueError):
        raise ChainError(f"{what} {text!r} is not an Ethereum address") from None


def takes_margin_rounds(registry) -> bool:
    """The registry's ``margin()``; ChainError if the contract does not answer it (no registry, or an older one)."""
    try:
        return bool(registry.functions.margin().call())
    except Exception as e:  # no code there, or not a registry
        raise ChainError(f"{registry.address} does not answer as a SolvencyRegistry: {_reason(e)}") from None


def takes_only_sharded_rounds(registry) -> bool:
    """The registry's ``shardedOnly()``: whether it is a registry of sharded margin rounds."""
    try:
        return bool(registry.functions.shardedOnly().call())
    except Exception as e:  # no code there, or not a registry
        raise ChainError(f"{registry.address} does not answer as a SolvencyRegistry: {_reason(e)}") from None


def _transact(w3, registry, owner, fn, what: str):
    """Send ``fn`` from ``owner`` after a call that surfaces the contract's reason for refusing it."""
    try:
        fn.call({"from": owner.address})  # a revert's reason, before paying for it
    except Exception as e:  # web3 raises ContractLogicError and friends
        raise ChainError(f"the registry refuses {what}: {_reason(e)}") from None
    return send(w3, owner, fn.build_transaction({"from": owner.address}))


def register_asset(w3, registry, owner, name: str, decimals: int, token: str | None = None, offchain: bool = False):
    """Register an asset once: its round units, and where its reserves are (an ERC-20, None for the native
    currency, or ``offchain``: not on this chain, for public rounds only)."""
    if offchain:
        fn = registry.functions.registerOffchainAsset(name, decimals)
    else:
        fn = registry.functions.registerAsset(name, decimals, checked_address(w3, token, "the token") if token else "0x" + "00" * 20)
    return _transact(w3, registry, owner, fn, f"asset {name!r}")


def register_round_assets(w3, registry, owner, statement: RoundStatement) -> None:
    """Register as off-chain every asset of the round the registry does not hold yet (a public round's assets)."""
    for a in statement.assets:
        if not registry.functions.assetOf(a.name).call()[0]:
            register_asset(w3, registry, owner, a.name, a.decimals, offchain=True)


def register_reserve(w3, registry, owner, holder, asset: str, sign=None):
    """The holder signs the registry's message; the owner registers it. Returns the receipt.

    ``holder``: an account (it signs with its key), or the address of a contract wallet with ``sign``, a
    function of the EIP-191 digest returning the signature its ``isValidSignature`` accepts (EIP-1271).
    """
    from eth_account.messages import encode_defunct

    address = holder if isinstance(holder, str) else holder.address
    registered, _, _, token = registry.functions.assetOf(asset).call()
    if not registered:
        raise ChainError(f"the registry has no asset {asset!r} (register-asset first)")
    message = registry.functions.reserveMessage(asset, address, token).call()
    if sign is None:
        signature = holder.sign_message(encode_defunct(primitive=message)).signature
    else:
        from zksolvency.verifier.transcript import keccak256

        signature = sign(keccak256(b"\x19Ethereum Signed Message:\n32" + message))
    return _transact(w3, registry, owner, registry.functions.registerReserve(asset, address, signature),
                     f"the reserve of {asset!r} at {address}")


def register_price_feed(w3, registry, owner, asset: str, feed: str, max_age: int):
    """Register, for good, the price feed (AggregatorV3Interface) a margin registry takes ``asset``'s price from;
    its answers count for ``max_age`` seconds. Returns the receipt."""
    if not takes_margin_rounds(registry):
        raise ChainError("price feeds are for margin rounds: this registry takes spot rounds")
    fn = registry.functions.registerPriceFeed(asset, checked_address(w3, feed, "the feed"), max_age)
    return _transact(w3, registry, owner, fn, f"the price feed of {asset!r}")


def _check_publishable(registry, statement) -> None:
    """ChainError unless the registry takes the round's kind and holds its assets in the round's units."""
    margin = statement.margin is not None
    if takes_margin_rounds(registry) != margin:
        kind = "margin" if margin else "spot"
        raise ChainError(f"a {kind} round needs a registry of {kind} rounds: this one takes the other kind")
    sharded = isinstance(statement, ShardedStatement)
    if margin and takes_only_sharded_rounds(registry) != sharded:
        kind = "sharded margin rounds" if sharded else "margin rounds of one shard"
        raise ChainError(f"this round needs a registry of {kind} (`zksolvency deploy` on the round's directory "
                         f"deploys one): this one takes the other kind")
    for a in statement.assets:
        registered, decimals, _, _ = registry.functions.assetOf(a.name).call()
        if not registered:
            raise ChainError(f"the registry has no asset {a.name!r}: register it before publishing")
        if decimals != a.decimals:
            raise ChainError(f"the round counts {a.name} with {a.decimals} decimals, the registry with {decimals}")


def publish(w3, registry, owner, statement: RoundStatement):
    """Submit the round; in private mode the registry reads the reserves of its registered assets, in the units
    it registered, which must be the round's. A margin round's prices must be its assets' feeds' latest answers
    where the registry has feeds. Returns the receipt. (A sharded round: ``publish_sharded``.)"""
    if isinstance(statement, ShardedStatement):
        raise ChainError("a sharded round is published shard by shard (publish_sharded)")
    _check_publishable(registry, statement)
    margin = statement.margin is not None
    names = [a.name for a in statement.assets]
    if margin:
        terms = statement.margin.packed()
        if statement.private_totals:
            fn = registry.functions.submitPrivateMarginRound(statement.round_id, statement.timestamp,
                                                             statement.proof, names, terms)
        else:
            fn = registry.functions.submitMarginRound(statement.round_id, statement.timestamp, statement.proof,
                                                      names, (list(statement.values), list(statement.debts)), terms)
    elif statement.private_totals:
        fn = registry.functions.submitPrivateRound(statement.round_id, statement.timestamp, statement.proof, names)
    else:
        fn = registry.functions.submitRound(statement.round_id, statement.timestamp, statement.proof, names,
                                            list(statement.values))
    return _transact(w3, registry, owner, fn, "the round")


@dataclass(frozen=True)
class ShardedState:
    """A sharded round as the registry holds it (``shardedRoundOf``)."""

    shard_count: int
    verified: int
    private_totals: bool
    complete: bool
    opened_block: int
    unsummed: tuple  # public mode: per asset, the round's total less the verified shards' totals


def sharded_state(registry, round_id: str) -> ShardedState | None:
    """The registry's state of a sharded round, None if it holds no round of that id; ChainError if it holds a round
    of one shard under that id."""
    try:
        count, verified, private, complete, block, unsummed = registry.functions.shardedRoundOf(round_id).call()
        return ShardedState(count, verified, private, complete, block, tuple(unsummed))
    except Exception as e:
        reason = _reason(e)
        if reason == "UnknownRound":
            return None
        raise ChainError(f"cannot read sharded round {round_id!r} from the registry: {reason}") from None


def publish_sharded(w3, registry, owner, statement: ShardedStatement, on_sent=None) -> list:
    """Open the sharded round on the registry (its M and its totals, or in private mode its allocations, which the
    registry checks against the reserves it reads) and submit every shard, one transaction each. Resumable: a
    round already opened is checked for its M and mode, and a shard already recorded is skipped. Returns
    [(what, receipt)] of the transactions sent ("open", "shard i"); ``on_sent(what, receipt)`` hears each."""
    _check_publishable(registry, statement)
    names = [a.name for a in statement.assets]
    shards = statement.shard_statements
    margin = statement.margin is not None
    if margin:
        terms = statement.margin.packed()
        weights = [w % R_MODULUS for w in statement.margin.weights([a.decimals for a in statement.assets])]
    count = len(shards)
    sent = []

    def send_and_note(what, fn, refusal):
        receipt = _transact(w3, registry, owner, fn, refusal)
        sent.append((what, receipt))
        if on_sent is not None:
            on_sent(what, receipt)

    state = sharded_state(registry, statement.round_id)
    if state is None and margin:
        values = ([v for shard in shards for v in shard.values] if statement.private_totals
                  else list(statement.values) + list(statement.debts))
        fn = registry.functions.openShardedMarginRound(statement.round_id, statement.timestamp, names, count, terms,
                                                       statement.private_totals, values)
        send_and_note("open", fn, f"the opening of round {statement.round_id!r}")
    elif state is None:
        if statement.private_totals:
            allocations = [v for shard in shards for v in shard.values]
            fn = registry.functions.openPrivateShardedRound(statement.round_id, statement.timestamp, names, count,
                                                            allocations)
        else:
            fn = registry.functions.openShardedRound(statement.round_id, statement.timestamp, names, count,
                                                     list(statement.values))
        send_and_note("open", fn, f"the opening of round {statement.round_id!r}")
    elif (state.shard_count, state.private_totals) != (count, statement.private_totals):
        mode = "private" if state.private_totals else "public"
        raise ChainError(f"the registry holds round {statement.round_id!r} opened with {state.shard_count} shards "
                         f"({mode} totals), not this round's {count}")
    for i, shard in enumerate(shards):
        if registry.functions.shardVerified(statement.round_id, i).call():
            continue
        if margin:
            values = list(shard.values) + ([] if statement.private_totals else list(shard.debts))
            fn = registry.functions.submitMarginShard(statement.round_id, i, shard.proof, values, weights)
        else:
            fn = registry.functions.submitShard(statement.round_id, i, shard.proof, list(shard.values))
        send_and_note(f"shard {i}", fn, f"shard {i} of {count}")
    return sent


def _reason(e: Exception) -> str:
    """The contract's own reason: a revert string, or a custom error of the registry with its arguments."""
    data = getattr(e, "data", None)
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        known = _REGISTRY_ERRORS.get(data[2:10])
        if known is not None:
            name, types = known
            if not types:
                return name
            from eth_abi import decode

            try:
                args = decode(types, bytes.fromhex(data[10:]))
            except Exception:  # a malformed payload: the name alone
                return name
            return f"{name}({', '.join(repr(a) for a in args)})"
    message = getattr(e, "message", None) or str(e)
    return message.replace("execution reverted: ", "")


def _error_selectors() -> dict:
    """{selector hex: (name, [argument types])} of the registry's custom errors."""
    from zksolvency.verifier.transcript import keccak256

    out = {}
    for line in REGISTRY_SOURCE.read_text().splitlines():
        line = line.strip()
        if line.startswith("error ") and line.endswith(";"):
            name, _, params = line[len("error "):-2].partition("(")
            types = [p.split()[0] for p in params.split(",") if p.strip()]
            out[keccak256(f"{name}({','.join(types)})".encode())[:4].hex()] = (name, types)
    return out


_REGISTRY_ERRORS = _error_selectors()


def inclusion_calldata(records) -> tuple:
    """(rows, record hashes, slots, proofs) for the registry's view, from checked-form records."""
    rows = [r.row for r in records]
    hashes = [r.record_hash for r in records]
    slots = [v for r in records for slot in r.slots for v in slot]
    proofs = [c for r in records for c in r.proof]
    return rows, hashes, slots, proofs


def margin_inclusion_calldata(records, weights) -> tuple:
    """((account, rows, record hashes, slots, proofs), key weights mod r) for a margin registry's view, from
    checked-form records (``audit.records_of``: one account key for all of a user's records)."""
    rows, hashes, slots, proofs = inclusion_calldata(records)
    account = records[0].account if records else 0
    return (account, rows, hashes, slots, proofs), [w % R_MODULUS for w in weights]


def check_inclusion_onchain(registry, round_id: str, records, measure_gas: bool = True, weights=None,
                            shard: int | None = None) -> tuple:
    """(the Rule the view reports, the gas estimate of its ``verifyInclusion`` or None) for a user's records;
    ``weights``: a margin round's key weights as it recorded them (``chain_keys``); ``shard``: the shard of a
    sharded round the records open against (the views that take it)."""
    from zksolvency.verifier.inclusion import Rule

    if shard is not None and weights is not None:
        args = (shard,) + margin_inclusion_calldata(records, weights)
        failure, verify = registry.functions.marginInclusionFailure, registry.functions.verifyMarginInclusion
    elif shard is not None:
        args = (shard,) + inclusion_calldata(records)
        failure, verify = registry.functions.inclusionFailure, registry.functions.verifyInclusion
    elif weights is None:
        args = inclusion_calldata(records)
        failure, verify = registry.functions.inclusionFailure, registry.functions.verifyInclusion
    else:
        args = margin_inclusion_calldata(records, weights)
        failure, verify = registry.functions.marginInclusionFailure, registry.functions.verifyMarginInclusion
    try:
        code = failure(round_id, *args).call()
        gas = verify(round_id, *args).estimate_gas() if measure_gas else None
    except Exception as e:  # web3 raises ContractLogicError and friends
        raise ChainError(f"the registry's inclusion view failed: {_reason(e)}") from None
    return Rule(code), gas


def recorded_round(registry, round_id: str, shard: int | None = None) -> dict:
    """The registry's record of a round with what checks against it need; InclusionError (Rule.ROUND_ID) if the
    registry holds no round of that id.

    ``shard``: the shard a customer's file names (None for a round of one shard). The record is then that shard's,
    of a complete sharded round: Rule.ROUND_ID for a round not complete (the registry's views refuse it), Rule.SHARD
    for a file naming no shard of a sharded round, a shard of a round of one shard, or a shard index the round
    does not have.
    """
    from zksolvency.verifier.inclusion import InclusionError, Rule

    margin = takes_margin_rounds(registry)
    try:
        if shard is None:
            (x, y, gamma, block, timestamp, assets), n, slots, g2, tau = (
                registry.functions.inclusionContext(round_id).call())
        else:
            (x, y, gamma, block, timestamp, assets), n, slots, g2, tau = (
                registry.functions.shardInclusionContext(round_id, shard).call())
    except Exception as e:
        reason = _reason(e)
        if reason == "UnknownRound":
            raise InclusionError(Rule.ROUND_ID, f"the registry holds no round {round_id!r}") from None
        if reason.startswith("ShardedRound("):
            raise InclusionError(Rule.SHARD, f"the registry holds round {round_id!r} as a sharded round of "
                                             f"{reason[13:-1]} shards; the file names no shard") from None
        if reason == "NotSharded":
            raise InclusionError(Rule.SHARD, f"the file names shard {shard}; the registry holds round "
                                             f"{round_id!r} as a round of one shard") from None
        if reason.startswith("BadShard("):
            raise InclusionError(Rule.SHARD, f"the file names shard {shard}; the registry's round {round_id!r} "
                                             f"has no such shard ({reason})") from None
        if reason.startswith("RoundNotComplete("):
            raise InclusionError(Rule.ROUND_ID, f"the registry's round {round_id!r} is not complete "
                                                f"({reason}): not every shard has verified") from None
        raise ChainError(f"cannot read round {round_id!r} from the registry: {reason}") from None
    if shard is None:
        names, private, inputs = _recorded_names(registry, round_id, block, margin=margin)
        count = 1
    else:
        state = sharded_state(registry, round_id)
        names, private, inputs = _recorded_names(registry, round_id, state.opened_block, sharded=True, margin=margin)
        count = state.shard_count
    if len(names) != assets:
        raise ChainError(f"the registry's record of round {round_id!r} names {len(names)} assets, not {assets}")
    decimals = {name: registry.functions.assetOf(name).call()[1] for name in names}
    return {"commitment": (x, y), "gamma": gamma, "block": block, "timestamp": timestamp, "asset_count": assets,
            "n": n, "slots": slots, "g2": g2, "tau_g2": tau, "assets": names, "private": private,
            "decimals": decimals, "margin": margin,
            "weights": _recorded_weights(round_id, inputs, [decimals[a] for a in names]) if margin else None,
            "shard": shard, "shard_count": count}


def _recorded_weights(round_id: str, terms, decimals) -> tuple:
    """A margin round's key weights as signed integers, from the terms it recorded (one word per asset,
    ``MarginTerms.packed``) and its assets' registered decimals: the registry's own rule (marginWeights). Nothing
    else is needed to trust them: the registry made the proof's weights from these terms, and a weight other than
    the proof's would fail the opening of every slot that uses it."""
    from zksolvency.margin import MarginError, MarginTerms

    if len(terms) != len(decimals):
        raise ChainError(f"the registry's record of margin round {round_id!r} holds {len(terms)} terms for "
                         f"{len(decimals)} assets")
    try:
        return tuple(MarginTerms.from_packed(terms).weights(decimals))
    except MarginError as e:
        raise ChainError(f"the registry's record of margin round {round_id!r} holds terms no registry makes: {e}") \
            from None


def _recorded_names(registry, round_id: str, block: int, sharded: bool = False, margin: bool = False) -> tuple:
    """(asset names in index order, whether the totals are private, what the event records besides) of a round:
    a round of one shard's RoundSubmitted event (its public inputs) or, in a margin registry (``margin``), its
    MarginRoundSubmitted event (its terms); a sharded round's (``sharded``) ShardedRoundOpened event (the totals
    or the reserves read), and a sharded margin round's ShardedMarginTerms event (its terms)."""
    from zksolvency.verifier.transcript import keccak256

    key = keccak256(round_id.encode("utf-8"))
    if sharded and margin:
        names, private, _ = _recorded_names(registry, round_id, block, sharded=True)
        return names, private, _one_log(registry.events.ShardedMarginTerms, round_id, block, key)["terms"]
    if sharded:
        event, field = registry.events.ShardedRoundOpened, "values"
    elif margin:
        event, field = registry.events.MarginRoundSubmitted, "terms"
    else:
        event, field = registry.events.RoundSubmitted, "publicInputs"
    args = _one_log(event, round_id, block, key)
    return list(args["assets"]), bool(args["privateTotals"]), list(args[field])


def _one_log(event, round_id: str, block: int, key: bytes):
    """The arguments of the one ``event`` of round ``key`` in ``block``; ChainError for none or several."""
    try:
        logs = event().get_logs(from_block=block, to_block=block, argument_filters={"roundKey": key})
    except Exception as e:
        raise ChainError(f"cannot read the registry's record of round {round_id!r}: {_reason(e)}") from None
    if len(logs) != 1:
        raise ChainError(f"the registry recorded round {round_id!r} in block {block}, but that block holds "
                         f"{len(logs)} records of it")
    return logs[0]["args"]


def recorded_keys(registry, round_id: str, expected=None, shard: int | None = None) -> tuple:
    """(InclusionKeys of the round the registry recorded, the record: ``recorded_round``); ``expected``: a
    verified round's keys, which the record must equal (InclusionError otherwise); ``shard``: the shard a
    customer's file names (the keys are then that shard's)."""
    from zksolvency.verifier.inclusion import InclusionError, Rule

    recorded = recorded_round(registry, round_id, shard)
    keys = chain_keys(recorded)
    if expected is not None and keys != expected:
        differ = [f for f in ("log_n", "slots", "asset_count", "commitment", "gamma", "g1", "g2", "tau_g2", "weights")
                  if getattr(keys, f) != getattr(expected, f)]
        raise InclusionError(Rule.ROUND_RECORD, f"the registry's record of round {round_id!r} is not the round "
                                                f"file's ({', '.join(differ)} differ)")
    return keys, recorded


class ViewCheck:
    """Decide on a user's records through the registry's ``inclusionFailure`` view; ``gas`` its estimate."""

    def __init__(self, registry, round_id: str, measure_gas: bool = True, shard: int | None = None):
        self.registry, self.round_id, self.measure_gas, self.gas = registry, round_id, measure_gas, None
        self.shard = shard

    def __call__(self, keys, records) -> None:
        from zksolvency.verifier.inclusion import InclusionError, Rule, check_shape

        # The view takes the slots of all records as one array: it cannot tell S + 1 slots in one record and
        # S - 1 in the next from S and S, so the shape is checked before it (its empty case too, for one verdict).
        check_shape(keys, records)
        rule, self.gas = check_inclusion_onchain(self.registry, self.round_id, records, self.measure_gas,
                                                 keys.weights, self.shard)
        if rule != Rule.VALID:
            raise InclusionError(rule, f"the registry's view refuses the records ({rule.name})")


def recorded_shape(recorded: dict) -> SolvencyShape:
    """The circuit shape of a recorded round (``recorded_round``)."""
    return SolvencyShape(recorded["n"].bit_length() - 1, recorded["slots"], recorded["private"], recorded["margin"])


def chain_keys(recorded: dict):
    """InclusionKeys of a recorded round (``recorded_round``), in the registry's own words."""
    from zksolvency.encoding import G1Point, G2Point
    from zksolvency.verifier.inclusion import InclusionKeys

    n, g2, tau = recorded["n"], recorded["g2"], recorded["tau_g2"]
    if n <= 0 or n & (n - 1):
        raise ChainError(f"the registry reports {n} rows, not a power of two")
    return InclusionKeys(n.bit_length() - 1, recorded["slots"], recorded["asset_count"],
                         G1Point(*recorded["commitment"]), recorded["gamma"], G1Point(1, 2),
                         G2Point((g2[1], g2[0]), (g2[3], g2[2])), G2Point((tau[1], tau[0]), (tau[3], tau[2])),
                         recorded.get("weights"))


@dataclass(frozen=True)
class Audit:
    verifier: str
    registry: str
    differences: tuple  # what does not match, one sentence each; empty when everything does

    @property
    def matches(self) -> bool:
        return not self.differences


def _masked(code: bytes, ranges) -> bytes:
    """The code with the immutables' bytes zeroed (their values are checked through the contract's views)."""
    out = bytearray(code)
    for start, length in ranges:
        out[start:start + length] = bytes(length)
    return bytes(out)


def audit_deployment(w3, registry_address: str, srs, statement: RoundStatement) -> Audit:
    """Whether the registry's verifier is the one generated from ``srs`` for the round's shape, and the registry
    is this project's registry bound to it: so that a registry audited once pins every customer's check.

    The verifier's key is made anew from the SRS, never taken from the round (``audit_against``).
    """
    from zksolvency.round import verifying_key_for

    expected_vk = verifying_key_for(statement, srs)
    audit = audit_against(w3, registry_address, statement.shape(), expected_vk)
    if statement.verifying_key != expected_vk:
        return dataclasses.replace(audit, differences=("the round's verifying key is not the circuit's for this SRS",)
                                   + audit.differences)
    return audit


def audit_against(w3, registry_address: str, shape: SolvencyShape, expected_vk) -> Audit:
    """Whether the registry's verifier is the one generated from ``expected_vk`` for ``shape``, and the registry
    is this project's registry bound to it.

    The verifier is generated, compiled with the pinned solc and compared byte for byte with the deployed code;
    the registry's code is compared with the compiled registry but for its immutables, whose values are read
    through its views and compared with the verifier's.
    """
    registry = registry_contract(w3, registry_address)
    differences = []
    # A margin shape has two registries (rounds of one shard, sharded rounds): the one the registry says it is, whose
    # code must then be that kind's to the byte.
    compiled = compile_contracts(shape, expected_vk, shape.margin and takes_only_sharded_rounds(registry))
    verifier_address = registry.functions.verifier().call()
    deployed = bytes(w3.eth.get_code(verifier_address))
    wanted = compiled["SolvencyVerifier"]
    if _masked(deployed, wanted["immutables"]) != _masked(bytes.fromhex(wanted["runtime"][2:]), wanted["immutables"]):
        differences.append(f"the verifier at {verifier_address} is not the one generated from the pinned key for "
                           f"the round's shape ({expected_vk.circuit}, 2^{shape.log_n} rows)")
    wanted = compiled["SolvencyRegistry"]
    code = bytes(w3.eth.get_code(registry.address))
    kind = registry_name(shape.margin, shape.margin and takes_only_sharded_rounds(registry))
    if _masked(code, wanted["immutables"]) != _masked(bytes.fromhex(wanted["runtime"][2:]), wanted["immutables"]):
        differences.append(f"the code at {registry.address} is not this project's {kind}")
    else:
        rules = registry.functions.inclusionRules().call()
        if bytes(w3.eth.get_code(rules)) != bytes.fromhex(wanted["inclusion_rules"][2:]):
            differences.append(f"the inclusion rules at {rules}, which the registry's views call, are not this "
                               f"project's InclusionRules")
        verifier = w3.eth.contract(address=verifier_address, abi=compiled["SolvencyVerifier"]["abi"])
        at, n, omega, g2, tau = registry.functions.verifierKeys().call()
        vn, vomega, vg2, vtau = verifier.functions.inclusionKeys().call()
        if (at, n, omega, list(g2), list(tau)) != (verifier.functions.inclusionCommitmentOffset().call(), vn, vomega,
                                                   list(vg2), list(vtau)):
            differences.append("the registry's copies of the verifier's keys are not the verifier's")
        if registry.functions.slotsPerRecord().call() != shape.slots:
            differences.append(f"the registry is for another number of slots than the round's {shape.slots}")
    return Audit(verifier_address, registry.address, tuple(differences))

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice The generated verifier of one circuit shape (contracts/Verifier.sol.template).
interface ISolvencyVerifier {
    function verifyProof(bytes calldata proof, uint256[] calldata publicInputs) external view returns (bool);
    function inclusionCommitmentOffset() external pure returns (uint256);
    function inclusionKeys() external pure returns (uint256 n, uint256 omega, uint256[4] memory g2, uint256[4] memory tauG2);
    function verifyProofGamma(bytes calldata proof, uint256[] calldata publicInputs) external view returns (uint256);
}

/// @notice Chainlink's price feed interface (the reads this registry makes of it).
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

interface IERC1271 {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

interface IERC20Balance {
    function balanceOf(address holder) external view returns (uint256);
    function decimals() external view returns (uint8);
}

/// @title SolvencyCommon: what the registries and their inclusion rules share: BN254's moduli, a round's
///        commitment word, the codes of the inclusion rules, the margin keys, and the precompiles' calls.
abstract contract SolvencyCommon {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant PRESENT = 1 << 254;
    /// Balances are range-checked below 2^64 units.
    uint256 internal constant UNITS_BOUND = 1 << 64;

    // Why an inclusion check fails: the codes and the order of zksolvency.verifier.inclusion.Rule.
    uint256 internal constant VALID = 0;
    uint256 internal constant NO_RECORDS = 1;
    uint256 internal constant SHAPE = 2;
    uint256 internal constant ROW_RANGE = 3;
    uint256 internal constant ODD_ROW = 4;
    uint256 internal constant DUPLICATE_ROW = 5;
    uint256 internal constant UNKNOWN_ASSET = 6;
    uint256 internal constant UNITS_RANGE = 7;
    uint256 internal constant EMPTY_SLOT_UNITS = 8;
    uint256 internal constant ZERO_UNITS = 9;
    uint256 internal constant EMPTY_NOT_LAST = 10;
    uint256 internal constant ASSET_ORDER = 11;
    uint256 internal constant EMPTY_RECORD = 12;
    uint256 internal constant RECORD_HASH = 13;
    uint256 internal constant PROOF_POINT = 14;
    uint256 internal constant OPENING = 15;
    uint256 internal constant SURPLUS = 20;
    uint256 internal constant SHARD = 21;

    // Margin rounds (zksolvency.circuits.solvency): slots are keyed 0 empty, 1..3 the words of the account's
    // surplus, then per asset j = 1..K its equity (key 2j + 2) and debt (key 2j + 3); each key has a weight.
    uint256 internal constant FIRST_ASSET_KEY = 4;
    uint256 internal constant SURPLUS_WORD_BITS = 64;

    error BadInput(string what);

    /// @dev (x, y) of a stored commitment word: y = sqrt(x^3 + 3) = (x^3 + 3)^((Q + 1) / 4) (Q = 3 mod 4),
    ///      negated if its parity is not the stored one. The word was made from a point on the curve.
    function _decompress(uint256 word) internal view returns (uint256 x, uint256 y) {
        x = word & (PRESENT - 1);
        y = _expmod(addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q), (Q + 1) / 4, Q);
        if ((y & 1) != (word >> 255)) y = Q - y;
    }

    function _mul(uint256 x, uint256 y, uint256 s) internal view returns (uint256 rx, uint256 ry) {
        uint256[3] memory input = [x, y, s];
        uint256[2] memory out;
        bool ok;
        assembly {
            ok := staticcall(gas(), 0x07, input, 96, out, 64)
        }
        if (!ok) revert BadInput("ecMul failed");
        return (out[0], out[1]);
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 rx, uint256 ry) {
        uint256[4] memory input = [x1, y1, x2, y2];
        uint256[2] memory out;
        bool ok;
        assembly {
            ok := staticcall(gas(), 0x06, input, 128, out, 64)
        }
        if (!ok) revert BadInput("ecAdd failed");
        return (out[0], out[1]);
    }

    function _expmod(uint256 base, uint256 e, uint256 modulus) internal view returns (uint256 result) {
        uint256[6] memory input = [uint256(32), 32, 32, base, e, modulus];
        uint256[1] memory out;
        bool ok;
        assembly {
            ok := staticcall(gas(), 0x05, input, 192, out, 32)
        }
        if (!ok) revert BadInput("modexp failed");
        return out[0];
    }
}

/// @title InclusionRules: the rules of a customer's inclusion check (zksolvency.verifier.inclusion), in one
///        contract that every registry creates in its constructor and calls from its views. Stateless: a round's
///        record and the domain's keys come from the registry with each call. Apart from the registries so that
///        each registry stays within the EVM's code size limit.
contract InclusionRules is SolvencyCommon {
    /// What a check needs of the round (or shard) the registry recorded and of its verifier's domain.
    struct Context {
        uint256 commitment; // the stored word: x, y's parity, PRESENT
        uint256 gamma;
        uint256 assetCount; // K
        uint256 n;
        uint256 omega;
        uint256 slots; // S, per record
        uint256[4] g2; // [1]_2: x.c1, x.c0, y.c1, y.c0
        uint256[4] tauG2; // [tau]_2, likewise
    }

    /// @notice A user's records, in index order: rows[i] is record i's first row, recordHashes[i] its hash
    ///         (computed by the user from their id, salt, i, rows.length and the slots), slots the records' S
    ///         (label, units) pairs one after the other, proofs the openings' (x, y) one after the other; in a
    ///         margin round, the user's account key (zksolvency.hashing.account_key; 0 for a user without debts),
    ///         computed by the user like the hashes (0 and unread in a spot round).
    struct Records {
        uint256 account;
        uint256[] rows;
        uint256[] recordHashes;
        uint256[] slots;
        uint256[] proofs;
    }

    /// @notice The first rule a spot round's records break (a code of zksolvency.verifier.inclusion.Rule), or
    ///         VALID; labels are asset indices 1..K.
    function spotFailure(Context calldata c, Records calldata r) external view returns (uint256) {
        uint256 code = _shapeFailure(c, r);
        if (code == VALID) code = _canonicalFailure(c, r, c.assetCount);
        if (code == VALID) code = _hashOrPointFailure(r);
        if (code != VALID) return code;
        uint256 width = 2 * c.slots;
        uint256[] memory values = new uint256[](r.rows.length);
        for (uint256 i = 0; i < values.length; i++) {
            values[i] = _combine(c.gamma, r.recordHashes[i], r.slots[i * width:(i + 1) * width]);
        }
        return _openAll(c, r, values) ? VALID : OPENING;
    }

    /// @notice The first rule a margin round's records break, or VALID: the spot rules with keys for labels
    ///         (0..2K + 3), then rule 20 (the surplus words are the account's haircut collateral less its debt),
    ///         then the openings, whose values include the account and each slot's weight. keyWeights: the round's
    ///         2K + 4 weights mod R as it recorded them.
    function marginFailure(Context calldata c, Records calldata r, uint256[] calldata keyWeights)
        external
        view
        returns (uint256)
    {
        uint256 keys = FIRST_ASSET_KEY + 2 * c.assetCount;
        uint256 code = _shapeFailure(c, r);
        if (code == VALID && keyWeights.length != keys) code = SHAPE;
        if (code == VALID) code = _canonicalFailure(c, r, keys - 1);
        if (code == VALID) code = _surplusFailure(r.slots, keyWeights);
        if (code == VALID) code = _hashOrPointFailure(r);
        if (code != VALID) return code;
        uint256 width = 2 * c.slots;
        bool indebted = _indebted(r.slots);
        uint256[] memory values = new uint256[](r.rows.length);
        for (uint256 i = 0; i < values.length; i++) {
            values[i] = _marginValue(c.gamma, r.recordHashes[i], r.account, indebted,
                                     r.slots[i * width:(i + 1) * width], keyWeights);
        }
        return _openAll(c, r, values) ? VALID : OPENING;
    }

    /// @dev Rules 1 and 2: there are records, and every array fits their number and the slots a record.
    function _shapeFailure(Context calldata c, Records calldata r) internal pure returns (uint256) {
        uint256 m = r.rows.length;
        if (m == 0) return NO_RECORDS;
        if (r.slots.length != m * 2 * c.slots || r.recordHashes.length != m || r.proofs.length != 2 * m) return SHAPE;
        return VALID;
    }

    /// @dev Rules 13 and 14: every record hash is a non-zero field element, every opening a point of G1.
    function _hashOrPointFailure(Records calldata r) internal pure returns (uint256) {
        uint256[] calldata recordHashes = r.recordHashes;
        uint256[] calldata proofs = r.proofs;
        for (uint256 i = 0; i < recordHashes.length; i++) {
            if (recordHashes[i] == 0 || recordHashes[i] >= R) return RECORD_HASH;
        }
        for (uint256 i = 0; i < recordHashes.length; i++) {
            if (!_isPoint(proofs[2 * i], proofs[2 * i + 1])) return PROOF_POINT;
        }
        return VALID;
    }

    /// @dev Rules 3..12 of zksolvency.verifier.inclusion.check_canonical, in its order; labels run 0..maxLabel
    ///      (spot: asset indices, maxLabel = K; margin: keys, maxLabel = 2K + 3).
    function _canonicalFailure(Context calldata c, Records calldata r, uint256 maxLabel)
        internal
        pure
        returns (uint256)
    {
        uint256[] calldata rows = r.rows;
        uint256[] calldata slots = r.slots;
        uint256 width = 2 * c.slots;
        uint256 n = c.n;
        uint256 lastAsset;
        bool emptySeen;
        for (uint256 i = 0; i < rows.length; i++) {
            uint256 row = rows[i];
            if (row >= n) return ROW_RANGE;
            if (row & 1 != 0) return ODD_ROW;
            for (uint256 j = 0; j < i; j++) {
                if (rows[j] == row) return DUPLICATE_ROW;
            }
            for (uint256 k = i * width; k < (i + 1) * width; k += 2) {
                uint256 asset = slots[k];
                uint256 units = slots[k + 1];
                if (asset > maxLabel) return UNKNOWN_ASSET;
                if (units >= UNITS_BOUND) return UNITS_RANGE;
                if (asset == 0) {
                    if (units != 0) return EMPTY_SLOT_UNITS;
                    emptySeen = true;
                    continue;
                }
                if (units == 0) return ZERO_UNITS;
                if (emptySeen) return EMPTY_NOT_LAST;
                if (asset <= lastAsset) return ASSET_ORDER;
                lastAsset = asset;
            }
        }
        if (rows.length > 1) {
            bool labelled;
            for (uint256 k = (rows.length - 1) * width; k < rows.length * width; k += 2) {
                if (slots[k] != 0) labelled = true;
            }
            if (!labelled) return EMPTY_RECORD;
        }
        return VALID;
    }

    function _isPoint(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= Q || y >= Q) return false;
        if (x == 0 && y == 0) return true; // the point at infinity, as the precompiles encode it
        return mulmod(y, y, Q) == addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q);
    }

    /// @dev hash + gamma slots[0] + gamma^2 slots[1] + ... mod R (slots below 2^64: checked before): a spot
    ///      record's value of the inclusion column.
    function _combine(uint256 gamma, uint256 recordHash, uint256[] calldata slots) internal pure returns (uint256 value) {
        for (uint256 k = slots.length; k > 0; k--) {
            value = addmod(mulmod(value, gamma, R), slots[k - 1], R);
        }
        value = addmod(mulmod(value, gamma, R), recordHash, R);
    }

    /// @dev An account with debts: some slot holds a debt key (zksolvency.verifier.inclusion.is_margin_account).
    function _indebted(uint256[] calldata slots) internal pure returns (bool) {
        for (uint256 k = 0; k < slots.length; k += 2) {
            uint256 key = slots[k];
            if (key >= FIRST_ASSET_KEY && (key - FIRST_ASSET_KEY) & 1 == 1) return true;
        }
        return false;
    }

    /// @dev Rule 20 (zksolvency.verifier.inclusion.check_surplus): an account with debts has surplus words equal
    ///      to sum units * weight over its other slots; one without has none. Keys and units are canonical here
    ///      (< 2K + 4, < 2^64) and |weight| <= 2^128, so no term reaches 2^192 and no sum can overflow.
    function _surplusFailure(uint256[] calldata slots, uint256[] calldata w) internal pure returns (uint256) {
        bool indebted = _indebted(slots);
        int256 words;
        int256 value;
        for (uint256 k = 0; k < slots.length; k += 2) {
            uint256 key = slots[k];
            if (key == 0) continue;
            if (key < FIRST_ASSET_KEY) {
                if (!indebted) return SURPLUS;
                words += int256(slots[k + 1] << (SURPLUS_WORD_BITS * (key - 1)));
            } else {
                uint256 weight = w[key];
                value += weight > R / 2 ? -int256(slots[k + 1] * (R - weight)) : int256(slots[k + 1] * weight);
            }
        }
        return indebted && words != value ? SURPLUS : VALID;
    }

    /// @dev The margin inclusion column's value at a record's row (zksolvency.verifier.inclusion.opened_value):
    ///      h + gamma account + gamma^2 account + then (key, units, weight) per slot, the weight the key's but 0
    ///      for the equity of an account without debts.
    function _marginValue(uint256 gamma, uint256 recordHash, uint256 account, bool indebted, uint256[] calldata slots,
                          uint256[] calldata w) internal pure returns (uint256 value) {
        for (uint256 k = slots.length; k > 0; k -= 2) {
            uint256 key = slots[k - 2];
            bool equity = key >= FIRST_ASSET_KEY && (key - FIRST_ASSET_KEY) & 1 == 0;
            value = addmod(mulmod(value, gamma, R), indebted || !equity ? w[key] : 0, R);
            value = addmod(mulmod(value, gamma, R), slots[k - 1], R);
            value = addmod(mulmod(value, gamma, R), key, R);
        }
        value = addmod(mulmod(value, gamma, R), account, R);
        value = addmod(mulmod(value, gamma, R), account, R);
        value = addmod(mulmod(value, gamma, R), recordHash, R);
    }

    struct Batch {
        uint256 rho; // the weight of record i is rho^i
        uint256 weight;
        uint256 commitmentWeight; // sum rho^i
        uint256 valueWeight; // sum rho^i v_i
        uint256 lx; // sum rho^i z_i pi_i
        uint256 ly;
        uint256 px; // sum rho^i pi_i
        uint256 py;
    }

    /// @dev All openings at once: e(sum rho^i (C - [v_i] + z_i pi_i), [1]) e(-sum rho^i pi_i, [tau]) == 1,
    ///      rho from a hash of everything checked (one record needs no rho).
    ///      values[i]: the column's value claimed at rows[i].
    function _openAll(Context calldata c, Records calldata r, uint256[] memory values) internal view returns (bool) {
        uint256[] calldata rows = r.rows;
        uint256[] calldata proofs = r.proofs;
        Batch memory b;
        uint256 omega = c.omega;
        b.rho = rows.length == 1 ? 1 : uint256(keccak256(abi.encode(c.commitment, c.gamma, rows, values, proofs))) % R;
        if (b.rho == 0) b.rho = 1;
        // Record 0 has weight 1: its terms start the sums (no multiplication by the weight, no addition to zero).
        b.commitmentWeight = 1;
        b.valueWeight = values[0];
        (b.lx, b.ly) = _mul(proofs[0], proofs[1], _expmod(omega, rows[0], R));
        (b.px, b.py) = (proofs[0], proofs[1]);
        b.weight = b.rho;
        for (uint256 i = 1; i < rows.length; i++) {
            uint256 z = _expmod(omega, rows[i], R);
            b.commitmentWeight = addmod(b.commitmentWeight, b.weight, R);
            b.valueWeight = addmod(b.valueWeight, mulmod(b.weight, values[i], R), R);
            (uint256 tx, uint256 ty) = _mul(proofs[2 * i], proofs[2 * i + 1], mulmod(b.weight, z, R));
            (b.lx, b.ly) = _add(b.lx, b.ly, tx, ty);
            (tx, ty) = _mul(proofs[2 * i], proofs[2 * i + 1], b.weight);
            (b.px, b.py) = _add(b.px, b.py, tx, ty);
            b.weight = mulmod(b.weight, b.rho, R);
        }
        (uint256 cx, uint256 cy) = _decompress(c.commitment);
        if (b.commitmentWeight != 1) (cx, cy) = _mul(cx, cy, b.commitmentWeight);
        (b.lx, b.ly) = _add(b.lx, b.ly, cx, cy);
        (cx, cy) = _mul(1, 2, (R - b.valueWeight) % R);
        (b.lx, b.ly) = _add(b.lx, b.ly, cx, cy);
        return _pairs(c, b.lx, b.ly, b.px, b.py);
    }

    /// @dev e((lx, ly), [1]_2) * e(-(px, py), [tau]_2) == 1.
    function _pairs(Context calldata c, uint256 lx, uint256 ly, uint256 px, uint256 py) internal view returns (bool) {
        uint256 negY = py == 0 ? 0 : Q - py;
        uint256[12] memory input = [lx, ly, c.g2[0], c.g2[1], c.g2[2], c.g2[3], px, negY,
                                    c.tauG2[0], c.tauG2[1], c.tauG2[2], c.tauG2[3]];
        uint256[1] memory out;
        bool ok;
        assembly {
            ok := staticcall(gas(), 0x08, input, 384, out, 32)
        }
        if (!ok) revert BadInput("pairing call failed");
        return out[0] == 1;
    }
}

/// @title SolvencyRegistryBase: an exchange's proven solvency rounds and the reserves it holds on-chain.
/// @notice What every registry shares (SolvencyRegistry for spot rounds, MarginSolvencyRegistry for margin
///         rounds, two contracts so that each stays within the EVM's code size limit): assets, reserves, the
///         rounds' records and the inclusion rules. Owned by the exchange and bound for life to one verifier. Reserve addresses are registered with a
///         signature of their own key. A round is recorded only if its proof verifies; in private-totals mode
///         the registry reads the reserves itself and feeds them to the proof as public inputs. Users check
///         their inclusion with `verifyInclusion`, one pairing-product check against the stored commitment.
abstract contract SolvencyRegistryBase is SolvencyCommon {
    /// Reserves enter the circuit's range check below 2^128 units; more is capped (conservative).
    uint256 internal constant MAX_RESERVE_UNITS = (1 << 128) - 1;

    address public immutable owner;
    ISolvencyVerifier public immutable verifier;
    /// The inclusion rules this registry's views apply, created with it (so its code is this project's).
    InclusionRules public immutable inclusionRules;
    uint256 public immutable slotsPerRecord;
    uint256 internal immutable inclusionAt;
    uint256 internal immutable domainSize;
    uint256 internal immutable omega;
    uint256 internal immutable g2x1;
    uint256 internal immutable g2x0;
    uint256 internal immutable g2y1;
    uint256 internal immutable g2y0;
    uint256 internal immutable tauX1;
    uint256 internal immutable tauX0;
    uint256 internal immutable tauY1;
    uint256 internal immutable tauY0;

    struct Reserve {
        address holder;
        address token; // address(0): the chain's native currency (ETH, 18 decimals)
    }

    // Three storage words a round: the inclusion commitment users open, compressed (x, the parity of y
    // at bit 255 and a set bit 254, so a recorded round's word is never 0; x < Q < 2^254), the
    // transcript's combination challenge, and when it was recorded.
    // The third word also holds K, the round's asset count: a user's slot may name assets 1..K only.
    struct Round {
        uint256 commitment;
        uint256 gamma;
        uint64 blockNumber;
        uint64 timestamp;
        uint32 assetCount;
    }

    struct RoundView {
        uint256 commitmentX;
        uint256 commitmentY;
        uint256 gamma;
        uint64 blockNumber;
        uint64 timestamp;
        uint32 assetCount;
    }

    struct AssetInfo {
        bool registered;
        uint8 decimals; // the round's units: 10^-decimals of the asset
        uint8 kind; // NATIVE, TOKEN, or OFFCHAIN (reserves elsewhere: public rounds only)
        address token; // TOKEN: the ERC-20 contract
        bool priced; // a margin registry took a price feed for it (in the same storage word: read with the rest)
    }

    uint8 internal constant NATIVE = 0;
    uint8 internal constant TOKEN = 1;
    uint8 internal constant OFFCHAIN = 2;

    uint256 internal constant MAX_NAME_BYTES = 64;
    uint8 internal constant MAX_DECIMALS = 30; // as round.json allows
    uint256 internal constant MAX_TOKEN_DECIMALS = 77; // 10^77 < 2^256

    mapping(bytes32 => AssetInfo) internal assets; // keccak256(name) -> the asset, registered once
    mapping(address => bytes32) internal assetOfToken; // token (or address(0)) -> the one name it stands under
    string[] internal assetNames;
    mapping(bytes32 => bool) internal counted; // keccak256(holder, token): registered as reserves once
    mapping(bytes32 => Reserve[]) internal reserves; // keccak256(asset name) -> registered holders
    mapping(bytes32 => Round) internal rounds; // keccak256(round id) -> round

    event AssetRegistered(string name, uint8 decimals, uint8 kind, address indexed token);
    event ReserveRegistered(string asset, address indexed holder, address indexed token);

    error NotOwner();
    error RoundExists(string roundId);
    error UnknownRound();
    error BadSignature();
    error AssetExists(string name);
    error UnknownAsset(string name);
    error ReserveExists(string asset, address holder);
    error ShardedRound(uint256 shardCount);

    constructor(ISolvencyVerifier verifier_, uint256 slotsPerRecord_) {
        owner = msg.sender;
        verifier = verifier_;
        inclusionRules = new InclusionRules();
        slotsPerRecord = slotsPerRecord_;
        uint256 at = verifier_.inclusionCommitmentOffset();
        if (at == 0) revert BadInput("verifier has no inclusion commitment");
        inclusionAt = at;
        (uint256 n, uint256 w, uint256[4] memory g2, uint256[4] memory tau) = verifier_.inclusionKeys();
        domainSize = n;
        omega = w;
        (g2x1, g2x0, g2y1, g2y0) = (g2[0], g2[1], g2[2], g2[3]);
        (tauX1, tauX0, tauY1, tauY0) = (tau[0], tau[1], tau[2], tau[3]);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    /// @notice Whether this registry takes margin rounds (its verifier's circuit is a margin round's).
    function margin() external pure virtual returns (bool);

    /// @notice Whether this registry takes sharded rounds only (a ShardedMarginSolvencyRegistry); the spot registry
    ///         takes both kinds, MarginSolvencyRegistry rounds of one shard only.
    function shardedOnly() external pure virtual returns (bool) {
        return false;
    }

    // ------------------------------------------------------------------ assets and reserves

    /// @notice Registers an asset once, for good: the units a round counts it in (10^-decimals of the asset), and
    ///         where its reserves are (token: an ERC-20 contract, or address(0) for the chain's native currency).
    ///         A token, and the native currency, stand under one name only.
    function registerAsset(string calldata name, uint8 decimals, address token) external onlyOwner {
        _registerAsset(name, decimals, token == address(0) ? NATIVE : TOKEN, token);
    }

    /// @notice Registers an asset whose reserves are not on this chain (BTC, say): rounds with public totals can
    ///         name it; the registry reads no reserves of it, so private rounds cannot.
    function registerOffchainAsset(string calldata name, uint8 decimals) external onlyOwner {
        _registerAsset(name, decimals, OFFCHAIN, address(0));
    }

    function _registerAsset(string calldata name, uint8 decimals, uint8 kind, address token) internal {
        bytes32 key = keccak256(bytes(name));
        if (bytes(name).length == 0 || bytes(name).length > MAX_NAME_BYTES) revert BadInput("asset name");
        if (assets[key].registered) revert AssetExists(name);
        if (decimals > MAX_DECIMALS) revert BadInput("decimals");
        if (kind != OFFCHAIN) {
            if (assetOfToken[token] != bytes32(0)) revert BadInput("token already registered under another name");
            assetOfToken[token] = key;
        }
        if (kind == TOKEN) {
            if (token.code.length == 0) revert BadInput("token is not a contract");
            (bool ok, bytes memory out) = token.staticcall(abi.encodeWithSelector(IERC20Balance.decimals.selector));
            if (!ok || out.length != 32 || abi.decode(out, (uint256)) > MAX_TOKEN_DECIMALS) {
                revert BadInput("token has no decimals()");
            }
            (ok, out) = token.staticcall(abi.encodeWithSelector(IERC20Balance.balanceOf.selector, address(this)));
            if (!ok || out.length != 32) revert BadInput("token has no balanceOf()");
        }
        assets[key] = AssetInfo(true, decimals, kind, token, false);
        assetNames.push(name);
        emit AssetRegistered(name, decimals, kind, token);
    }

    function assetOf(string calldata name)
        external
        view
        returns (bool registered, uint8 decimals, uint8 kind, address token)
    {
        AssetInfo storage a = assets[keccak256(bytes(name))];
        return (a.registered, a.decimals, a.kind, a.token);
    }

    function registeredAssets() external view returns (string[] memory) {
        return assetNames;
    }

    /// @notice The message a reserve holder signs (EIP-191 personal_sign of this hash): it names this
    ///         registry, the chain, the asset and the token, so a signature cannot be replayed elsewhere.
    function reserveMessage(string calldata asset, address holder, address token) public view returns (bytes32) {
        return keccak256(abi.encodePacked("zksolvency/reserve/v1", block.chainid, address(this), keccak256(bytes(asset)), holder, token));
    }

    /// @notice Registers holder's balance of a registered asset as reserves, signed by the holder: an account's
    ///         key (ecrecover), or a contract wallet's EIP-1271 isValidSignature. A (holder, token) counts once.
    function registerReserve(string calldata asset, address holder, bytes calldata signature) external onlyOwner {
        bytes32 key = keccak256(bytes(asset));
        AssetInfo storage a = assets[key];
        if (!a.registered) revert UnknownAsset(asset);
        if (a.kind == OFFCHAIN) revert BadInput("reserves not on this chain");
        bytes32 pair = keccak256(abi.encodePacked(holder, a.token));
        if (counted[pair]) revert ReserveExists(asset, holder);
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", reserveMessage(asset, holder, a.token)));
        if (holder.code.length > 0) {
            (bool ok, bytes memory out) =
                holder.staticcall(abi.encodeWithSelector(IERC1271.isValidSignature.selector, digest, signature));
            if (!ok || out.length != 32 || abi.decode(out, (bytes4)) != IERC1271.isValidSignature.selector) {
                revert BadSignature();
            }
        } else {
            if (signature.length != 65) revert BadSignature();
            bytes32 r = bytes32(signature[0:32]);
            bytes32 s = bytes32(signature[32:64]);
            uint8 v = uint8(signature[64]);
            if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) revert BadSignature();
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0) || signer != holder) revert BadSignature();
        }
        counted[pair] = true;
        reserves[key].push(Reserve(holder, a.token));
        emit ReserveRegistered(asset, holder, a.token);
    }

    function reservesOf(string calldata asset) external view returns (Reserve[] memory) {
        return reserves[keccak256(bytes(asset))];
    }

    /// @notice The asset's reserves now, in its registered units, rounded down and capped below 2^128.
    function reserveUnits(string calldata asset) public view returns (uint256) {
        AssetInfo storage a = assets[keccak256(bytes(asset))];
        if (!a.registered) revert UnknownAsset(asset);
        return _reserveUnits(keccak256(bytes(asset)), a.decimals);
    }

    /// @notice Every registered asset's reserves now (in its units): anyone can watch them between rounds.
    function reservesNow() external view returns (string[] memory names, uint256[] memory units) {
        names = assetNames;
        units = new uint256[](names.length);
        for (uint256 i = 0; i < names.length; i++) {
            bytes32 key = keccak256(bytes(names[i]));
            units[i] = _reserveUnits(key, assets[key].decimals);
        }
    }

    function _reserveUnits(bytes32 key, uint8 decimals) internal view returns (uint256 units) {
        Reserve[] storage list = reserves[key];
        for (uint256 i = 0; i < list.length; i++) {
            uint256 amount;
            uint8 tokenDecimals;
            if (list[i].token == address(0)) {
                amount = list[i].holder.balance;
                tokenDecimals = 18;
            } else {
                amount = IERC20Balance(list[i].token).balanceOf(list[i].holder);
                tokenDecimals = IERC20Balance(list[i].token).decimals();
            }
            uint256 scaled;
            if (tokenDecimals >= decimals) {
                scaled = amount / (10 ** (tokenDecimals - decimals));
            } else {
                uint256 factor = 10 ** (decimals - tokenDecimals);
                scaled = amount > MAX_RESERVE_UNITS / factor ? MAX_RESERVE_UNITS : amount * factor;
            }
            units += scaled;
            if (units > MAX_RESERVE_UNITS) return MAX_RESERVE_UNITS;
        }
    }

    // ------------------------------------------------------------------ rounds

    /// @notice The round's tag (zksolvency.hashing.round_tag): its id, its time, and each named asset with the
    ///         decimals the registry registered for it, so that a proof holds only under the labels it was made
    ///         for. Every name must be a registered asset, named once.
    function roundTag(string calldata roundId, string calldata timestamp, string[] calldata names)
        public
        view
        returns (uint256 tag)
    {
        (tag,) = _roundTag(roundId, timestamp, names);
    }

    /// @dev The round's tag and its assets' keys (keccak256 of each name), in the round's order.
    function _roundTag(string calldata roundId, string calldata timestamp, string[] calldata names)
        internal
        view
        returns (uint256, bytes32[] memory keys)
    {
        if (names.length == 0) revert BadInput("no assets");
        bytes32 t = keccak256(abi.encodePacked("zksolvency/round/v2", uint32(bytes(roundId).length), roundId,
                                               uint32(bytes(timestamp).length), timestamp, uint32(names.length)));
        keys = new bytes32[](names.length);
        for (uint256 i = 0; i < names.length; i++) {
            bytes32 key = keccak256(bytes(names[i]));
            AssetInfo storage a = assets[key];
            if (!a.registered) revert UnknownAsset(names[i]);
            for (uint256 j = 0; j < i; j++) {
                if (keys[j] == key) revert BadInput("an asset named twice");
            }
            keys[i] = key;
            t = keccak256(abi.encodePacked(t, key, a.decimals));
        }
        return (uint256(t) % R, keys);
    }

    /// @dev Verify a round of one shard and store its record (each registry emits its event of it).
    function _verifyAndStore(string calldata roundId, bytes calldata proof, uint256[] memory inputs,
                             uint256 assetCount) internal returns (bytes32 key) {
        key = keccak256(bytes(roundId));
        if (rounds[key].commitment != 0) revert RoundExists(roundId);
        if (assetCount == 0 || assetCount > type(uint32).max) revert BadInput("asset count");
        // The verifier reverts on any failure, and the revert propagates.
        rounds[key] = _recordOf(proof, verifier.verifyProofGamma(proof, inputs), assetCount);
    }

    /// @dev A round word without a commitment: no round (UnknownRound), or a sharded round's, whose commitments
    ///      are its shards' (ShardedRound: the caller must name a shard).
    function _refuseUnrecorded(uint256 word) internal pure {
        if (word == 0) revert UnknownRound();
        revert ShardedRound(uint32(word));
    }

    /// @dev A verified proof's record: its inclusion commitment compressed, gamma, now, and K.
    function _recordOf(bytes calldata proof, uint256 gamma, uint256 assetCount) internal view returns (Round memory) {
        uint256 x = uint256(bytes32(proof[inclusionAt:inclusionAt + 32]));
        uint256 y = uint256(bytes32(proof[inclusionAt + 32:inclusionAt + 64]));
        return Round(x | ((y & 1) << 255) | PRESENT, gamma, uint64(block.number), uint64(block.timestamp),
                     uint32(assetCount));
    }

    function roundOf(string calldata roundId) public view returns (RoundView memory out) {
        Round storage round = rounds[keccak256(bytes(roundId))];
        uint256 word = round.commitment;
        if (word & PRESENT == 0) _refuseUnrecorded(word);
        (uint256 x, uint256 y) = _decompress(word);
        out = RoundView(x, y, round.gamma, round.blockNumber, round.timestamp, round.assetCount);
    }

    /// @notice The copies of the verifier's facts this registry was constructed with (every immutable not public
    ///         by itself), so that an audit can compare them with the verifier (audit-deployment).
    function verifierKeys()
        external
        view
        returns (uint256 at, uint256 n, uint256 w, uint256[4] memory g2, uint256[4] memory tauG2)
    {
        return (inclusionAt, domainSize, omega, [g2x1, g2x0, g2y1, g2y0], [tauX1, tauX0, tauY1, tauY0]);
    }

    /// @notice All an inclusion check needs, in one call: the round's record, the domain size n, the slots per
    ///         record and the pairing's G2 points ([1]_2, [tau]_2; x.c1, x.c0, y.c1, y.c0), copied from the verifier.
    function inclusionContext(string calldata roundId)
        external
        view
        returns (RoundView memory round, uint256 n, uint256 slots, uint256[4] memory g2, uint256[4] memory tauG2)
    {
        round = roundOf(roundId);
        return (round, domainSize, slotsPerRecord, [g2x1, g2x0, g2y1, g2y0], [tauX1, tauX0, tauY1, tauY0]);
    }


    /// @dev What the inclusion rules need of a recorded round (or shard): its record and the domain's keys.
    function _context(Round storage round) internal view returns (InclusionRules.Context memory) {
        return InclusionRules.Context(round.commitment, round.gamma, round.assetCount, domainSize, omega,
                                      slotsPerRecord, [g2x1, g2x0, g2y1, g2y0], [tauX1, tauX0, tauY1, tauY0]);
    }

    /// @dev A round of one shard's record; reverts for no round (UnknownRound) or a sharded one (ShardedRound).
    function _recordedRound(string calldata roundId) internal view returns (Round storage round) {
        round = rounds[keccak256(bytes(roundId))];
        if (round.commitment & PRESENT == 0) _refuseUnrecorded(round.commitment);
    }

    // ------------------------------------------------------------------ sharded rounds

    // A sharded round's word in `rounds` has no commitment (PRESENT clear, SHARDED set): it holds the shard count M,
    // how many shards have verified and the mode; the round's gamma word holds its tag, the third word the block and
    // time of opening and K. Each shard's record is a round record of its own (shardRounds), made when it verifies.
    // What a shard's values are is the registry's kind's (_shardInputs): per asset its totals (public mode) or its
    // allocation of the reserves (private mode).
    uint256 internal constant SHARDED = 1 << 253;
    uint256 internal constant VERIFIED_AT = 32; // bits 32..63: the shards verified so far
    uint256 internal constant PRIVATE_BIT = 1 << 64;
    uint256 internal constant MAX_SHARDS = 1 << 20; // as zksolvency.shards

    /// @dev Whether a round word is a sharded round's. A recorded round's word has PRESENT set and its commitment's
    ///      x below it, whose bit 253 may be set too: SHARDED means sharded only where PRESENT is clear.
    function _sharded(uint256 word) internal pure returns (bool) {
        return word & (PRESENT | SHARDED) == SHARDED;
    }

    mapping(bytes32 => mapping(uint256 => Round)) internal shardRounds; // round key -> shard index -> record
    // Public mode: per total, the round's total less the totals of the shards verified so far (never negative).
    mapping(bytes32 => uint256[]) internal unsummed;
    // Private mode: keccak256 of each shard's allocation (its K reserves inputs), fixed at opening.
    mapping(bytes32 => mapping(uint256 => bytes32)) internal allocationHash;

    /// The round's labels and M; `values` the totals (public; a margin round's equity totals, then its debt totals)
    /// or the reserves read at opening (private), and in private mode every shard's allocation (M rows of K, shard
    /// by shard).
    event ShardedRoundOpened(string roundId, bytes32 indexed roundKey, bool privateTotals, string[] assets,
                             uint256 shardCount, uint256[] values, uint256[] allocations);
    /// A shard's proof verified: the tag it proves under and its values (totals, or allocation).
    event ShardSubmitted(bytes32 indexed roundKey, uint256 indexed shard, uint256 tag, uint256[] values,
                         bytes32 proofHash);
    event ShardedRoundComplete(string roundId, bytes32 indexed roundKey);

    error BadShard(uint256 shard, uint256 shardCount);
    error ShardExists(uint256 shard);
    error NotAllocation(uint256 shard);
    // index: of the total (1..K, then K + 1..2K for a margin round's debts). The shards' totals pass the round's,
    // or the last shard's leave some of it unsummed.
    error ShardTotalsNotRound(uint256 asset);
    error AllocationsPastReserves(uint256 asset);
    error NotSharded();
    error RoundNotComplete(uint256 verified, uint256 shardCount);

    /// @dev Open a round of `shardCount` shards under `tag` (the round's, as roundTag makes it).
    function _open(string calldata roundId, uint256 tag, uint256 assetCount, uint256 shardCount, bool privateTotals)
        internal
        returns (bytes32 key)
    {
        key = keccak256(bytes(roundId));
        if (rounds[key].commitment != 0) revert RoundExists(roundId);
        if (shardCount < 2 || shardCount > MAX_SHARDS) revert BadInput("a sharded round has 2 to 2^20 shards");
        if (assetCount > type(uint32).max) revert BadInput("asset count");
        rounds[key] = Round(SHARDED | (privateTotals ? PRIVATE_BIT : 0) | shardCount, tag, uint64(block.number),
                            uint64(block.timestamp), uint32(assetCount));
    }

    /// @dev A public sharded round's totals, which the shards' must sum to exactly, and its announcement.
    function _openPublic(string calldata roundId, bytes32 key, string[] calldata names, uint256 shardCount,
                         uint256[] calldata totals) internal {
        unsummed[key] = totals;
        emit ShardedRoundOpened(roundId, key, false, names, shardCount, totals, new uint256[](0));
    }

    /// @dev Open a private sharded round's allocations (_allocate) and announce it.
    function _openPrivate(string calldata roundId, bytes32 key, string[] calldata names, uint256 shardCount,
                          uint256[] calldata allocations) internal {
        uint256[] memory reserveNow = _allocate(key, names, shardCount, allocations);
        emit ShardedRoundOpened(roundId, key, true, names, shardCount, reserveNow, allocations);
    }

    /// @dev Private mode: the reserves of each asset now (registered, on this chain), which the shards' allocations
    ///      (M rows of K, shard by shard) must not pass in sum; each shard's allocation is kept as a hash.
    function _allocate(bytes32 key, string[] calldata names, uint256 shardCount, uint256[] calldata allocations)
        internal
        returns (uint256[] memory reserveNow)
    {
        uint256 k = names.length;
        if (allocations.length / shardCount != k || allocations.length % shardCount != 0) {
            revert BadInput("an allocation of every asset for every shard");
        }
        reserveNow = new uint256[](k);
        for (uint256 j = 0; j < k; j++) {
            if (assets[keccak256(bytes(names[j]))].kind == OFFCHAIN) revert BadInput("reserves not on this chain");
            reserveNow[j] = reserveUnits(names[j]);
            uint256 sum;
            for (uint256 i = 0; i < shardCount; i++) sum += allocations[i * k + j];
            if (sum > reserveNow[j]) revert AllocationsPastReserves(j + 1);
        }
        for (uint256 i = 0; i < shardCount; i++) {
            allocationHash[key][i] = keccak256(abi.encodePacked(allocations[i * k:(i + 1) * k]));
        }
    }

    /// @dev The tag shard `index` of `shardCount` proves under (zksolvency.hashing.shard_tag).
    function _shardTag(uint256 tag, uint256 index, uint256 shardCount) internal pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked("zksolvency/shard/v1", tag, uint32(index), uint32(shardCount)))) % R;
    }

    /// @dev How many values a shard states (public mode: its totals; private mode: its allocation): K in a spot
    ///      round (a sharded margin registry's: 2K in public mode).
    function _shardValueCount(bool, uint256 assetCount) internal pure virtual returns (uint256) {
        return assetCount;
    }

    /// @dev The public inputs of a shard's proof from its tag, its values and (margin) the round's key weights: a
    ///      spot round's [tag, values].
    function _shardInputs(bytes32, uint256 tag, uint256[] calldata values, uint256[] calldata)
        internal
        view
        virtual
        returns (uint256[] memory inputs)
    {
        inputs = new uint256[](values.length + 1);
        inputs[0] = tag;
        for (uint256 j = 0; j < values.length; j++) inputs[j + 1] = values[j];
    }

    /// @dev Record shard `index` of an opened round: its proof verifies under the shard's tag with `values`, its
    ///      totals (public: taken off what the round's totals leave, refused if one would pass it, and at the last
    ///      shard required to reach it exactly) or its allocation (private: the one fixed at opening). Each shard
    ///      once; the round is complete, with ShardedRoundComplete, when every shard has verified.
    function _submitShard(string calldata roundId, uint256 index, bytes calldata proof, uint256[] calldata values,
                          uint256[] calldata weights) internal {
        (bytes32 key, uint256 tag, bool complete) = _takeShard(roundId, index, values);
        // The verifier reverts on any failure, and the revert undoes the shard's count.
        uint256 gamma = verifier.verifyProofGamma(proof, _shardInputs(key, tag, values, weights));
        shardRounds[key][index] = _recordOf(proof, gamma, rounds[key].assetCount);
        emit ShardSubmitted(key, index, tag, values, keccak256(proof));
        if (complete) emit ShardedRoundComplete(roundId, key);
    }

    /// @dev _submitShard's checks of everything but the proof, and the shard counted: (the round's key, the
    ///      shard's tag, whether it is the last).
    function _takeShard(string calldata roundId, uint256 index, uint256[] calldata values)
        internal
        returns (bytes32 key, uint256 tag, bool complete)
    {
        key = keccak256(bytes(roundId));
        Round storage round = rounds[key];
        uint256 word = round.commitment;
        if (word == 0) revert UnknownRound();
        if (!_sharded(word)) revert NotSharded();
        uint256 count = uint32(word);
        if (index >= count) revert BadShard(index, count);
        if (shardRounds[key][index].commitment != 0) revert ShardExists(index);
        if (values.length != _shardValueCount(word & PRIVATE_BIT != 0, round.assetCount)) {
            revert BadInput("a value for every asset");
        }
        uint256 verified = uint32(word >> VERIFIED_AT) + 1;
        complete = verified == count;
        if (word & PRIVATE_BIT != 0) {
            if (keccak256(abi.encodePacked(values)) != allocationHash[key][index]) revert NotAllocation(index);
        } else {
            _addShardTotals(key, values, complete);
        }
        tag = _shardTag(round.gamma, index, count);
        round.commitment = (word & ~(uint256(type(uint32).max) << VERIFIED_AT)) | (verified << VERIFIED_AT);
    }

    /// @dev Public mode: take a shard's totals off what the round's totals leave; the last shard must take it all.
    function _addShardTotals(bytes32 key, uint256[] calldata totals, bool last) internal {
        uint256[] storage left = unsummed[key];
        for (uint256 j = 0; j < totals.length; j++) {
            uint256 rest = left[j];
            if (totals[j] > rest || (last && totals[j] != rest)) revert ShardTotalsNotRound(j + 1);
            if (totals[j] != 0) left[j] = rest - totals[j];
        }
    }

    /// @notice A sharded round's state: M, the shards verified so far, the mode, whether it is complete, the block
    ///         it was opened in, and (public mode) per total the round's total less the shards' totals so far.
    function shardedRoundOf(string calldata roundId)
        external
        view
        returns (uint256 shardCount, uint256 verified, bool privateTotals, bool complete, uint64 openedBlock,
                 uint256[] memory unsummedTotals)
    {
        bytes32 key = keccak256(bytes(roundId));
        Round storage round = rounds[key];
        uint256 word = round.commitment;
        if (word == 0) revert UnknownRound();
        if (!_sharded(word)) revert NotSharded();
        shardCount = uint32(word);
        verified = uint32(word >> VERIFIED_AT);
        return (shardCount, verified, word & PRIVATE_BIT != 0, verified == shardCount, round.blockNumber, unsummed[key]);
    }

    /// @notice Whether shard `index` of a sharded round has verified.
    function shardVerified(string calldata roundId, uint256 index) external view returns (bool) {
        return shardRounds[keccak256(bytes(roundId))][index].commitment != 0;
    }

    /// @notice inclusionContext for shard `index` of a complete sharded round: that shard's record (what its
    ///         customers check against); reverts for a round not complete (RoundNotComplete) or a shard it does not
    ///         have (BadShard).
    function shardInclusionContext(string calldata roundId, uint256 index)
        external
        view
        returns (RoundView memory round, uint256 n, uint256 slots, uint256[4] memory g2, uint256[4] memory tauG2)
    {
        Round storage shard = _completeShard(keccak256(bytes(roundId)), index);
        (uint256 x, uint256 y) = _decompress(shard.commitment);
        round = RoundView(x, y, shard.gamma, shard.blockNumber, shard.timestamp, shard.assetCount);
        return (round, domainSize, slotsPerRecord, [g2x1, g2x0, g2y1, g2y0], [tauX1, tauX0, tauY1, tauY0]);
    }

    /// @dev Shard `index`'s record, the round complete (every shard verified); reverts otherwise.
    function _completeShard(bytes32 key, uint256 index) internal view returns (Round storage) {
        uint256 word = rounds[key].commitment;
        if (word == 0) revert UnknownRound();
        if (!_sharded(word)) revert NotSharded();
        uint256 count = uint32(word);
        if (index >= count) revert BadShard(index, count);
        uint256 verified = uint32(word >> VERIFIED_AT);
        if (verified != count) revert RoundNotComplete(verified, count);
        return shardRounds[key][index];
    }

    /// @dev The record a sharded round's customer checks against, or (no record) SHARD for a shard index the round
    ///      does not have: a malformed file gives a rule, never a revert, like any malformed input.
    function _shardContext(string calldata roundId, uint256 shard)
        internal
        view
        returns (InclusionRules.Context memory c, uint256 code)
    {
        bytes32 key = keccak256(bytes(roundId));
        uint256 word = rounds[key].commitment;
        if (_sharded(word) && shard >= uint32(word)) return (c, SHARD);
        return (_context(_completeShard(key, shard)), VALID);
    }
}

/// @title SolvencyRegistry: a registry of spot rounds (balances per asset, totals public or within reserves).
contract SolvencyRegistry is SolvencyRegistryBase {
    /// The round's assets (names, in index order) and public inputs; its commitment is in storage (roundOf).
    event RoundSubmitted(string roundId, bytes32 indexed roundKey, bool privateTotals, string[] assets,
                         uint256[] publicInputs, bytes32 proofHash);

    constructor(ISolvencyVerifier verifier_, uint256 slotsPerRecord_) SolvencyRegistryBase(verifier_, slotsPerRecord_) {}

    function margin() external pure override returns (bool) {
        return false;
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Record a round with public totals over registered assets: publicInputs = [tag, total_1 .. total_K].
    function submitRound(string calldata roundId, string calldata timestamp, bytes calldata proof,
                         string[] calldata names, uint256[] calldata totals) external onlyOwner {
        if (totals.length != names.length) revert BadInput("a total for every asset");
        uint256[] memory inputs = new uint256[](totals.length + 1);
        inputs[0] = roundTag(roundId, timestamp, names);
        for (uint256 i = 0; i < totals.length; i++) inputs[i + 1] = totals[i];
        _record(roundId, proof, inputs, false, names);
    }

    /// @notice Record a round with private totals over registered assets whose reserves are on this chain: the
    ///         registry reads each asset's reserves itself, in the units it registered.
    function submitPrivateRound(string calldata roundId, string calldata timestamp, bytes calldata proof,
                                string[] calldata names) external onlyOwner {
        uint256[] memory inputs = new uint256[](names.length + 1);
        inputs[0] = roundTag(roundId, timestamp, names);
        for (uint256 i = 0; i < names.length; i++) {
            if (assets[keccak256(bytes(names[i]))].kind == OFFCHAIN) revert BadInput("reserves not on this chain");
            inputs[i + 1] = reserveUnits(names[i]);
        }
        _record(roundId, proof, inputs, true, names);
    }

    function _record(string calldata roundId, bytes calldata proof, uint256[] memory inputs, bool privateTotals,
                     string[] calldata names) internal {
        bytes32 key = _verifyAndStore(roundId, proof, inputs, names.length);
        emit RoundSubmitted(roundId, key, privateTotals, names, inputs, keccak256(proof));
    }

    // ------------------------------------------------------------------ sharded rounds

    /// @notice Open a round of M shards with public totals: the round's total per asset, which the shards' totals
    ///         must sum to exactly (each shard's proof then comes with submitShard, in any order).
    function openShardedRound(string calldata roundId, string calldata timestamp, string[] calldata names,
                              uint256 shardCount, uint256[] calldata totals) external onlyOwner {
        if (totals.length != names.length) revert BadInput("a total for every asset");
        bytes32 key = _open(roundId, roundTag(roundId, timestamp, names), names.length, shardCount, false);
        _openPublic(roundId, key, names, shardCount, totals);
    }

    /// @notice Open a round of M shards with private totals: the registry reads each asset's reserves itself and
    ///         requires the shards' allocations (M rows of K, shard by shard) to sum to at most them per asset.
    ///         Each shard then proves its liabilities at most its allocation (its reserves input).
    function openPrivateShardedRound(string calldata roundId, string calldata timestamp, string[] calldata names,
                                     uint256 shardCount, uint256[] calldata allocations) external onlyOwner {
        bytes32 key = _open(roundId, roundTag(roundId, timestamp, names), names.length, shardCount, true);
        _openPrivate(roundId, key, names, shardCount, allocations);
    }

    /// @notice Record shard `index` of an opened round, its proof under [shard tag, values]: its totals (public
    ///         mode) or its allocation (private mode), per asset (_submitShard).
    function submitShard(string calldata roundId, uint256 index, bytes calldata proof, uint256[] calldata values)
        external
        onlyOwner
    {
        _submitShard(roundId, index, proof, values, values[0:0]);
    }

    // ------------------------------------------------------------------ inclusion

    /// @notice Whether a user's records, in index order, are in the round: every rule of
    ///         zksolvency.verifier.inclusion holds and every opening of the inclusion commitment holds.
    ///         rows[i] is record i's first row, recordHashes[i] its hash (computed by the user from their id,
    ///         salt, i, rows.length and the slots), slots the records' S (asset, units) pairs one after the
    ///         other, proofs the openings' (x, y) one after the other. Malformed input gives false, never a revert.
    function verifyInclusion(string calldata roundId, uint256[] calldata rows, uint256[] calldata recordHashes,
                             uint256[] calldata slots, uint256[] calldata proofs) external view returns (bool) {
        return inclusionFailure(roundId, rows, recordHashes, slots, proofs) == VALID;
    }

    /// @notice The first rule the records break (a code of zksolvency.verifier.inclusion.Rule), or VALID.
    function inclusionFailure(string calldata roundId, uint256[] calldata rows, uint256[] calldata recordHashes,
                              uint256[] calldata slots, uint256[] calldata proofs) public view returns (uint256) {
        return inclusionRules.spotFailure(_context(_recordedRound(roundId)),
                                          InclusionRules.Records(0, rows, recordHashes, slots, proofs));
    }

    /// @notice verifyInclusion for a customer of shard `shard` of a sharded round, against that shard's commitment.
    ///         The round must be complete (RoundNotComplete otherwise: a customer's verdict is about the round, and
    ///         until every shard has verified the round's sums are not shown); a shard index the round does not
    ///         have gives false (rule 21, SHARD), like any malformed input.
    function verifyInclusion(string calldata roundId, uint256 shard, uint256[] calldata rows,
                             uint256[] calldata recordHashes, uint256[] calldata slots, uint256[] calldata proofs)
        external
        view
        returns (bool)
    {
        return inclusionFailure(roundId, shard, rows, recordHashes, slots, proofs) == VALID;
    }

    /// @notice The first rule a sharded round's customer's records break, or VALID (verifyInclusion with a shard).
    function inclusionFailure(string calldata roundId, uint256 shard, uint256[] calldata rows,
                              uint256[] calldata recordHashes, uint256[] calldata slots, uint256[] calldata proofs)
        public
        view
        returns (uint256)
    {
        (InclusionRules.Context memory c, uint256 code) = _shardContext(roundId, shard);
        if (code != VALID) return code;
        return inclusionRules.spotFailure(c, InclusionRules.Records(0, rows, recordHashes, slots, proofs));
    }
}

/// @title MarginRegistryBase: what the registries of margin rounds share (equity and debt per asset, every
///        account's haircut collateral covering its debt at public prices, taken from registered feeds where there
///        are): the feeds and the rule that makes every key's weight from the stated terms.
abstract contract MarginRegistryBase is SolvencyRegistryBase {
    uint256 internal constant BASIS_POINTS = 10_000;
    uint256 internal constant WEIGHT_BOUND = 1 << 128; // |weight| <= 2^128: nothing a key sums can wrap
    uint256 internal constant PRICE_BOUND = 1 << 64; // prices in units of 10^-8 USD, below 2^64
    uint256 internal constant QUOTE_DECIMALS = 8;
    uint256 internal constant MAX_FEED_AGE = 1 days;
    // A margin round's public terms, one word per asset in the round's order: price << RATIO_BITS | ratio, the
    // price in 10^-8 USD a whole unit (0 < price < 2^64), the ratio in basis points (at most 10,000 < 2^16): one
    // word decodes to one (price, ratio) and back (zksolvency.margin.MarginTerms.packed).
    uint256 internal constant RATIO_BITS = 16;
    uint256 internal constant RATIO_MASK = (1 << RATIO_BITS) - 1;
    uint256 internal constant PRICED_FLAG = 1 << 255; // in _fillWeights' decimals: the asset has a price feed

    /// A price feed registered for an asset, for good: margin rounds are judged by its latest answer.
    struct PriceFeed {
        address feed;
        uint32 maxAge; // seconds: an answer older than this at submission is stale
        uint8 decimals; // the feed's, at most QUOTE_DECIMALS
    }

    /// A public margin round's totals, per asset in the round's order.
    struct Totals {
        uint256[] equity;
        uint256[] debt;
    }

    mapping(bytes32 => PriceFeed) internal feeds; // keccak256(asset name) -> its price feed

    event PriceFeedRegistered(string asset, address indexed feed, uint32 maxAge);

    error FeedExists(string asset);
    error StalePrice(string asset, uint256 updatedAt);
    error BadPrice(string asset, int256 answer);
    error NotFeedPrice(string asset, uint256 feedPrice);


    function margin() external pure override returns (bool) {
        return true;
    }

    // ------------------------------------------------------------------ price feeds

    /// @notice Registers, once and for good, the feed a registered asset's price is taken from: a Chainlink
    ///         AggregatorV3Interface quoting USD with at most 8 decimals. Every margin round must then state, for
    ///         that asset, the feed's latest answer, positive and at most maxAge seconds old when submitted.
    function registerPriceFeed(string calldata asset, address feed, uint32 maxAge) external onlyOwner {
        bytes32 key = keccak256(bytes(asset));
        if (!assets[key].registered) revert UnknownAsset(asset);
        if (feeds[key].feed != address(0)) revert FeedExists(asset);
        if (feed.code.length == 0) revert BadInput("feed is not a contract");
        if (maxAge == 0 || maxAge > MAX_FEED_AGE) revert BadInput("feed age: 1 s to 1 day");
        (bool ok, bytes memory out) = feed.staticcall(abi.encodeWithSelector(AggregatorV3Interface.decimals.selector));
        if (!ok || out.length != 32 || abi.decode(out, (uint256)) > QUOTE_DECIMALS) revert BadInput("feed decimals");
        feeds[key] = PriceFeed(feed, maxAge, uint8(abi.decode(out, (uint256))));
        assets[key].priced = true;
        feedPrice(asset); // it answers now, or nothing is registered
        emit PriceFeedRegistered(asset, feed, maxAge);
    }

    function priceFeedOf(string calldata asset) external view returns (PriceFeed memory) {
        return feeds[keccak256(bytes(asset))];
    }

    /// @notice The asset's price from its feed now, in 10^-8 USD a whole unit; reverts on a stale answer (older
    ///         than the feed's maxAge, from the future, or carried over from an earlier feed round) or one that is
    ///         not positive or not below 2^64 units.
    function feedPrice(string calldata asset) public view returns (uint256) {
        PriceFeed storage f = feeds[keccak256(bytes(asset))];
        if (f.feed == address(0)) revert BadInput("no price feed");
        (uint80 feedRound, int256 answer,, uint256 updatedAt, uint80 answeredIn) =
            AggregatorV3Interface(f.feed).latestRoundData();
        if (answer <= 0 || uint256(answer) >= PRICE_BOUND) revert BadPrice(asset, answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > f.maxAge || answeredIn < feedRound) {
            revert StalePrice(asset, updatedAt);
        }
        uint256 price = uint256(answer) * 10 ** (QUOTE_DECIMALS - f.decimals);
        if (price >= PRICE_BOUND) revert BadPrice(asset, answer);
        return price;
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Every key's weight in a margin round (zksolvency.circuits.solvency.margin_weights, mod R), made
    ///         here from the stated terms (price << RATIO_BITS | ratio per asset): each price positive and below
    ///         2^64 units, the feed's latest answer where the asset has a feed; each ratio at most 10,000 basis
    ///         points; no weight past 2^128.
    function marginWeights(string[] calldata names, uint256[] calldata terms) public view returns (uint256[] memory w) {
        bytes32[] memory keys = new bytes32[](names.length);
        for (uint256 j = 0; j < names.length; j++) {
            keys[j] = keccak256(bytes(names[j]));
            if (!assets[keys[j]].registered) revert UnknownAsset(names[j]);
        }
        w = new uint256[](FIRST_ASSET_KEY + 2 * keys.length);
        _fillWeights(w, 0, 1, keys, names, terms);
    }

    /// @dev Writes weight_k at out[at + stride * k] for every key k (marginWeights' rules): one pass over the
    ///      assets for their decimals (the largest sets the common unit) and feeds, one to write their weights:
    ///      unit * ratio and -unit * 10^4, unit = price * 10^(top - decimals).
    function _fillWeights(uint256[] memory out, uint256 at, uint256 stride, bytes32[] memory keys,
                          string[] calldata names, uint256[] calldata terms) internal view {
        uint256 k = keys.length;
        if (terms.length != k) revert BadInput("a term for every asset");
        uint256[] memory decimals = new uint256[](k); // per asset: decimals, with PRICED_FLAG where it has a feed
        uint256 top;
        for (uint256 j = 0; j < k; j++) {
            AssetInfo storage a = assets[keys[j]];
            uint256 d = a.decimals;
            if (d > top) top = d;
            decimals[j] = a.priced ? d | PRICED_FLAG : d;
        }
        out[at + stride] = R - 1;
        out[at + 2 * stride] = R - (1 << SURPLUS_WORD_BITS);
        out[at + 3 * stride] = R - (1 << (2 * SURPLUS_WORD_BITS));
        unchecked {
            // Indices stay far below 2^256 (the array accesses are bounds-checked still).
            uint256 p = at + stride * FIRST_ASSET_KEY;
            for (uint256 j = 0; j < k; j++) {
                (uint256 wc, uint256 wd) = _weightPair(terms[j], decimals[j], top, names, j);
                out[p] = wc;
                out[p + stride] = wd;
                p += 2 * stride;
            }
        }
    }

    /// @dev Asset j's (collateral, debt) weights from its term and its decimals word (_fillWeights').
    function _weightPair(uint256 term, uint256 d, uint256 top, string[] calldata names, uint256 j)
        internal
        view
        returns (uint256, uint256)
    {
        uint256 price = term >> RATIO_BITS;
        uint256 ratio = term & RATIO_MASK;
        if (price == 0 || price >= PRICE_BOUND) revert BadInput("a price must be positive and below 2^64");
        if (ratio > BASIS_POINTS) revert BadInput("a collateral ratio past 10000 bps");
        if (d & PRICED_FLAG != 0) {
            uint256 fed = feedPrice(names[j]);
            if (fed != price) revert NotFeedPrice(names[j], fed);
        }
        unchecked {
            // Registered decimals are at most MAX_DECIMALS: unit < 2^64 * 10^MAX_DECIMALS, unit * 10^4 < 2^256.
            uint256 unit = price * 10 ** (top - (d & ~PRICED_FLAG));
            if (unit * BASIS_POINTS > WEIGHT_BOUND) revert BadInput("a weight past 2^128");
            return (unit * ratio, R - unit * BASIS_POINTS);
        }
    }
}

/// @title MarginSolvencyRegistry: a registry of margin rounds of one shard (sharded ones:
///        ShardedMarginSolvencyRegistry; one contract for both would exceed the EVM's code size limit).
contract MarginSolvencyRegistry is MarginRegistryBase {
    /// The round's assets (names, in index order) and terms (price << RATIO_BITS | ratio per asset), from which
    /// every key's weight follows (marginWeights, with the assets' registered decimals). Its totals (public mode) or the
    /// reserves read (private mode) are the rest of the proof's public inputs, which the recorded gamma binds.
    event MarginRoundSubmitted(string roundId, bytes32 indexed roundKey, bool privateTotals, string[] assets,
                               uint256[] terms, bytes32 proofHash);

    constructor(ISolvencyVerifier verifier_, uint256 slotsPerRecord_) SolvencyRegistryBase(verifier_, slotsPerRecord_) {}

    // ------------------------------------------------------------------ rounds

    /// @notice Record a margin round with public totals: per asset its equity and its debt total, at the stated
    ///         prices and ratios. publicInputs = [tag, (value_k, weight_k) for every key k].
    function submitMarginRound(string calldata roundId, string calldata timestamp, bytes calldata proof,
                               string[] calldata names, Totals calldata totals, uint256[] calldata terms)
        external
        onlyOwner
    {
        uint256[] memory inputs = _marginInputs(roundId, timestamp, names, terms);
        _writeTotals(inputs, totals, names.length);
        _recordMargin(roundId, proof, inputs, false, names, terms);
    }

    /// @dev Each asset's equity and debt totals into the values of its two keys.
    function _writeTotals(uint256[] memory inputs, Totals calldata totals, uint256 k) internal pure {
        uint256[] calldata equity = totals.equity;
        uint256[] calldata debt = totals.debt;
        if (equity.length != k || debt.length != k) revert BadInput("an equity and a debt total for every asset");
        unchecked {
            for (uint256 j = 0; j < k; j++) { // inputs has 1 + 2 (4 + 2K) words: every index fits
                uint256 at = 1 + 2 * (FIRST_ASSET_KEY + 2 * j);
                (uint256 e, uint256 d) = (equity[j], debt[j]);
                assembly {
                    let slot := add(add(inputs, 32), mul(at, 32))
                    mstore(slot, e)
                    mstore(add(slot, 64), d)
                }
            }
        }
    }

    /// @notice Record a margin round with private totals: per asset, equity less debt at most the reserves the
    ///         registry reads itself (in the units it registered), at the stated prices and ratios.
    function submitPrivateMarginRound(string calldata roundId, string calldata timestamp, bytes calldata proof,
                                      string[] calldata names, uint256[] calldata terms) external onlyOwner {
        uint256[] memory inputs = _marginInputs(roundId, timestamp, names, terms);
        for (uint256 j = 0; j < names.length; j++) {
            if (assets[keccak256(bytes(names[j]))].kind == OFFCHAIN) revert BadInput("reserves not on this chain");
            inputs[1 + 2 * (FIRST_ASSET_KEY + 2 * j)] = reserveUnits(names[j]);
        }
        _recordMargin(roundId, proof, inputs, true, names, terms);
    }

    /// @dev [tag, (0, weight_k) for every key k]: the values are the caller's to fill.
    function _marginInputs(string calldata roundId, string calldata timestamp, string[] calldata names,
                           uint256[] calldata terms) internal view returns (uint256[] memory inputs) {
        (uint256 tag, bytes32[] memory keys) = _roundTag(roundId, timestamp, names);
        inputs = new uint256[](1 + 2 * (FIRST_ASSET_KEY + 2 * keys.length));
        inputs[0] = tag;
        _fillWeights(inputs, 2, 2, keys, names, terms);
    }

    function _recordMargin(string calldata roundId, bytes calldata proof, uint256[] memory inputs, bool privateTotals,
                           string[] calldata names, uint256[] calldata terms) internal {
        bytes32 proofHash = keccak256(proof);
        _emitMargin(roundId, _verifyAndStore(roundId, proof, inputs, names.length), privateTotals, names, terms,
                    proofHash);
    }

    function _emitMargin(string calldata roundId, bytes32 key, bool privateTotals, string[] calldata names,
                         uint256[] calldata terms, bytes32 proofHash) internal {
        emit MarginRoundSubmitted(roundId, key, privateTotals, names, terms, proofHash);
    }

    // ------------------------------------------------------------------ inclusion

    /// @notice Whether a user's records are in a margin round: the rules of `verifyInclusion` with the round's
    ///         keys, then rule 20 (the surplus words are the account's haircut collateral less its debt), then
    ///         the openings, whose values include the account and each slot's weight (InclusionRules.marginFailure).
    ///         keyWeights: the round's weights as it recorded them (marginWeights of its recorded terms). They need
    ///         no storage: every weight the rules use is a slot's, so it is in the opened value, which the
    ///         commitment binds.
    function verifyMarginInclusion(string calldata roundId, InclusionRules.Records calldata records,
                                   uint256[] calldata keyWeights) external view returns (bool) {
        return marginInclusionFailure(roundId, records, keyWeights) == VALID;
    }

    /// @notice The first rule a margin round's records break (a code of zksolvency.verifier.inclusion.Rule), or VALID.
    function marginInclusionFailure(string calldata roundId, InclusionRules.Records calldata r,
                                    uint256[] calldata keyWeights) public view returns (uint256) {
        return inclusionRules.marginFailure(_context(_recordedRound(roundId)), r, keyWeights);
    }
}

/// @title ShardedMarginSolvencyRegistry: a registry of sharded margin rounds (the rounds of one shard:
///        MarginSolvencyRegistry; one contract for both would exceed the EVM's code size limit).
contract ShardedMarginSolvencyRegistry is MarginRegistryBase {
    constructor(ISolvencyVerifier verifier_, uint256 slotsPerRecord_) SolvencyRegistryBase(verifier_, slotsPerRecord_) {}

    function shardedOnly() external pure override returns (bool) {
        return true;
    }

    // ------------------------------------------------------------------ sharded rounds

    // A sharded margin round's key weights, fixed at opening (from the terms, the feeds read then): keccak256 of
    // the 2K + 4 weights mod R, which every shard's submission restates.
    mapping(bytes32 => bytes32) internal weightsHash;
    // Until when its shards may be submitted: the opening time plus the shortest maxAge of the round's feeds (1 day
    // without feeds), so that a round is never completed on prices older than its feeds allow (plus their own age
    // at opening).
    mapping(bytes32 => uint256) internal termsUntil;

    error TermsExpired(uint256 until);

    /// A sharded margin round's terms (as MarginRoundSubmitted records a round's), emitted with ShardedRoundOpened.
    event ShardedMarginTerms(bytes32 indexed roundKey, uint256[] terms);

    /// @notice Open a margin round of M shards at the stated terms (feeds read now, where the assets have feeds):
    ///         public mode (privateTotals false), `values` the equity totals then the debt totals per asset, which
    ///         the shards' must sum to exactly; private mode, `values` the shards' allocations (M rows of K), which
    ///         must sum to at most the reserves the registry reads, each shard proving per asset its equity less
    ///         debt at most its allocation. Each shard's proof then comes with submitMarginShard, in any order.
    function openShardedMarginRound(string calldata roundId, string calldata timestamp, string[] calldata names,
                                    uint256 shardCount, uint256[] calldata terms, bool privateTotals,
                                    uint256[] calldata values) external onlyOwner {
        bytes32 key = _openMargin(roundId, timestamp, names, shardCount, terms, privateTotals);
        if (privateTotals) {
            _openPrivate(roundId, key, names, shardCount, values);
        } else {
            if (values.length != 2 * names.length) revert BadInput("an equity and a debt total for every asset");
            _openPublic(roundId, key, names, shardCount, values);
        }
    }

    function _openMargin(string calldata roundId, string calldata timestamp, string[] calldata names,
                         uint256 shardCount, uint256[] calldata terms, bool privateTotals) internal returns (bytes32 key) {
        key = _open(roundId, roundTag(roundId, timestamp, names), names.length, shardCount, privateTotals);
        weightsHash[key] = keccak256(abi.encodePacked(marginWeights(names, terms)));
        uint256 life = MAX_FEED_AGE;
        for (uint256 j = 0; j < names.length; j++) {
            PriceFeed storage f = feeds[keccak256(bytes(names[j]))];
            if (f.feed != address(0) && f.maxAge < life) life = f.maxAge;
        }
        termsUntil[key] = block.timestamp + life;
        emit ShardedMarginTerms(key, terms);
    }

    /// @notice Record shard `index` of an opened margin round: its values (public: its equity totals then its debt
    ///         totals; private: its allocation, per asset) and the round's key weights as fixed at opening
    ///         (marginWeights of its terms); its proof under [shard tag, (value_k, weight_k) for every key k].
    function submitMarginShard(string calldata roundId, uint256 index, bytes calldata proof,
                               uint256[] calldata values, uint256[] calldata keyWeights) external onlyOwner {
        _submitShard(roundId, index, proof, values, keyWeights);
    }

    function _shardValueCount(bool privateTotals, uint256 assetCount) internal pure override returns (uint256) {
        return privateTotals ? assetCount : 2 * assetCount;
    }

    /// @dev [tag, (value_k, weight_k)]: the values on the equity keys (and, public mode, the debt keys), 0 on the
    ///      surplus keys; the weights the round's, checked against the hash kept at opening.
    function _shardInputs(bytes32 key, uint256 tag, uint256[] calldata values, uint256[] calldata weights)
        internal
        view
        override
        returns (uint256[] memory inputs)
    {
        if (keccak256(abi.encodePacked(weights)) != weightsHash[key]) revert BadInput("not the round's weights");
        if (block.timestamp > termsUntil[key]) revert TermsExpired(termsUntil[key]);
        inputs = new uint256[](1 + 2 * weights.length);
        inputs[0] = tag;
        for (uint256 k = 0; k < weights.length; k++) inputs[2 + 2 * k] = weights[k];
        uint256 assetCount = (weights.length - FIRST_ASSET_KEY) / 2;
        bool debts = rounds[key].commitment & PRIVATE_BIT == 0; // public mode: equity totals, then debt totals
        for (uint256 j = 0; j < assetCount; j++) {
            uint256 at = 1 + 2 * (FIRST_ASSET_KEY + 2 * j);
            inputs[at] = values[j];
            if (debts) inputs[at + 2] = values[assetCount + j];
        }
    }

    // ------------------------------------------------------------------ inclusion

    /// @notice verifyMarginInclusion for a customer of shard `shard` of a complete sharded margin round.
    function verifyMarginInclusion(string calldata roundId, uint256 shard, InclusionRules.Records calldata records,
                                   uint256[] calldata keyWeights) external view returns (bool) {
        return marginInclusionFailure(roundId, shard, records, keyWeights) == VALID;
    }

    /// @notice marginInclusionFailure against shard `shard`'s record (SHARD for a shard the round does not have).
    function marginInclusionFailure(string calldata roundId, uint256 shard, InclusionRules.Records calldata r,
                                    uint256[] calldata keyWeights) public view returns (uint256) {
        (InclusionRules.Context memory c, uint256 code) = _shardContext(roundId, shard);
        if (code != VALID) return code;
        return inclusionRules.marginFailure(c, r, keyWeights);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice A price feed for the tests, answering AggregatorV3Interface's reads: its deployer sets each answer
///         and when it was made (a past time makes a stale answer; 0 or less a non-positive one).
contract TestPriceFeed {
    uint8 public immutable decimals;
    address public immutable updater;
    uint80 internal round;
    int256 internal answer;
    uint256 internal updatedAt;

    constructor(uint8 decimals_, int256 answer_) {
        decimals = decimals_;
        updater = msg.sender;
        _set(answer_, block.timestamp);
    }

    function setAnswer(int256 answer_, uint256 updatedAt_) external {
        require(msg.sender == updater, "not the updater");
        _set(answer_, updatedAt_);
    }

    function _set(int256 answer_, uint256 updatedAt_) internal {
        round += 1;
        answer = answer_;
        updatedAt = updatedAt_;
    }

    function description() external pure returns (string memory) {
        return "test feed";
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (round, answer, updatedAt, updatedAt, round);
    }
}

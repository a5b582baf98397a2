// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RevenueLedger} from "../../../contracts/payments/RevenueLedger.sol";
import {IRevenueSplit} from "../../../contracts/interfaces/IRevenueSplit.sol";

/// @notice Exposes RevenueLedger's internal split so its arithmetic can be fuzzed in isolation.
contract SplitHarness is RevenueLedger {
    function distribute(address token, uint256 amount, IRevenueSplit.Split memory split) external {
        _distribute(token, amount, bytes32(0), split);
    }
}

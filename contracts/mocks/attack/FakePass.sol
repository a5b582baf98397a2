// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPassRevenueSink} from "../../interfaces/IPassRevenueSink.sol";

/// @notice Pretends to be a creator's pass and pushes "mint revenue" into the ledger.
contract FakePass {
    function deposit(IPassRevenueSink sink, address creator) external payable {
        sink.depositPassRevenue{value: msg.value}(creator);
    }
}

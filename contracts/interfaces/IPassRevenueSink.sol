// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPassRevenueSink
/// @notice Receives a creator pass's mint revenue so it is split and paid like any sale.
interface IPassRevenueSink {
    /// @notice Splits `msg.value` between the platform and `creator`; callable only by `creator`'s pass.
    function depositPassRevenue(address creator) external payable;
}

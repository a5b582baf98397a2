// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICreatorRegistry
/// @notice What other contracts read from the creator registry.
interface ICreatorRegistry {
    /// @notice The creator's coin, or zero if they have not launched.
    function coinOf(address creator) external view returns (address);

    /// @notice The creator's pass, or zero if they have not launched.
    function passOf(address creator) external view returns (address);

    /// @notice Both gate tokens of `creator` in one call.
    function creatorTokens(address creator) external view returns (address coin, address pass);
}

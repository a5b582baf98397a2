// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRevenueSplit
/// @notice How a payment for a content item is divided.
interface IRevenueSplit {
    struct Collaborator {
        address account;
        /// @dev Basis points of the amount left after the platform fee.
        uint16 shareBps;
    }

    struct Split {
        address creator;
        address treasury;
        uint16 platformFeeBps;
        Collaborator[] collaborators;
    }

    /// @notice The creator of `contentId`; reverts for unknown content.
    function creatorOf(bytes32 contentId) external view returns (address);

    /// @notice The split that applies to payments for `contentId` right now.
    function revenueSplit(bytes32 contentId) external view returns (Split memory);

    /// @notice Whether `token` (`address(0)` = native) is accepted for payments.
    function isPaymentToken(address token) external view returns (bool);
}

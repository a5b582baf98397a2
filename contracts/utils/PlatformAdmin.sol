// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/**
 * @title PlatformAdmin
 * @notice The platform's emergency controls shared by the money-handling contracts: two-step
 * ownership and an owner-only pause. Each contract decides which functions stop when paused.
 * Renouncing ownership is disabled: an ownerless contract could never be paused again.
 */
abstract contract PlatformAdmin is Ownable2Step, Pausable {
    error RenounceDisabled();

    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @notice Stops the functions this contract guards with `whenNotPaused`.
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Resumes normal operation.
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @notice Disabled; transfer ownership (two-step) instead.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }
}

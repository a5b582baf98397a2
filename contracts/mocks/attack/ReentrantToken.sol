// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Attacker} from "./Attacker.sol";

/// @notice An ERC-20 the owner was tricked into allow-listing: every transfer calls back into an attacker.
contract ReentrantToken is ERC20 {
    address public hook;

    constructor() ERC20("Evil", "EVL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHook(address hook_) external {
        hook = hook_;
    }

    /// @dev A "permit" that approves nothing and calls back into the attacker instead.
    function permit(address, address, uint256, uint256, uint8, bytes32, bytes32) external {
        if (hook != address(0)) Attacker(payable(hook)).trigger();
    }

    /// @dev After balances move, mid-way through the victim's transfer call.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (hook != address(0) && from != address(0)) Attacker(payable(hook)).trigger();
    }
}

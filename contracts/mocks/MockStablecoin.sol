// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/**
 * @title MockStablecoin
 * @notice Development stand-in for USDFC/USDC: 6 decimals, EIP-2612 permit, open faucet.
 * Deployed on local chains only.
 */
contract MockStablecoin is ERC20, ERC20Permit {
    constructor() ERC20("Mock USD Coin", "mUSDC") ERC20Permit("Mock USD Coin") {}

    /// @notice Mints `amount` to `to`; anyone may call (local development only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Six decimals, like USDC and USDFC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}

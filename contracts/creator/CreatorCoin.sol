// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20PermitUpgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {CloneArgs} from "./CloneArgs.sol";

/**
 * @title CreatorCoin
 * @notice A creator's ERC-20 coin with EIP-2612 permit, deployed as a minimal clone by
 * {CreatorRegistry}. Holding enough of it can unlock the creator's content. At launch the
 * creator's allocation goes to the creator; the rest of the supply is a reserve held by the coin
 * itself, which only the creator can hand out (airdrops to fans, rewards).
 * @dev Name, symbol and creator live in the clone's immutable arguments (see {CloneArgs}), so
 * nothing but balances is written at launch.
 */
contract CreatorCoin is ERC20PermitUpgradeable {
    /// @notice The registry that deploys and initializes clones of this implementation.
    address public immutable registry;

    /// @notice The creator handed `amount` of the reserve to `to`.
    event ReserveDistributed(address indexed to, uint256 amount);

    error OnlyRegistry();
    error OnlyCreator();
    error AlreadyInitialized();
    error AllocationExceedsSupply(uint256 allocation, uint256 supply);
    error LengthMismatch();

    constructor(address registry_) {
        registry = registry_;
    }

    /**
     * @notice Mints the fixed supply: `creatorAllocation` to the creator, the rest to the reserve.
     * @dev Called once by the registry right after cloning. A non-zero total supply marks a clone
     * as initialized (a launch with zero supply is rejected by the registry).
     */
    function initialize(uint256 supply, uint256 creatorAllocation) external {
        if (msg.sender != registry) revert OnlyRegistry();
        if (totalSupply() != 0) revert AlreadyInitialized();
        if (creatorAllocation > supply) revert AllocationExceedsSupply(creatorAllocation, supply);
        _mint(CloneArgs.creator(), creatorAllocation);
        _mint(address(this), supply - creatorAllocation);
    }

    /**
     * @notice Hands out coins from the reserve; creator only.
     * @param recipients Wallets receiving coins.
     * @param amounts Amount for each recipient, same order.
     */
    function distribute(address[] calldata recipients, uint256[] calldata amounts) external {
        if (msg.sender != CloneArgs.creator()) revert OnlyCreator();
        if (recipients.length != amounts.length) revert LengthMismatch();
        for (uint256 i; i < recipients.length; ++i) {
            _transfer(address(this), recipients[i], amounts[i]);
            emit ReserveDistributed(recipients[i], amounts[i]);
        }
    }

    /// @notice The creator this coin belongs to.
    function creator() external view returns (address) {
        return CloneArgs.creator();
    }

    /// @notice Coins not yet handed out by the creator.
    function reserve() external view returns (uint256) {
        return balanceOf(address(this));
    }

    /// @notice The coin's name.
    function name() public view override returns (string memory) {
        return CloneArgs.name();
    }

    /// @notice The coin's ticker symbol.
    function symbol() public view override returns (string memory) {
        return CloneArgs.symbol();
    }

    /// @dev EIP-712 domain name = token name, version "1", read from the clone's arguments.
    function _EIP712Name() internal view override returns (string memory) {
        return CloneArgs.name();
    }

    function _EIP712Version() internal pure override returns (string memory) {
        return "1";
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";

/**
 * @title RevenueLedger
 * @notice Pull-payment ledger shared by every contract that takes money (content sales,
 * subscriptions, pass mints, streaming vouchers). Payments are split into a platform fee,
 * collaborator shares and the creator's remainder, credited to per-payee per-token balances,
 * and paid out only when a payee calls {withdraw}. Nothing is ever pushed to a payee during a
 * sale, so a reverting or re-entering payee cannot block anybody else.
 * @dev `address(0)` stands for the chain's native currency.
 */
abstract contract RevenueLedger is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Who a credit went to, as recorded in {Credited} (an enum so the build generates
    /// `ROLE` / `ROLE_NAMES` for TypeScript; in the ABI it is the same uint8 as before).
    enum Role {
        Platform,
        Creator,
        Collaborator,
        Refund
    }

    uint256 internal constant BPS = 10_000;

    /// @dev payee => token => withdrawable amount.
    mapping(address payee => mapping(address token => uint256)) private _balances;

    /// @notice `amount` of `token` was credited to `payee` for `contentId` (zero for pass mints and subscriptions).
    event Credited(
        address indexed payee,
        address indexed token,
        bytes32 indexed contentId,
        Role role,
        uint256 amount
    );
    /// @notice `payee` withdrew `amount` of `token`.
    event Withdrawn(address indexed payee, address indexed token, uint256 amount);

    error NothingToWithdraw(address payee, address token);
    error NativeTransferFailed(address to, uint256 amount);
    error WrongPayment(uint256 expected, uint256 sent);

    /**
     * @notice Withdrawable balance of `payee` in `token` (`address(0)` = native).
     */
    function balanceOf(address payee, address token) external view returns (uint256) {
        return _balances[payee][token];
    }

    /**
     * @notice Pays out the caller's whole balance of `token` (`address(0)` = native) to the caller.
     * @dev Checks-effects-interactions: the balance is zeroed before the transfer; also non-reentrant.
     */
    function withdraw(address token) external nonReentrant {
        uint256 amount = _balances[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        _balances[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        _pay(msg.sender, token, amount);
    }

    /// @dev Takes exactly `amount` of `token` from `from`: native must arrive as msg.value, tokens by transferFrom.
    function _collect(address from, address token, uint256 amount) internal {
        if (token == address(0)) {
            if (msg.value != amount) revert WrongPayment(amount, msg.value);
        } else {
            if (msg.value != 0) revert WrongPayment(0, msg.value);
            IERC20(token).safeTransferFrom(from, address(this), amount);
        }
    }

    /// @dev Sends `amount` of `token` to `to`. Only used towards the caller of a withdrawal or refund.
    function _pay(address to, address token, uint256 amount) internal {
        if (token == address(0)) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev Adds `amount` to `payee`'s balance and records why.
    function _credit(address payee, address token, uint256 amount, bytes32 contentId, Role role) internal {
        if (amount == 0) return;
        _balances[payee][token] += amount;
        emit Credited(payee, token, contentId, role, amount);
    }

    /**
     * @dev Splits `amount`: platform fee first, then each collaborator's basis points of what is
     * left, then the creator takes the remainder (so rounding dust always goes to the creator and
     * the parts always add up to `amount`).
     */
    function _distribute(address token, uint256 amount, bytes32 contentId, IRevenueSplit.Split memory split) internal {
        uint256 fee = (amount * split.platformFeeBps) / BPS;
        _credit(split.treasury, token, fee, contentId, Role.Platform);
        uint256 net = amount - fee;
        uint256 remainder = net;
        uint256 n = split.collaborators.length;
        for (uint256 i; i < n; ++i) {
            uint256 share = (net * split.collaborators[i].shareBps) / BPS;
            remainder -= share;
            _credit(split.collaborators[i].account, token, share, contentId, Role.Collaborator);
        }
        _credit(split.creator, token, remainder, contentId, Role.Creator);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @notice A hostile payee, viewer, buyer or pass minter. Armed with one call, it fires it once
 * from whichever callback the victim hands it (native receive, ERC-721 receiver hook, or a
 * malicious token's transfer hook) and records whether that re-entry got through and how it failed.
 */
contract Attacker {
    address public reentryTarget;
    bytes public reentryData;
    uint256 public reentryValue;
    bool public armed;
    bool public reentered;
    bool public reentryOk;
    bytes public reentryError;
    /// @dev When set, callbacks revert instead of re-entering (a payee that refuses payment).
    bool public refuse;

    error Refused();

    function execute(address target, bytes calldata data, uint256 value) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = target.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function arm(address target, bytes calldata data, uint256 value) external {
        reentryTarget = target;
        reentryData = data;
        reentryValue = value;
        armed = true;
    }

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    /// @dev One shot: disarmed before the call so a successful re-entry cannot recurse forever.
    function trigger() public {
        if (refuse) revert Refused();
        if (!armed) return;
        armed = false;
        reentered = true;
        (bool ok, bytes memory ret) = reentryTarget.call{value: reentryValue}(reentryData);
        reentryOk = ok;
        reentryError = ret;
    }

    receive() external payable {
        trigger();
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        trigger();
        return this.onERC721Received.selector;
    }
}

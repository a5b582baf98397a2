// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {ContentAccessHandler} from "./handlers/ContentAccessHandler.sol";
import {CreatorPass} from "../../contracts/creator/CreatorPass.sol";
import {IRevenueSplit} from "../../contracts/interfaces/IRevenueSplit.sol";

/// @notice Random sequences against ContentAccess: money held == money owed, per token; paid access never shrinks.
contract ContentAccessInvariantsTest is SystemTest {
    ContentAccessHandler internal handler;

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
        address[] memory creators = new address[](2);
        creators[0] = address(0xC1);
        creators[1] = address(0xC2);
        CreatorPass[] memory passes = new CreatorPass[](2);
        passes[0] = launchCreator(creators[0], 50, 0.05 ether);
        passes[1] = launchCreator(creators[1], 10, 3);

        bytes32[] memory items = new bytes32[](4);
        address[] memory itemCreators = new address[](4);
        items[0] = registerItem(creators[0], "a", address(0), 1 ether, 0);
        items[1] = registerItem(creators[0], "b", address(stable), 7_777_777, 1 days);
        items[2] = registerItem(creators[1], "c", address(0), 3, 12 hours);
        items[3] = registerItem(creators[1], "d", address(stable), 1, 0);
        itemCreators[0] = creators[0];
        itemCreators[1] = creators[0];
        itemCreators[2] = creators[1];
        itemCreators[3] = creators[1];

        address[] memory fans = new address[](3);
        fans[0] = address(0xF1);
        fans[1] = address(0xF2);
        fans[2] = address(0xF3);

        // Treasuries (current and the ones the handler may switch to), creators, collaborators.
        address[] memory payees = new address[](8);
        payees[0] = treasury;
        payees[1] = address(0x7EA6);
        payees[2] = address(0x7EA7);
        payees[3] = creators[0];
        payees[4] = creators[1];
        payees[5] = address(0xCA1);
        payees[6] = address(0xCA2);
        payees[7] = address(0xCA3);

        // Start with collaborators on one item so splits are non-trivial from the first call.
        IRevenueSplit.Collaborator[] memory cs = new IRevenueSplit.Collaborator[](2);
        cs[0] = IRevenueSplit.Collaborator(payees[5], 2_500);
        cs[1] = IRevenueSplit.Collaborator(payees[6], 3_333);
        vm.prank(creators[0]);
        access.updateCollaborators(items[0], cs);

        handler = new ContentAccessHandler(access, stable, owner, items, itemCreators, passes, fans, payees);
        targetContract(address(handler));
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 40
    function invariant_nativeHeldEqualsOwed() public view {
        assertEq(address(access).balance, owedIn(address(0)), "native: balance == sum of withdrawable");
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 40
    function invariant_stableHeldEqualsOwed() public view {
        assertEq(stable.balanceOf(address(access)), owedIn(address(stable)), "stable: balance == sum of withdrawable");
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 40
    function invariant_paidAccessNeverShrinks() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 nItems = handler.itemCount();
        uint256 nFans = handler.fanCount();
        for (uint256 f; f < nFans; ++f) {
            address fan = handler.fans(f);
            assertEq(access.subscriptionExpiry(fan), handler.maxSubscriptionExpiry(fan), "subscription expiry");
            for (uint256 i; i < nItems; ++i) {
                bytes32 id = handler.items(i);
                assertEq(access.purchaseExpiry(id, fan), handler.maxPurchaseExpiry(id, fan), "purchase expiry");
            }
        }
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 40
    function invariant_passSupplyCappedAndPaidFor() public view {
        uint256 n = handler.passCount();
        for (uint256 i; i < n; ++i) {
            CreatorPass pass = handler.passes(i);
            (uint256 maxSupply, uint256 minted,,) = pass.saleInfo();
            assertLe(minted, maxSupply, "minted <= max supply");
            assertEq(minted, handler.passesIssued(address(pass)), "every issued pass counted once");
            assertEq(pass.totalSupply(), minted, "totalSupply == minted");
        }
        // Every native wei paid in (sales, subscriptions, pass mints) is either still held or was withdrawn.
        assertEq(address(access).balance + handler.nativeWithdrawn(), handler.nativeIn(), "native in == held + out");
        assertLe(handler.passRevenue(), handler.nativeIn(), "pass revenue counted");
    }

    function owedIn(address token) internal view returns (uint256 sum) {
        uint256 n = handler.payeeCount();
        for (uint256 i; i < n; ++i) sum += access.balanceOf(handler.payees(i), token);
    }
}

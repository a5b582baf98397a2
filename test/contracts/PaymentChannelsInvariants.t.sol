// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {PaymentChannelsHandler} from "./handlers/PaymentChannelsHandler.sol";
import {PaymentChannels} from "../../contracts/payments/PaymentChannels.sol";
import {IRevenueSplit} from "../../contracts/interfaces/IRevenueSplit.sol";

/// @notice Random channel lifecycles: escrow + owed == held per token; nothing ever pays above a deposit.
contract PaymentChannelsInvariantsTest is SystemTest {
    PaymentChannelsHandler internal handler;

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
        address[] memory creators = new address[](2);
        creators[0] = address(0xC1);
        creators[1] = address(0xC2);
        bytes32[] memory items = new bytes32[](2);
        items[0] = registerItem(creators[0], "a", address(0), 0, 0);
        items[1] = registerItem(creators[1], "b", address(0), 0, 0);
        IRevenueSplit.Collaborator[] memory cs = new IRevenueSplit.Collaborator[](2);
        cs[0] = IRevenueSplit.Collaborator(address(0xCA1), 1_234);
        cs[1] = IRevenueSplit.Collaborator(address(0xCA2), 4_321);
        vm.prank(creators[0]);
        access.updateCollaborators(items[0], cs);

        address[] memory payees = new address[](5);
        payees[0] = treasury;
        payees[1] = creators[0];
        payees[2] = creators[1];
        payees[3] = address(0xCA1);
        payees[4] = address(0xCA2);

        uint256[] memory viewerPks = new uint256[](3);
        viewerPks[0] = 0xA11CE;
        viewerPks[1] = 0xB0B;
        viewerPks[2] = 0xCA201;
        uint256[] memory keyPks = new uint256[](2);
        keyPks[0] = 0x5E55101;
        keyPks[1] = 0x5E55102;

        handler = new PaymentChannelsHandler(channels, access, stable, owner, viewerPks, keyPks, items, creators, payees);
        targetContract(address(handler));
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 50
    function invariant_nativeHeldEqualsOwedPlusEscrow() public view {
        assertEq(address(channels).balance, owedIn(address(0)) + escrowIn(address(0)), "native conservation");
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 50
    function invariant_stableHeldEqualsOwedPlusEscrow() public view {
        assertEq(
            stable.balanceOf(address(channels)), owedIn(address(stable)) + escrowIn(address(stable)), "stable conservation"
        );
    }

    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 50
    function invariant_noVoucherPaysAboveDeposit() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 n = handler.channelCount();
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.channelIds(i);
            PaymentChannels.Channel memory ch = channels.getChannel(id);
            assertLe(ch.redeemed, ch.deposit, "redeemed <= deposit");
            assertEq(handler.paidOut(id), ch.redeemed, "total paid == redeemed");
            if (ch.status == PaymentChannels.Status.Closed) {
                assertEq(ch.redeemed + handler.refunded(id), ch.deposit, "closed: paid + refunded == deposit");
            }
        }
    }

    function owedIn(address token) internal view returns (uint256 sum) {
        uint256 n = handler.payeeCount();
        for (uint256 i; i < n; ++i) sum += channels.balanceOf(handler.payees(i), token);
    }

    function escrowIn(address token) internal view returns (uint256 sum) {
        uint256 n = handler.channelCount();
        for (uint256 i; i < n; ++i) {
            PaymentChannels.Channel memory ch = channels.getChannel(handler.channelIds(i));
            bool live = ch.status == PaymentChannels.Status.Open || ch.status == PaymentChannels.Status.Closing;
            if (live && ch.token == token) sum += ch.deposit - ch.redeemed;
        }
    }
}

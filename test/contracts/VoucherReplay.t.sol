// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {PaymentChannels} from "../../contracts/payments/PaymentChannels.sol";

/// @notice A voucher is bound to its channel, amount, chain and contract: replay anywhere else is rejected.
contract VoucherReplayTest is SystemTest {
    uint256 internal constant VIEWER_PK = 0xA11CE;
    address internal viewer;
    address internal constant CREATOR = address(0xC0FFEE);
    uint96 internal constant DEPOSIT = 10 ether;

    PaymentChannels internal other;
    bytes32 internal item;
    uint256 internal chA;
    uint256 internal chB;
    uint256 internal chOther;

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
        viewer = vm.addr(VIEWER_PK);
        item = registerItem(CREATOR, "stream", address(0), 0, 0);
        // A second deployment over the same ContentAccess: same item, same viewer, same channel id.
        other = new PaymentChannels(owner, address(access));
        chA = open(channels);
        chB = open(channels);
        chOther = open(other);
        assertEq(chOther, chA, "same channel id on both contracts");
    }

    function testFuzz_voucherBoundToChannel(uint96 amount) public {
        amount = uint96(bound(amount, 1, DEPOSIT));
        bytes memory sig = signVoucher(channels, VIEWER_PK, chA, amount);
        // Same viewer, same contract, other channel: recovers to an unrelated address.
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        channels.redeemVoucher(chB, amount, sig);
        channels.redeemVoucher(chA, amount, sig);
        assertEq(channels.getChannel(chA).redeemed, amount, "paid on its own channel");
        assertEq(channels.getChannel(chB).redeemed, 0, "nothing on the other channel");
        // Replaying on its own channel pays nothing more.
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.NothingToRedeem.selector, amount, amount));
        channels.redeemVoucher(chA, amount, sig);
    }

    function testFuzz_voucherBoundToAmount(uint96 signed, uint96 claimed) public {
        signed = uint96(bound(signed, 1, DEPOSIT));
        claimed = uint96(bound(claimed, 1, type(uint96).max));
        vm.assume(signed != claimed);
        bytes memory sig = signVoucher(channels, VIEWER_PK, chA, signed);
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        channels.redeemVoucher(chA, claimed, sig);
    }

    function testFuzz_voucherBoundToContract(uint96 amount) public {
        amount = uint96(bound(amount, 1, DEPOSIT));
        assertTrue(channels.domainSeparator() != other.domainSeparator(), "domains differ");
        bytes memory sig = signVoucher(channels, VIEWER_PK, chA, amount);
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        other.redeemVoucher(chOther, amount, sig);
        assertEq(other.getChannel(chOther).redeemed, 0, "other contract paid nothing");
        // And the other way round.
        bytes memory sigOther = signVoucher(other, VIEWER_PK, chOther, amount);
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        channels.redeemVoucher(chA, amount, sigOther);
        other.redeemVoucher(chOther, amount, sigOther);
        assertEq(other.getChannel(chOther).redeemed, amount, "valid on its own contract");
    }

    function testFuzz_voucherBoundToChain(uint96 amount, uint64 newChainId) public {
        amount = uint96(bound(amount, 1, DEPOSIT));
        uint256 original = block.chainid;
        newChainId = uint64(bound(newChainId, 1, type(uint32).max));
        vm.assume(newChainId != original);
        bytes memory sig = signVoucher(channels, VIEWER_PK, chA, amount);
        bytes32 separator = channels.domainSeparator();

        // After a fork to another chain id the same contract must not honour the old voucher.
        vm.chainId(newChainId);
        assertTrue(channels.domainSeparator() != separator, "domain follows chain id");
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        channels.redeemVoucher(chA, amount, sig);
        // A voucher signed for the new chain works there, and not back on the original chain.
        bytes memory sigNew = signVoucher(channels, VIEWER_PK, chA, amount);
        vm.chainId(original);
        vm.expectPartialRevert(PaymentChannels.InvalidSigner.selector);
        channels.redeemVoucher(chA, amount, sigNew);
        channels.redeemVoucher(chA, amount, sig);
        assertEq(channels.getChannel(chA).redeemed, amount, "original chain still pays its own voucher");
    }

    function open(PaymentChannels pc) internal returns (uint256 id) {
        offerStream(pc, item, address(0));
        vm.deal(viewer, viewer.balance + DEPOSIT);
        vm.prank(viewer);
        id = pc.openChannel{value: DEPOSIT}(openParams(item, address(0), DEPOSIT, uint64(block.timestamp + 7 days)));
    }
}

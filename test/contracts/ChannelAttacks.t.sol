// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {PaymentChannels} from "../../contracts/payments/PaymentChannels.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Attacks on voucher signatures and the close protocol: malleability, dodging, session-key abuse.
contract ChannelAttacksTest is SystemTest {
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant VIEWER_PK = 0xA11CE;
    uint256 internal constant KEY_PK = 0x5E55101;
    uint256 internal constant KEY2_PK = 0x5E55102;
    address internal constant CREATOR = address(0xC0FFEE);
    uint96 internal constant DEPOSIT = 10 ether;

    address internal viewer;
    address internal key;
    bytes32 internal item;
    uint64 internal challenge;

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
        viewer = vm.addr(VIEWER_PK);
        key = vm.addr(KEY_PK);
        item = registerItem(CREATOR, "stream", address(0), 0, 0);
        offerStream(channels, item, address(0));
        challenge = channels.CHALLENGE_PERIOD();
    }

    // ------------------------------------------------------------ signature malleability

    function testFuzz_highSVoucherRejected(uint96 amount) public {
        amount = uint96(bound(amount, 1, DEPOSIT));
        uint256 ch = open(uint64(block.timestamp + 7 days), noKey());
        bytes32 digest = channels.voucherDigest(ch, amount);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(VIEWER_PK, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // The twin is a genuine signature by the viewer as far as raw ecrecover is concerned...
        assertEq(ecrecover(digest, flippedV, r, highS), viewer, "malleated twin recovers the viewer");
        // ...but the contract refuses it.
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        channels.redeemVoucher(ch, amount, abi.encodePacked(r, highS, flippedV));
        // EIP-2098 compact form and a bad v are refused too; only the canonical form pays.
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        channels.redeemVoucher(ch, amount, abi.encodePacked(r, vs));
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignature.selector));
        channels.redeemVoucher(ch, amount, abi.encodePacked(r, s, uint8(29)));
        channels.redeemVoucher(ch, amount, abi.encodePacked(r, s, v));
        assertEq(channels.getChannel(ch).redeemed, amount, "canonical signature pays");
    }

    // ------------------------------------------------------------ viewer dodging a voucher

    function testFuzz_viewerCannotDodgeVoucher(uint96 watched, uint32 delay) public {
        watched = uint96(bound(watched, 1, DEPOSIT));
        delay = uint32(bound(delay, 0, challenge - 1));
        uint256 ch = open(uint64(block.timestamp + 30 days), noKey());
        bytes memory owedVoucher = signVoucher(channels, VIEWER_PK, ch, watched);

        // The viewer tries to leave early.
        vm.prank(viewer);
        channels.requestClose(ch);
        uint64 closesAt = channels.getChannel(ch).closesAt;
        assertEq(closesAt, block.timestamp + challenge, "creator keeps a full challenge period");
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelStillOpen.selector, ch, closesAt));
        channels.reclaim(ch);
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelClosing.selector, ch, closesAt));
        channels.topUp(ch, 0, uint64(block.timestamp + 60 days));
        // Asking again later does not shorten it.
        vm.warp(block.timestamp + delay);
        vm.prank(viewer);
        channels.requestClose(ch);
        assertEq(channels.getChannel(ch).closesAt, closesAt, "second request does not cut the period");

        // The creator redeems within the challenge period and is paid.
        channels.redeemVoucher(ch, watched, owedVoucher);
        uint256 creatorShare = channels.balanceOf(CREATOR, address(0));
        uint256 fee = channels.balanceOf(treasury, address(0));
        assertEq(creatorShare + fee, watched, "creator and platform paid the voucher");

        // After the close time the viewer gets exactly the rest, and nothing more can be redeemed.
        vm.warp(closesAt);
        bytes memory more = signVoucher(channels, VIEWER_PK, ch, DEPOSIT);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelExpired.selector, ch, closesAt));
        channels.redeemVoucher(ch, DEPOSIT, more);
        uint256 before = viewer.balance;
        vm.prank(viewer);
        channels.reclaim(ch);
        assertEq(viewer.balance - before, DEPOSIT - watched, "viewer refunded the unredeemed rest");
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelNotOpen.selector, ch));
        channels.redeemVoucher(ch, DEPOSIT, more);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelNotOpen.selector, ch));
        channels.closeChannel(ch, DEPOSIT, more);
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelNotOpen.selector, ch));
        channels.reclaim(ch);
        assertEq(address(channels).balance, creatorShare + fee, "only the owed split is left");
    }

    /// @dev A requestClose never pushes an already-closer expiry later.
    function test_requestCloseNeverExtends() public {
        uint64 expiry = uint64(block.timestamp + challenge + 1 hours);
        uint256 ch = open(expiry, noKey());
        vm.warp(block.timestamp + 2 hours);
        vm.prank(viewer);
        channels.requestClose(ch);
        assertEq(channels.getChannel(ch).closesAt, expiry, "kept the earlier expiry");
    }

    function test_onlyViewerControlsChannel() public {
        uint256 ch = open(uint64(block.timestamp + 7 days), noKey());
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.NotViewer.selector, ch, CREATOR));
        channels.requestClose(ch);
        vm.warp(block.timestamp + 7 days);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.NotViewer.selector, ch, CREATOR));
        channels.reclaim(ch);
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.NotCreator.selector, ch, viewer));
        channels.closeChannel(ch, 0, "");
    }

    // ------------------------------------------------------------ session keys

    function testFuzz_sessionKeyCap(uint96 cap, uint96 cumulative) public {
        cap = uint96(bound(cap, 1, DEPOSIT));
        cumulative = uint96(bound(cumulative, 1, 2 * uint256(DEPOSIT)));
        uint256 ch = open(uint64(block.timestamp + 7 days), sessionKey(key, cap, uint64(block.timestamp + 1 days)));
        bytes memory sig = signVoucher(channels, KEY_PK, ch, cumulative);
        if (cumulative > cap) {
            vm.expectRevert(abi.encodeWithSelector(PaymentChannels.SpendingCapExceeded.selector, cumulative, cap));
            channels.redeemVoucher(ch, cumulative, sig);
            // The viewer's own signature is not capped by the key's cap.
            channels.redeemVoucher(ch, cumulative, signVoucher(channels, VIEWER_PK, ch, cumulative));
        } else {
            channels.redeemVoucher(ch, cumulative, sig);
        }
        uint256 expected = cumulative < DEPOSIT ? cumulative : DEPOSIT;
        assertEq(channels.getChannel(ch).redeemed, expected, "paid min(cumulative, deposit)");
    }

    function test_sessionKeyExpiry() public {
        uint64 keyExpiry = uint64(block.timestamp + 1 hours);
        uint256 ch = open(uint64(block.timestamp + 7 days), sessionKey(key, DEPOSIT, keyExpiry));
        bytes memory sig1 = signVoucher(channels, KEY_PK, ch, 1 ether);
        bytes memory sig2 = signVoucher(channels, KEY_PK, ch, 2 ether);
        // Within the grace period after expiry, vouchers the key signed still pay (they carry no time).
        vm.warp(uint256(keyExpiry) + challenge);
        channels.redeemVoucher(ch, 1 ether, sig1);
        assertEq(channels.getChannel(ch).redeemed, 1 ether, "redeemed within grace");
        vm.warp(uint256(keyExpiry) + challenge + 1);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.SessionKeyExpired.selector, key, keyExpiry));
        channels.redeemVoucher(ch, 2 ether, sig2);
        assertEq(channels.getChannel(ch).redeemed, 1 ether, "nothing after the grace period");
    }

    function test_revokedSessionKey() public {
        uint64 keyExpiry = uint64(block.timestamp + 1 hours);
        uint256 ch = open(uint64(block.timestamp + 7 days), sessionKey(key, DEPOSIT, keyExpiry));
        bytes memory signedByOldKey = signVoucher(channels, KEY_PK, ch, 1 ether);

        // A live key cannot be swapped out from under vouchers it already signed.
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.SessionKeyActive.selector, key, keyExpiry));
        channels.authorizeSessionKey(ch, noKey());
        // Only the viewer may manage keys.
        vm.warp(uint256(keyExpiry) + challenge + 1);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.NotViewer.selector, ch, CREATOR));
        channels.authorizeSessionKey(ch, noKey());

        // Once dead it is rotated; its vouchers no longer verify, the new key's do.
        address key2 = vm.addr(KEY2_PK);
        vm.prank(viewer);
        channels.authorizeSessionKey(ch, sessionKey(key2, DEPOSIT, uint64(block.timestamp + 1 hours)));
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.InvalidSigner.selector, key));
        channels.redeemVoucher(ch, 1 ether, signedByOldKey);
        channels.redeemVoucher(ch, 1 ether, signVoucher(channels, KEY2_PK, ch, 1 ether));

        // Revoked outright (zero key) after that one dies: no key signs any more.
        vm.warp(block.timestamp + 1 hours + challenge + 1);
        vm.prank(viewer);
        channels.authorizeSessionKey(ch, noKey());
        bytes memory signedByKey2 = signVoucher(channels, KEY2_PK, ch, 2 ether);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.InvalidSigner.selector, key2));
        channels.redeemVoucher(ch, 2 ether, signedByKey2);
        assertEq(channels.getChannel(ch).redeemed, 1 ether, "only the valid voucher paid");
    }

    function testFuzz_foreignKeyRejected(uint256 pk) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        vm.assume(pk != VIEWER_PK && pk != KEY_PK);
        uint256 ch = open(uint64(block.timestamp + 7 days), sessionKey(key, DEPOSIT, uint64(block.timestamp + 1 days)));
        bytes memory sig = signVoucher(channels, pk, ch, 1);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.InvalidSigner.selector, vm.addr(pk)));
        channels.redeemVoucher(ch, 1, sig);
    }

    /// @dev A viewer cannot pick their own price: below the creator's rate, or in another token, opening reverts.
    function testFuzz_cannotOpenBelowStreamPrice(uint96 price, uint96 rate) public {
        price = uint96(bound(price, 1, type(uint96).max));
        vm.prank(CREATOR);
        channels.setStreamPrice(item, address(0), price);
        PaymentChannels.OpenParams memory p = openParams(item, address(0), DEPOSIT, uint64(block.timestamp + 7 days));
        p.ratePerMinute = rate;
        vm.deal(viewer, DEPOSIT);
        vm.prank(viewer);
        if (rate < price) {
            vm.expectRevert(abi.encodeWithSelector(PaymentChannels.RateBelowPrice.selector, item, price, rate));
            channels.openChannel{value: DEPOSIT}(p);
        } else {
            uint256 ch = channels.openChannel{value: DEPOSIT}(p);
            assertEq(channels.getChannel(ch).deposit, DEPOSIT, "opened at or above the price");
        }
        p.token = address(stable);
        p.ratePerMinute = price;
        vm.prank(viewer);
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.WrongStreamToken.selector, item, address(0), address(stable)));
        channels.openChannel(p);
    }

    // ------------------------------------------------------------ helpers

    function open(uint64 expiresAt, PaymentChannels.SessionKey memory sk) internal returns (uint256 ch) {
        PaymentChannels.OpenParams memory p = openParams(item, address(0), DEPOSIT, expiresAt);
        p.sessionKey = sk;
        vm.deal(viewer, viewer.balance + DEPOSIT);
        vm.prank(viewer);
        ch = channels.openChannel{value: DEPOSIT}(p);
    }

    function sessionKey(address k, uint96 cap, uint64 expiresAt) internal pure returns (PaymentChannels.SessionKey memory) {
        return PaymentChannels.SessionKey(k, cap, expiresAt);
    }

    function noKey() internal pure returns (PaymentChannels.SessionKey memory sk) {}
}

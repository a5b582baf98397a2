// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {Attacker} from "../../contracts/mocks/attack/Attacker.sol";
import {ReentrantToken} from "../../contracts/mocks/attack/ReentrantToken.sol";
import {FakePass} from "../../contracts/mocks/attack/FakePass.sol";
import {ContentAccess} from "../../contracts/access/ContentAccess.sol";
import {PaymentChannels} from "../../contracts/payments/PaymentChannels.sol";
import {RevenueLedger} from "../../contracts/payments/RevenueLedger.sol";
import {CreatorPass} from "../../contracts/creator/CreatorPass.sol";

/**
 * @notice Re-entry through every callback an outsider controls: a malicious allow-listed ERC-20,
 * a contract payee's native receive, an ERC-721 receiver during a pass mint, and a fake pass.
 * Each attacker catches its re-entry so the outer call completes and the books can be checked.
 */
contract ReentrancyAttacksTest is SystemTest {
    bytes4 internal constant REENTRANT = bytes4(keccak256("ReentrancyGuardReentrantCall()"));
    uint256 internal constant VIEWER_PK = 0xA11CE;
    address internal constant FAN = address(0xFA11);

    ReentrantToken internal evil;
    Attacker internal attacker;

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
        evil = new ReentrantToken();
        // The owner's mistake the tests assume: a hostile token on the allow-list.
        access.setPaymentToken(address(evil), true);
        attacker = new Attacker();
    }

    // ------------------------------------------------------------ malicious ERC-20

    function test_evilTokenCannotReenterPurchase() public {
        bytes32 id = registerItem(address(0xC0FFEE), "x", address(evil), 100, 1 days);
        evil.mint(address(attacker), 200);
        attacker.execute(address(evil), abi.encodeCall(evil.approve, (address(access), 200)), 0);
        evil.setHook(address(attacker));
        attacker.arm(address(access), abi.encodeCall(access.purchaseAccess, (id, terms(id))), 0);

        attacker.execute(address(access), abi.encodeCall(access.purchaseAccess, (id, terms(id))), 0);

        assertReentryBlocked();
        assertEq(access.purchaseExpiry(id, address(attacker)), block.timestamp + 1 days, "one period only");
        assertEq(evil.balanceOf(address(access)), 100, "paid once");
        assertEq(owed(access, address(evil)), 100, "credited once");
    }

    /// @dev The permit call of purchaseAccessWithPermit runs token code before any payment: re-entry there is blocked too.
    function test_evilPermitCannotReenterPurchase() public {
        bytes32 id = registerItem(address(0xC0FFEE), "x", address(evil), 100, 1 days);
        evil.mint(address(attacker), 100);
        attacker.execute(address(evil), abi.encodeCall(evil.approve, (address(access), 100)), 0);
        evil.setHook(address(attacker));
        attacker.arm(address(access), abi.encodeCall(access.purchaseAccess, (id, terms(id))), 0);

        attacker.execute(
            address(access),
            abi.encodeCall(access.purchaseAccessWithPermit, (id, terms(id), block.timestamp, 27, bytes32(0), bytes32(0))),
            0
        );

        assertReentryBlocked();
        assertEq(access.purchaseExpiry(id, address(attacker)), block.timestamp + 1 days, "one period only");
        assertEq(evil.balanceOf(address(access)), 100, "paid once");
        assertEq(owed(access, address(evil)), 100, "credited once");
    }

    function test_evilTokenCannotReenterWithdraw() public {
        // The attacker is a creator with evil-token sales to withdraw.
        bytes32 id = registerAs(attacker, address(evil), 1_000);
        evil.mint(FAN, 3_000);
        vm.startPrank(FAN);
        evil.approve(address(access), 3_000);
        access.purchaseAccess(id, terms(id));
        access.purchaseAccess(id, terms(id));
        vm.stopPrank();
        uint256 owedToAttacker = access.balanceOf(address(attacker), address(evil));
        assertEq(owedToAttacker, 2_000 - (2_000 * uint256(FEE_BPS)) / 10_000, "creator share");

        evil.setHook(address(attacker));
        attacker.arm(address(access), abi.encodeCall(access.withdraw, (address(evil))), 0);
        attacker.execute(address(access), abi.encodeCall(access.withdraw, (address(evil))), 0);

        assertReentryBlocked();
        assertEq(evil.balanceOf(address(attacker)), owedToAttacker, "withdrew exactly once");
        assertEq(access.balanceOf(address(attacker), address(evil)), 0, "balance zeroed");
        assertEq(evil.balanceOf(address(access)), owed(access, address(evil)), "held == owed");
    }

    /// @dev During an evil-token payout from the channels ledger, a valid voucher cannot be slipped in.
    function test_evilTokenCannotReenterRedeemDuringWithdraw() public {
        bytes32 id = registerAs(attacker, address(0), 0);
        offerStream(channels, id, address(evil));
        address viewer = vm.addr(VIEWER_PK);
        evil.mint(viewer, 1_000);
        vm.startPrank(viewer);
        evil.approve(address(channels), 1_000);
        uint256 ch = channels.openChannel(openParams(id, address(evil), 1_000, uint64(block.timestamp + 2 days)));
        vm.stopPrank();
        channels.redeemVoucher(ch, 400, signVoucher(channels, VIEWER_PK, ch, 400));
        bytes memory later = signVoucher(channels, VIEWER_PK, ch, 900);

        evil.setHook(address(attacker));
        attacker.arm(address(channels), abi.encodeCall(channels.redeemVoucher, (ch, 900, later)), 0);
        uint256 owedBefore = channels.balanceOf(address(attacker), address(evil));
        attacker.execute(address(channels), abi.encodeCall(channels.withdraw, (address(evil))), 0);

        assertReentryBlocked();
        assertEq(evil.balanceOf(address(attacker)), owedBefore, "withdrew exactly what was owed");
        assertEq(channels.getChannel(ch).redeemed, 400, "re-entered redemption did not happen");
        // The same voucher is fine outside the transfer.
        evil.setHook(address(0));
        channels.redeemVoucher(ch, 900, later);
        assertEq(channels.getChannel(ch).redeemed, 900, "redeemable afterwards");
    }

    /// @dev The viewer's evil-token reclaim tries to reclaim again mid-transfer.
    function test_evilTokenCannotReenterReclaim() public {
        bytes32 id = registerItem(address(0xC0FFEE), "x", address(0), 0, 0);
        offerStream(channels, id, address(evil));
        evil.mint(address(attacker), 500);
        attacker.execute(address(evil), abi.encodeCall(evil.approve, (address(channels), 500)), 0);
        bytes memory ret = attacker.execute(
            address(channels),
            abi.encodeCall(channels.openChannel, (openParams(id, address(evil), 500, uint64(block.timestamp + 2 days)))),
            0
        );
        uint256 ch = abi.decode(ret, (uint256));
        vm.warp(block.timestamp + 2 days);
        evil.setHook(address(attacker));
        attacker.arm(address(channels), abi.encodeCall(channels.reclaim, (ch)), 0);
        attacker.execute(address(channels), abi.encodeCall(channels.reclaim, (ch)), 0);

        assertReentryBlocked();
        assertEq(evil.balanceOf(address(attacker)), 500, "refunded once");
        assertEq(evil.balanceOf(address(channels)), 0, "nothing left, nothing overdrawn");
        assertEq(uint8(channels.getChannel(ch).status), uint8(PaymentChannels.Status.Closed), "closed");
    }

    // ------------------------------------------------------------ native receive

    function test_contractPayeeCannotReenterNativeWithdraw() public {
        bytes32 id = registerAs(attacker, address(0), 1 ether);
        buyNative(id, 1 ether);
        buyNative(id, 1 ether);
        uint256 share = access.balanceOf(address(attacker), address(0));
        attacker.arm(address(access), abi.encodeCall(access.withdraw, (address(0))), 0);
        attacker.execute(address(access), abi.encodeCall(access.withdraw, (address(0))), 0);

        assertReentryBlocked();
        assertEq(address(attacker).balance, share, "withdrew exactly once");
        assertEq(address(access).balance, owed(access, address(0)), "held == owed");
    }

    function test_contractViewerCannotReenterNativeReclaim() public {
        bytes32 id = registerItem(address(0xC0FFEE), "x", address(0), 0, 0);
        offerStream(channels, id, address(0));
        vm.deal(address(attacker), 3 ether);
        // An honest viewer's channel holds funds the attacker would like to drain too.
        address viewer = vm.addr(VIEWER_PK);
        vm.deal(viewer, 2 ether);
        vm.prank(viewer);
        channels.openChannel{value: 2 ether}(openParams(id, address(0), 2 ether, uint64(block.timestamp + 10 days)));
        bytes memory ret = attacker.execute(
            address(channels),
            abi.encodeCall(channels.openChannel, (openParams(id, address(0), 3 ether, uint64(block.timestamp + 10 days)))),
            3 ether
        );
        uint256 ch = abi.decode(ret, (uint256));
        attacker.execute(address(channels), abi.encodeCall(channels.requestClose, (ch)), 0);
        vm.warp(block.timestamp + channels.CHALLENGE_PERIOD());

        attacker.arm(address(channels), abi.encodeCall(channels.reclaim, (ch)), 0);
        attacker.execute(address(channels), abi.encodeCall(channels.reclaim, (ch)), 0);

        assertReentryBlocked();
        assertEq(address(attacker).balance, 3 ether, "reclaimed its own deposit once");
        assertEq(address(channels).balance, 2 ether, "honest viewer's escrow untouched");
        vm.expectRevert(abi.encodeWithSelector(PaymentChannels.ChannelNotOpen.selector, ch));
        attacker.execute(address(channels), abi.encodeCall(channels.reclaim, (ch)), 0);
    }

    /// @dev A payee that refuses native payment only blocks its own withdrawal.
    function test_refusingPayeeCannotBlockOthers() public {
        bytes32 id = registerAs(attacker, address(0), 1 ether);
        buyNative(id, 1 ether);
        attacker.setRefuse(true);
        uint256 share = access.balanceOf(address(attacker), address(0));
        vm.expectRevert(abi.encodeWithSelector(RevenueLedger.NativeTransferFailed.selector, address(attacker), share));
        attacker.execute(address(access), abi.encodeCall(access.withdraw, (address(0))), 0);
        assertEq(access.balanceOf(address(attacker), address(0)), share, "balance kept after failed payout");
        uint256 fee = access.balanceOf(treasury, address(0));
        vm.prank(treasury);
        access.withdraw(address(0));
        assertEq(treasury.balance, fee, "treasury still paid");
    }

    // ------------------------------------------------------------ ERC-721 receiver

    function test_passReceiverCannotReenterMint() public {
        address creator = address(0xC0FFEE);
        CreatorPass pass = launchCreator(creator, 3, 0.1 ether);
        vm.deal(address(attacker), 1 ether);
        // While receiving its first pass, try to mint two more (which would also exceed the cap of 3).
        attacker.arm(address(pass), abi.encodeCall(pass.mint, (2)), 0.2 ether);
        attacker.execute(address(pass), abi.encodeCall(pass.mint, (2)), 0.2 ether);

        assertReentryBlocked();
        (, uint256 minted,,) = pass.saleInfo();
        assertEq(minted, 2, "only the outer mint counted");
        assertEq(pass.balanceOf(address(attacker)), 2, "two passes");
        assertEq(pass.ownerOf(1), address(attacker), "token 1");
        assertEq(pass.ownerOf(2), address(attacker), "token 2");
        assertEq(address(attacker).balance, 0.8 ether, "paid for exactly two");
        assertEq(address(access).balance, 0.2 ether, "revenue deposited once");
        assertEq(owed(access, address(0)), 0.2 ether, "revenue credited once");
        assertEq(access.balanceOf(creator, address(0)), 0.2 ether - (0.2 ether * uint256(FEE_BPS)) / 10_000, "creator share");
        // The cap still holds for a normal mint.
        vm.deal(FAN, 1 ether);
        vm.prank(FAN);
        vm.expectRevert(abi.encodeWithSelector(CreatorPass.SoldOut.selector, 2, 1));
        pass.mint{value: 0.2 ether}(2);
    }

    /// @dev A receiver that rejects mid-batch unwinds the whole mint: no passes, no payment kept.
    function test_rejectingReceiverUnwindsMint() public {
        CreatorPass pass = launchCreator(address(0xC0FFEE), 3, 0.1 ether);
        vm.deal(address(attacker), 1 ether);
        attacker.setRefuse(true);
        vm.expectRevert(abi.encodeWithSelector(Attacker.Refused.selector));
        attacker.execute(address(pass), abi.encodeCall(pass.mint, (2)), 0.2 ether);
        (, uint256 minted,,) = pass.saleInfo();
        assertEq(minted, 0, "nothing minted");
        assertEq(address(attacker).balance, 1 ether, "nothing paid");
        assertEq(address(access).balance, 0, "nothing deposited");
    }

    // ------------------------------------------------------------ fake pass

    function test_fakePassCannotDepositRevenue() public {
        address creator = address(0xC0FFEE);
        CreatorPass realPass = launchCreator(creator, 3, 0.1 ether);
        FakePass fake = new FakePass();
        vm.deal(address(this), 1 ether);
        // For a launched creator, and for one that never launched (passOf == 0).
        vm.expectRevert(abi.encodeWithSelector(ContentAccess.NotCreatorPass.selector, address(fake), creator));
        fake.deposit{value: 0.5 ether}(access, creator);
        vm.expectRevert(abi.encodeWithSelector(ContentAccess.NotCreatorPass.selector, address(fake), address(0xBAD)));
        fake.deposit{value: 0.5 ether}(access, address(0xBAD));
        // Even a genuine pass address cannot be used by someone else to deposit for its creator.
        vm.expectRevert(abi.encodeWithSelector(ContentAccess.NotCreatorPass.selector, address(this), creator));
        access.depositPassRevenue{value: 0.5 ether}(creator);
        // A real pass of another creator cannot credit this one.
        CreatorPass otherPass = launchCreator(address(0xB0B), 3, 0);
        vm.deal(address(otherPass), 1 ether);
        vm.prank(address(otherPass));
        vm.expectRevert(abi.encodeWithSelector(ContentAccess.NotCreatorPass.selector, address(otherPass), creator));
        access.depositPassRevenue{value: 0.5 ether}(creator);
        assertEq(owed(access, address(0)), 0, "nothing credited");
        // Control: the real pass gets through.
        vm.deal(address(realPass), 1 ether);
        vm.prank(address(realPass));
        access.depositPassRevenue{value: 0.5 ether}(creator);
        assertEq(owed(access, address(0)), 0.5 ether, "real pass credited");
    }

    // ------------------------------------------------------------ helpers

    function assertReentryBlocked() internal view {
        assertTrue(attacker.reentered(), "callback ran");
        assertTrue(!attacker.reentryOk(), "re-entry succeeded");
        assertEq(selectorOf(attacker.reentryError()), REENTRANT, "re-entry stopped by the guard");
    }

    function registerAs(Attacker who, address token, uint96 price) internal returns (bytes32 id) {
        bytes memory ret = who.execute(
            address(access),
            abi.encodeCall(
                access.registerContent,
                (bytes32("evil"), hex"01", ContentAccess.Tier.Premium, rules(token, price, 0), noCollaborators())
            ),
            0
        );
        id = abi.decode(ret, (bytes32));
    }

    function buyNative(bytes32 id, uint256 price) internal {
        vm.deal(FAN, FAN.balance + price);
        uint48 version = terms(id);
        vm.prank(FAN);
        access.purchaseAccess{value: price}(id, version);
    }

    /// @dev Sum of every balance this file's scenarios can credit.
    function owed(RevenueLedger ledger, address token) internal view returns (uint256) {
        return ledger.balanceOf(treasury, token) + ledger.balanceOf(address(attacker), token)
            + ledger.balanceOf(address(0xC0FFEE), token) + ledger.balanceOf(address(0xB0B), token)
            + ledger.balanceOf(FAN, token) + ledger.balanceOf(vm.addr(VIEWER_PK), token);
    }

    receive() external payable {}
}

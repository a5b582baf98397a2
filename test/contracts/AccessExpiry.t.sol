// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {ContentAccess} from "../../contracts/access/ContentAccess.sol";

/// @notice Paid access only grows: each payment adds exactly one period from max(now, expiry), and rule updates never shorten it.
contract AccessExpiryTest is SystemTest {
    address internal constant CREATOR = address(0xC0FFEE);
    address internal constant FAN = address(0xFA11);

    function setUp() public {
        deploySystem();
        vm.warp(1_700_000_000);
    }

    function testFuzz_eachPurchaseAddsOnePeriod(uint32 duration, uint256 gapSeed, uint8 count, bool inStable) public {
        address token = inStable ? address(stable) : address(0);
        uint96 price = 1_000;
        bytes32 id = registerItem(CREATOR, "item", token, price, duration);
        uint256 period = duration == 0 ? access.DEFAULT_ACCESS_DURATION() : duration;
        count = uint8(bound(count, 1, 6));
        for (uint256 i; i < count; ++i) {
            // Gaps both shorter and longer than the period, so both branches of max(now, expiry) run.
            uint256 gap = uint256(keccak256(abi.encode(gapSeed, i))) % (2 * period + 1);
            vm.warp(block.timestamp + gap);
            uint64 before = access.purchaseExpiry(id, FAN);
            uint256 start = before > block.timestamp ? before : block.timestamp;
            buy(id, token, price);
            uint64 afterwards = access.purchaseExpiry(id, FAN);
            assertEq(afterwards, start + period, "one period from max(now, expiry)");
            assertTrue(afterwards > before, "expiry grew");
            (ContentAccess.Reason reason, uint64 until) = access.accessOf(FAN, id);
            assertEq(uint8(reason), uint8(ContentAccess.Reason.Purchase), "reason");
            assertEq(until, afterwards, "accessOf expiry");
        }
    }

    function testFuzz_subscriptionAddsPeriods(uint32 p1, uint32 p2, uint256 gap, bool inStable) public {
        address token = inStable ? address(stable) : address(0);
        uint256 price = inStable ? SUB_PRICE_STABLE : SUB_PRICE_NATIVE;
        p1 = uint32(bound(p1, 1, 5_000));
        p2 = uint32(bound(p2, 1, 5_000));
        subscribe(token, price, p1);
        uint64 first = access.subscriptionExpiry(FAN);
        assertEq(first, block.timestamp + uint256(p1) * 30 days, "first subscription");
        vm.warp(block.timestamp + bound(gap, 0, uint256(p1) * 60 days));
        uint256 start = first > block.timestamp ? first : block.timestamp;
        subscribe(token, price, p2);
        assertEq(access.subscriptionExpiry(FAN), start + uint256(p2) * 30 days, "extension from max(now, expiry)");
    }

    function testFuzz_ruleUpdateNeverShortensBoughtAccess(
        uint96 newPrice,
        uint32 newDuration,
        bool newTokenStable,
        bool inSubscription,
        uint256 gap
    ) public {
        bytes32 id = registerItem(CREATOR, "item", address(0), 1 ether, 7 days);
        buy(id, address(0), 1 ether);
        uint64 bought = access.purchaseExpiry(id, FAN);

        ContentAccess.Rules memory r = rules(newTokenStable ? address(stable) : address(0), newPrice, newDuration);
        r.inSubscription = inSubscription;
        vm.prank(CREATOR);
        access.updateRules(id, r);
        assertEq(access.purchaseExpiry(id, FAN), bought, "expiry unchanged by rule update");

        // Still valid right up to the bought expiry, whatever the new rules say.
        vm.warp(block.timestamp + bound(gap, 0, 7 days - 1));
        assertTrue(access.hasValidAccess(FAN, id), "access kept until bought expiry");
        vm.warp(bought);
        assertTrue(!access.hasValidAccess(FAN, id), "access ends at expiry");
    }

    /// @dev Disallowing the token an item is sold in stops new sales but leaves bought access alone.
    function test_tokenDelistKeepsAccess() public {
        bytes32 id = registerItem(CREATOR, "item", address(stable), 1_000, 0);
        buy(id, address(stable), 1_000);
        uint64 bought = access.purchaseExpiry(id, FAN);
        access.setPaymentToken(address(stable), false);
        stable.mint(FAN, 1_000);
        uint48 version = terms(id); // before the prank, which applies to the next call only
        vm.prank(FAN);
        vm.expectRevert(abi.encodeWithSelector(ContentAccess.TokenNotAccepted.selector, address(stable)));
        access.purchaseAccess(id, version);
        assertEq(access.purchaseExpiry(id, FAN), bought, "expiry kept");
        assertTrue(access.hasValidAccess(FAN, id), "still valid");
    }

    /// An expiry that would pass 2^64 seconds reverts instead of wrapping to an earlier time.
    function test_expiryNeverWrapsPastUint64() public {
        vm.warp(type(uint64).max - 10 days);
        uint256 total = SUB_PRICE_NATIVE;
        vm.deal(FAN, total);
        vm.prank(FAN);
        vm.expectPartialRevert(SafeCastOverflowedUintDowncast.selector);
        access.subscribe{value: total}(address(0), 1, total);
        assertEq(access.subscriptionExpiry(FAN), 0, "no expiry written");
    }

    error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value);

    function buy(bytes32 id, address token, uint96 price) internal {
        if (token == address(0)) {
            vm.deal(FAN, price);
            uint48 version = terms(id);
            vm.prank(FAN);
            access.purchaseAccess{value: price}(id, version);
        } else {
            stable.mint(FAN, price);
            vm.startPrank(FAN);
            stable.approve(address(access), price);
            access.purchaseAccess(id, terms(id));
            vm.stopPrank();
        }
    }

    function subscribe(address token, uint256 price, uint32 periods) internal {
        uint256 total = price * periods;
        if (token == address(0)) {
            vm.deal(FAN, total);
            vm.prank(FAN);
            access.subscribe{value: total}(token, periods, total);
        } else {
            stable.mint(FAN, total);
            vm.startPrank(FAN);
            stable.approve(address(access), total);
            access.subscribe(token, periods, total);
            vm.stopPrank();
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {SplitHarness} from "./helpers/SplitHarness.sol";
import {IRevenueSplit} from "../../contracts/interfaces/IRevenueSplit.sol";
import {ContentAccess} from "../../contracts/access/ContentAccess.sol";

/// @notice fee + collaborator shares + creator remainder == amount, for any amount, fee and shares.
contract SplitTest is SystemTest {
    address internal constant CREATOR = address(0xC0FFEE);
    address internal constant TREASURY = address(0x7EA5);
    address internal constant TOKEN = address(0x70CE);

    SplitHarness internal harness;

    function setUp() public {
        harness = new SplitHarness();
        deploySystem();
    }

    /// @dev Builds `n` collaborators (distinct accounts) whose shares are drawn from `seed` and sum to at most 100%.
    function collaborators(uint256 n, uint256 seed) internal pure returns (IRevenueSplit.Collaborator[] memory cs) {
        cs = new IRevenueSplit.Collaborator[](n);
        uint256 left = 10_000;
        for (uint256 i; i < n; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            // Sometimes take everything that is left, to hit exactly 100%.
            uint256 share = seed % 7 == 0 ? left : seed % (left + 1);
            cs[i] = IRevenueSplit.Collaborator(address(uint160(0xC011A0 + i)), uint16(share));
            left -= share;
        }
    }

    function testFuzz_splitAddsUp(uint256 amount, uint16 feeBps, uint8 n, uint256 seed) public {
        // Any fee up to 100% (the ledger itself does not cap it) and amounts up to the overflow bound.
        amount = bound(amount, 0, type(uint256).max / 10_000);
        feeBps = uint16(bound(feeBps, 0, 10_000));
        IRevenueSplit.Collaborator[] memory cs = collaborators(bound(n, 0, 16), seed);
        harness.distribute(TOKEN, amount, IRevenueSplit.Split(CREATOR, TREASURY, feeBps, cs));

        uint256 fee = harness.balanceOf(TREASURY, TOKEN);
        assertEq(fee, (amount * feeBps) / 10_000, "fee");
        uint256 net = amount - fee;
        uint256 creatorPart = harness.balanceOf(CREATOR, TOKEN);
        uint256 total = fee + creatorPart;
        uint256 sharesBps;
        for (uint256 i; i < cs.length; ++i) {
            uint256 got = harness.balanceOf(cs[i].account, TOKEN);
            assertEq(got, (net * cs[i].shareBps) / 10_000, "collaborator share");
            total += got;
            sharesBps += cs[i].shareBps;
        }
        assertEq(total, amount, "parts == amount");
        // Rounding dust goes to the creator: its part is its exact share plus under one unit per collaborator.
        uint256 exactCreator = (net * (10_000 - sharesBps)) / 10_000;
        assertTrue(creatorPart >= exactCreator, "creator gets at least its share");
        assertLe(creatorPart - exactCreator, cs.length, "dust bounded by collaborator count");
    }

    /// @dev Same property end to end: a real purchase credits exactly the price across all payees.
    function testFuzz_purchaseSplitAddsUp(uint96 price, uint16 feeBps, uint8 n, uint256 seed) public {
        price = uint96(bound(price, 1, type(uint96).max));
        feeBps = uint16(bound(feeBps, 0, access.MAX_PLATFORM_FEE_BPS()));
        access.setPlatformFee(feeBps);
        IRevenueSplit.Collaborator[] memory cs = collaborators(bound(n, 0, 16), seed);
        // Zero-share collaborators are rejected at registration; drop them.
        uint256 kept;
        for (uint256 i; i < cs.length; ++i) if (cs[i].shareBps != 0) cs[kept++] = cs[i];
        assembly {
            mstore(cs, kept)
        }
        vm.prank(CREATOR);
        bytes32 id = access.registerContent(
            bytes32(seed), hex"01", ContentAccess.Tier.Premium, rules(address(0), price, 0), cs
        );
        address fan = address(0xFA11);
        vm.deal(fan, price);
        uint48 version = terms(id);
        vm.prank(fan);
        access.purchaseAccess{value: price}(id, version);

        uint256 total = access.balanceOf(TREASURY, address(0)) + access.balanceOf(CREATOR, address(0));
        for (uint256 i; i < cs.length; ++i) total += access.balanceOf(cs[i].account, address(0));
        assertEq(total, price, "credited == price");
        assertEq(address(access).balance, price, "held == price");
        assertEq(access.balanceOf(TREASURY, address(0)), (uint256(price) * feeBps) / 10_000, "fee");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SystemTest} from "./helpers/SystemTest.sol";
import {LiveStreams} from "../../contracts/live/LiveStreams.sol";
import {IRevenueSplit} from "../../contracts/interfaces/IRevenueSplit.sol";

/// @notice Whoever calls and whatever the timing, an item goes None -> Live -> Ended once, only by its creator, and the recorded times and duration are the chain's.
contract LiveStreamsLifecycleTest is SystemTest {
    address internal constant CREATOR = address(0xC0FFEE);
    LiveStreams internal live;
    bytes32 internal id;

    function setUp() public {
        deploySystem();
        live = new LiveStreams(IRevenueSplit(address(access)));
        vm.warp(1_700_000_000);
        id = registerItem(CREATOR, "gig", address(0), 0, 0);
    }

    function testFuzz_onlyTheCreatorMovesItAndOnlyForward(address caller, uint32 segments, uint32 startGap, uint32 liveFor) public {
        vm.assume(caller != CREATOR);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.NotContentCreator.selector, id, caller));
        live.startLive(id);

        vm.warp(block.timestamp + startGap);
        uint256 startedAt = block.timestamp;
        vm.prank(CREATOR);
        live.startLive(id);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.NotContentCreator.selector, id, caller));
        live.endLive(id, segments);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.AlreadyLive.selector, id));
        live.startLive(id);
        assertTrue(live.isLive(id), "live after the start");

        vm.warp(block.timestamp + liveFor);
        vm.prank(CREATOR);
        live.endLive(id, segments);
        LiveStreams.LiveStream memory s = live.streamOf(id);
        assertEq(uint8(s.status), uint8(LiveStreams.LiveStatus.Ended), "ended");
        assertEq(s.startedAt, startedAt, "start time is the chain's");
        assertEq(s.endedAt, startedAt + liveFor, "end time is the chain's");
        assertEq(s.segments, segments, "segments as reported");

        // Ended is final.
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.AlreadyEnded.selector, id));
        live.startLive(id);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.NotLive.selector, id, LiveStreams.LiveStatus.Ended));
        live.endLive(id, segments);
    }

    function testFuzz_unknownContentIsRefused(bytes32 unknown) public {
        vm.assume(unknown != id);
        vm.prank(CREATOR);
        vm.expectRevert(abi.encodeWithSelector(LiveStreams.UnknownContent.selector, unknown));
        live.startLive(unknown);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";

/**
 * @title LiveStreams
 * @notice Whether a content item is being streamed live right now: its creator announces the start
 * ({LiveStarted}) and the end ({LiveEnded}), so indexers and apps can list what is live without
 * asking the streaming machine. Each item is live at most once: it starts, then ends, and stays
 * ended (the recording is then the item's VOD on ContentAccess).
 * @dev Only the item's creator on ContentAccess may act for it, as for every other change of an
 * item there (ContentAccess has no delegates for content). One slot per item.
 */
contract LiveStreams {
    /// @notice Where an item is in its live life.
    enum LiveStatus {
        None,
        Live,
        Ended
    }

    /// @dev One slot per item.
    struct LiveStream {
        LiveStatus status;
        uint40 startedAt;
        uint40 endedAt;
        /// @dev Segments the creator reported at the end (0 while live).
        uint32 segments;
    }

    /// @notice The registry of content items and their creators.
    IRevenueSplit public immutable contentAccess;

    mapping(bytes32 contentId => LiveStream) private _streams;

    /// @notice `creator` started streaming `contentId` live.
    event LiveStarted(bytes32 indexed contentId, address indexed creator);
    /// @notice `creator` ended the live stream of `contentId` after `duration` seconds with `segments` segments.
    event LiveEnded(bytes32 indexed contentId, address indexed creator, uint32 segments, uint40 duration);

    error ZeroAddress();
    error UnknownContent(bytes32 contentId);
    error NotContentCreator(bytes32 contentId, address caller);
    error AlreadyLive(bytes32 contentId);
    error AlreadyEnded(bytes32 contentId);
    error NotLive(bytes32 contentId, LiveStatus status);

    /// @param contentAccess_ The ContentAccess whose items are streamed (its `creatorOf` decides who may act).
    constructor(IRevenueSplit contentAccess_) {
        if (address(contentAccess_) == address(0)) revert ZeroAddress();
        contentAccess = contentAccess_;
    }

    /**
     * @notice Announces that the caller's item `contentId` is live now.
     * @dev Reverts for unknown content, a caller that is not its creator, and an item that is live
     * already or has ended.
     * @param contentId The item on ContentAccess (registered before the stream starts).
     */
    function startLive(bytes32 contentId) external {
        _onlyCreator(contentId);
        LiveStream storage s = _streams[contentId];
        if (s.status == LiveStatus.Live) revert AlreadyLive(contentId);
        if (s.status == LiveStatus.Ended) revert AlreadyEnded(contentId);
        s.status = LiveStatus.Live;
        s.startedAt = uint40(block.timestamp);
        emit LiveStarted(contentId, msg.sender);
    }

    /**
     * @notice Announces that the live stream of the caller's item `contentId` has ended.
     * @dev Reverts for unknown content, a caller that is not its creator, and an item that is not live.
     * @param contentId The item.
     * @param segments Number of segments the stream stored (what the final manifest lists).
     */
    function endLive(bytes32 contentId, uint32 segments) external {
        _onlyCreator(contentId);
        LiveStream storage s = _streams[contentId];
        if (s.status != LiveStatus.Live) revert NotLive(contentId, s.status);
        s.status = LiveStatus.Ended;
        s.endedAt = uint40(block.timestamp);
        s.segments = segments;
        emit LiveEnded(contentId, msg.sender, segments, uint40(block.timestamp) - s.startedAt);
    }

    /// @notice The live state of `contentId` (status None and zeros for an item never streamed).
    function streamOf(bytes32 contentId) external view returns (LiveStream memory) {
        return _streams[contentId];
    }

    /// @notice Whether `contentId` is live right now.
    function isLive(bytes32 contentId) external view returns (bool) {
        return _streams[contentId].status == LiveStatus.Live;
    }

    /// @dev ContentAccess.creatorOf reverts for unknown content; that becomes this contract's UnknownContent.
    function _onlyCreator(bytes32 contentId) private view {
        address creator;
        try contentAccess.creatorOf(contentId) returns (address c) {
            creator = c;
        } catch {
            revert UnknownContent(contentId);
        }
        if (creator != msg.sender) revert NotContentCreator(contentId, msg.sender);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/**
 * @title BackupRegistry
 * @notice Anchors creator-catalogue snapshots stored on Filecoin, so a creator can prove, restore
 * and move their catalogue. Each anchor records the SHA-256 of the snapshot bytes in storage and
 * the snapshot's PieceCID in the {BackupAnchored} event: the PieceCID is self-verifying (it is the
 * content's own address) and only needed to find the bytes, while the SHA-256 is what restore
 * checks them against. Keeping the PieceCID out of storage keeps an anchor to two slots.
 */
contract BackupRegistry {
    /// @notice What caused a snapshot.
    enum Trigger {
        Manual,
        FollowerMilestone,
        PlayMilestone,
        RevenueMilestone,
        Quarterly
    }

    /// @dev Two slots per anchor.
    struct Snapshot {
        bytes32 sha256Digest;
        uint64 size;
        uint40 anchoredAt;
        Trigger trigger;
        uint136 milestoneValue;
    }

    mapping(address creator => Snapshot[]) private _history;
    mapping(address creator => mapping(address delegate => bool)) private _delegates;

    /// @notice `creator`'s snapshot number `index` was anchored (by the creator or a delegate: `anchoredBy`).
    event BackupAnchored(
        address indexed creator,
        uint256 indexed index,
        address indexed anchoredBy,
        bytes pieceCid,
        bytes32 sha256Digest,
        uint64 size,
        Trigger trigger,
        uint256 milestoneValue
    );
    /// @notice `creator` allowed or disallowed `delegate` to anchor for them.
    event DelegateUpdated(address indexed creator, address indexed delegate, bool allowed);

    error NotAuthorized(address creator, address caller);
    error EmptyPieceCid();
    error ZeroDigest();
    error ZeroSize();
    error MilestoneTooLarge(uint256 milestoneValue);
    error NoBackups(address creator);
    error IndexOutOfRange(uint256 index, uint256 count);

    /**
     * @notice Allows or disallows `delegate` (e.g. the platform's backup service) to anchor for the caller.
     */
    function setDelegate(address delegate, bool allowed) external {
        _delegates[msg.sender][delegate] = allowed;
        emit DelegateUpdated(msg.sender, delegate, allowed);
    }

    /**
     * @notice Anchors a snapshot of `creator`'s catalogue.
     * @param creator Whose catalogue; the caller must be the creator or an approved delegate.
     * @param pieceCid PieceCID (bytes) of the stored snapshot.
     * @param sha256Digest SHA-256 of the snapshot bytes.
     * @param size Snapshot size in bytes.
     * @param trigger Why the snapshot was taken.
     * @param milestoneValue The milestone crossed (followers, plays, revenue), 0 otherwise.
     * @return index Position of the snapshot in the creator's history.
     */
    function anchorBackup(
        address creator,
        bytes calldata pieceCid,
        bytes32 sha256Digest,
        uint64 size,
        Trigger trigger,
        uint256 milestoneValue
    ) external returns (uint256 index) {
        if (msg.sender != creator && !_delegates[creator][msg.sender]) revert NotAuthorized(creator, msg.sender);
        if (pieceCid.length == 0) revert EmptyPieceCid();
        if (sha256Digest == bytes32(0)) revert ZeroDigest();
        if (size == 0) revert ZeroSize();
        if (milestoneValue > type(uint136).max) revert MilestoneTooLarge(milestoneValue);

        Snapshot[] storage history = _history[creator];
        index = history.length;
        history.push(Snapshot(sha256Digest, size, uint40(block.timestamp), trigger, uint136(milestoneValue)));
        emit BackupAnchored(creator, index, msg.sender, pieceCid, sha256Digest, size, trigger, milestoneValue);
    }

    /// @notice Number of snapshots `creator` has anchored.
    function backupCount(address creator) external view returns (uint256) {
        return _history[creator].length;
    }

    /// @notice Snapshot number `index` of `creator`.
    function backupAt(address creator, uint256 index) public view returns (Snapshot memory) {
        uint256 count = _history[creator].length;
        if (index >= count) revert IndexOutOfRange(index, count);
        return _history[creator][index];
    }

    /// @notice `creator`'s most recent snapshot and its index.
    function latest(address creator) external view returns (uint256 index, Snapshot memory snapshot) {
        uint256 count = _history[creator].length;
        if (count == 0) revert NoBackups(creator);
        index = count - 1;
        snapshot = _history[creator][index];
    }

    /// @notice Whether `delegate` may anchor for `creator`.
    function isDelegate(address creator, address delegate) external view returns (bool) {
        return _delegates[creator][delegate];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PlatformAdmin} from "../utils/PlatformAdmin.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RevenueLedger} from "./RevenueLedger.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";

/**
 * @title PaymentChannels
 * @notice Pay-per-minute streaming without a transaction per minute. A viewer escrows a deposit
 * for one content item; while watching, the viewer (or a session key the viewer authorised)
 * signs EIP-712 vouchers carrying the cumulative amount owed. The creator, or anyone on their
 * behalf, redeems the latest voucher whenever they like; each redemption pays only the part not
 * yet paid, never more than the deposit, and is split like a sale.
 *
 * Closing: the creator closes cooperatively with the final voucher (the rest is credited back to
 * the viewer). Otherwise the channel closes at its expiry; a viewer can bring that forward with
 * {requestClose}, which still leaves the creator a full challenge period to redeem. After the
 * close time the viewer reclaims the rest. A session therefore costs the viewer at most two
 * transactions (open, and reclaim only if the creator never closes) and the creator one.
 */
contract PaymentChannels is PlatformAdmin, EIP712, RevenueLedger {
    enum Status {
        None,
        Open,
        Closing,
        Closed
    }

    /// @dev Laid out so that opening a native-currency channel writes three slots and every
    /// redemption updates one already-written slot: slot 0 viewer + deposit, slot 1 close time +
    /// status + redeemed, slot 2 token (zero, so never written, for native), slot 3 content id.
    /// The agreed rate per minute is only in {ChannelOpened}: it is at least the creator's stream
    /// price at open time, and from then on the contract enforces vouchers, not rates.
    struct Channel {
        address viewer;
        uint96 deposit;
        uint64 closesAt;
        Status status;
        uint96 redeemed;
        address token;
        bytes32 contentId;
    }

    struct SessionKey {
        address key;
        /// @dev Highest cumulative amount a voucher signed by this key may carry.
        uint96 spendingCap;
        uint64 expiresAt;
    }

    /// @dev A creator's per-minute price for one item, one slot. `ratePerMinute` 0 = not offered.
    struct StreamPrice {
        address token;
        uint96 ratePerMinute;
    }

    struct OpenParams {
        bytes32 contentId;
        address token;
        uint96 deposit;
        uint96 ratePerMinute;
        uint64 expiresAt;
        /// @dev Optional session key (zero address = none).
        SessionKey sessionKey;
    }

    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(uint256 channelId,uint256 cumulativeAmount)");
    /// @notice Time the creator always keeps to redeem after a viewer asks to close.
    uint64 public constant CHALLENGE_PERIOD = 1 days;

    /// @notice Supplies the split of each content item (ContentAccess).
    IRevenueSplit public immutable splits;

    uint256 public channelCount;
    mapping(uint256 channelId => Channel) private _channels;
    mapping(uint256 channelId => SessionKey) private _sessionKeys;
    mapping(bytes32 contentId => StreamPrice) private _streamPrices;

    event ChannelOpened(
        uint256 indexed channelId,
        address indexed viewer,
        address indexed creator,
        bytes32 contentId,
        address token,
        uint256 deposit,
        uint256 ratePerMinute,
        uint64 closesAt
    );
    event StreamPriceSet(bytes32 indexed contentId, address token, uint256 ratePerMinute);
    event SessionKeyAuthorized(uint256 indexed channelId, address indexed key, uint256 spendingCap, uint64 expiresAt);
    event ChannelToppedUp(uint256 indexed channelId, uint256 amount, uint256 deposit, uint64 closesAt);
    event VoucherRedeemed(
        uint256 indexed channelId, address indexed signer, uint256 cumulativeAmount, uint256 paid, uint256 redeemedTotal
    );
    event CloseRequested(uint256 indexed channelId, uint64 closesAt);
    event ChannelClosed(uint256 indexed channelId, uint256 redeemedTotal, uint256 refunded);

    error UnknownChannel(uint256 channelId);
    error ChannelNotOpen(uint256 channelId);
    error ChannelClosing(uint256 channelId, uint64 closesAt);
    error ChannelStillOpen(uint256 channelId, uint64 closesAt);
    error NotViewer(uint256 channelId, address caller);
    error NotCreator(uint256 channelId, address caller);
    error ZeroDeposit();
    error ExpiryTooSoon(uint64 expiresAt, uint256 earliest);
    error ChannelExpired(uint256 channelId, uint64 closesAt);
    error DepositTooLarge();
    error TokenNotAccepted(address token);
    error InvalidSigner(address signer);
    error SessionKeyExpired(address key, uint64 expiresAt);
    error SessionKeyActive(address key, uint64 expiresAt);
    error SpendingCapExceeded(uint256 cumulativeAmount, uint256 cap);
    error NothingToRedeem(uint256 cumulativeAmount, uint256 redeemed);
    error NotContentCreator(bytes32 contentId, address caller);
    error NotStreamable(bytes32 contentId);
    error WrongStreamToken(bytes32 contentId, address expected, address offered);
    error RateBelowPrice(bytes32 contentId, uint256 price, uint256 offered);

    constructor(address initialOwner, address splits_) PlatformAdmin(initialOwner) EIP712("StreamVault PaymentChannels", "1") {
        splits = IRevenueSplit(splits_);
    }

    /**
     * @notice The item's creator sets what one minute of streaming it costs, and in which token.
     * Applies to channels opened afterwards; open channels keep the rate they were opened at.
     * @param contentId The item (reverts for unknown content).
     * @param token Payment token (`address(0)` = native); must be accepted for payments.
     * @param ratePerMinute Lowest rate per minute a channel for this item may be opened at; 0 stops
     * offering the item per minute.
     */
    function setStreamPrice(bytes32 contentId, address token, uint96 ratePerMinute) external whenNotPaused {
        if (msg.sender != splits.creatorOf(contentId)) revert NotContentCreator(contentId, msg.sender);
        if (!splits.isPaymentToken(token)) revert TokenNotAccepted(token);
        _streamPrices[contentId] = StreamPrice(token, ratePerMinute);
        emit StreamPriceSet(contentId, token, ratePerMinute);
    }

    /**
     * @notice Opens a channel and escrows the deposit (native as msg.value, ERC-20 by transferFrom).
     * The item must be offered per minute ({setStreamPrice}); the channel must use the price's token
     * and a rate per minute at least the price.
     * @return channelId The new channel's id.
     */
    function openChannel(OpenParams calldata p) external payable whenNotPaused nonReentrant returns (uint256 channelId) {
        if (p.deposit == 0) revert ZeroDeposit();
        uint256 earliest = block.timestamp + CHALLENGE_PERIOD;
        if (p.expiresAt < earliest) revert ExpiryTooSoon(p.expiresAt, earliest);
        if (!splits.isPaymentToken(p.token)) revert TokenNotAccepted(p.token);
        // Reverts for unknown content; the channel always pays the item's creator.
        address creator = splits.creatorOf(p.contentId);
        StreamPrice memory price = _streamPrices[p.contentId];
        if (price.ratePerMinute == 0) revert NotStreamable(p.contentId);
        if (p.token != price.token) revert WrongStreamToken(p.contentId, price.token, p.token);
        if (p.ratePerMinute < price.ratePerMinute) revert RateBelowPrice(p.contentId, price.ratePerMinute, p.ratePerMinute);

        channelId = ++channelCount;
        _channels[channelId] = Channel({
            viewer: msg.sender,
            deposit: p.deposit,
            closesAt: p.expiresAt,
            status: Status.Open,
            redeemed: 0,
            token: p.token,
            contentId: p.contentId
        });
        emit ChannelOpened(channelId, msg.sender, creator, p.contentId, p.token, p.deposit, p.ratePerMinute, p.expiresAt);
        if (p.sessionKey.key != address(0)) _authorize(channelId, p.sessionKey);

        _collect(msg.sender, p.token, p.deposit);
    }

    /**
     * @notice Viewer authorises a session key for a channel that has none, or whose key is dead
     * (past its expiry plus the challenge period).
     * @dev A live key can be neither replaced nor revoked: otherwise a viewer could void vouchers
     * their key already signed for minutes already watched. A leaked key can never take more than
     * its spending cap, which bounds the cumulative amount of any voucher it signs.
     */
    function authorizeSessionKey(uint256 channelId, SessionKey calldata sessionKey) external {
        Channel storage ch = _openChannel(channelId);
        if (msg.sender != ch.viewer) revert NotViewer(channelId, msg.sender);
        SessionKey memory current = _sessionKeys[channelId];
        if (current.key != address(0) && block.timestamp <= uint256(current.expiresAt) + CHALLENGE_PERIOD) {
            revert SessionKeyActive(current.key, current.expiresAt);
        }
        _authorize(channelId, sessionKey);
    }

    /**
     * @notice Viewer adds to the deposit and may push the expiry later. Not possible once a close was requested.
     * @param amount Added deposit (native as msg.value).
     * @param newExpiresAt New close time; 0 keeps the current one.
     */
    function topUp(uint256 channelId, uint96 amount, uint64 newExpiresAt) external payable whenNotPaused nonReentrant {
        Channel storage ch = _openChannel(channelId);
        if (msg.sender != ch.viewer) revert NotViewer(channelId, msg.sender);
        if (ch.status == Status.Closing) revert ChannelClosing(channelId, ch.closesAt);
        if (newExpiresAt != 0) {
            if (newExpiresAt < ch.closesAt) revert ExpiryTooSoon(newExpiresAt, ch.closesAt);
            ch.closesAt = newExpiresAt;
        }
        if (uint256(ch.deposit) + amount > type(uint96).max) revert DepositTooLarge();
        ch.deposit += amount;
        emit ChannelToppedUp(channelId, amount, ch.deposit, ch.closesAt);
        _collect(msg.sender, ch.token, amount);
    }

    /**
     * @notice Redeems a voucher: pays the part of `cumulativeAmount` not yet paid, capped at the deposit.
     * Anyone may submit it; the money always goes to the channel's split. Works until the close time.
     * @param signature The viewer's or session key's EIP-712 signature over (channelId, cumulativeAmount).
     */
    function redeemVoucher(uint256 channelId, uint256 cumulativeAmount, bytes calldata signature) external nonReentrant {
        Channel storage ch = _openChannel(channelId);
        _redeem(ch, channelId, cumulativeAmount, signature);
    }

    /**
     * @notice Creator closes cooperatively with the final voucher: it is redeemed and the rest of the
     * deposit is credited back to the viewer's withdrawable balance.
     * @param signature Final voucher signature; may be empty when `cumulativeAmount` is already redeemed.
     */
    function closeChannel(uint256 channelId, uint256 cumulativeAmount, bytes calldata signature) external nonReentrant {
        Channel storage ch = _openChannel(channelId);
        address creator = splits.creatorOf(ch.contentId);
        if (msg.sender != creator) revert NotCreator(channelId, msg.sender);
        // Compare what the voucher can still pay (capped at the deposit), so a final voucher above a
        // fully redeemed deposit closes instead of reverting.
        if (Math.min(cumulativeAmount, ch.deposit) > ch.redeemed) _redeem(ch, channelId, cumulativeAmount, signature);
        uint256 refund = ch.deposit - ch.redeemed;
        ch.status = Status.Closed;
        emit ChannelClosed(channelId, ch.redeemed, refund);
        _credit(ch.viewer, ch.token, refund, ch.contentId, Role.Refund);
    }

    /**
     * @notice Viewer brings the close time forward to now + {CHALLENGE_PERIOD} (never later than it was).
     */
    function requestClose(uint256 channelId) external {
        Channel storage ch = _openChannel(channelId);
        if (msg.sender != ch.viewer) revert NotViewer(channelId, msg.sender);
        uint64 closesAt = uint64(block.timestamp) + CHALLENGE_PERIOD;
        if (closesAt < ch.closesAt) ch.closesAt = closesAt;
        ch.status = Status.Closing;
        emit CloseRequested(channelId, ch.closesAt);
    }

    /**
     * @notice After the close time, returns the unredeemed deposit straight to the viewer.
     */
    function reclaim(uint256 channelId) external nonReentrant {
        Channel storage ch = _openChannel(channelId);
        if (msg.sender != ch.viewer) revert NotViewer(channelId, msg.sender);
        if (block.timestamp < ch.closesAt) revert ChannelStillOpen(channelId, ch.closesAt);
        uint256 refund = ch.deposit - ch.redeemed;
        ch.status = Status.Closed;
        emit ChannelClosed(channelId, ch.redeemed, refund);
        if (refund != 0) _pay(msg.sender, ch.token, refund);
    }

    /// @notice A channel's full state.
    function getChannel(uint256 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /**
     * @notice What one minute of streaming `contentId` costs.
     * @return token Payment token (`address(0)` = native).
     * @return ratePerMinute Lowest rate per minute for a channel (0 = not offered per minute).
     */
    function streamPrice(bytes32 contentId) external view returns (address token, uint256 ratePerMinute) {
        StreamPrice memory price = _streamPrices[contentId];
        return (price.token, price.ratePerMinute);
    }

    /// @notice A channel's session key.
    function sessionKeyOf(uint256 channelId) external view returns (SessionKey memory) {
        return _sessionKeys[channelId];
    }

    /// @notice The EIP-712 digest a voucher signer signs.
    function voucherDigest(uint256 channelId, uint256 cumulativeAmount) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount)));
    }

    /// @notice This contract's EIP-712 domain separator (binds vouchers to this chain and contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _redeem(Channel storage ch, uint256 channelId, uint256 cumulativeAmount, bytes calldata signature) private {
        if (block.timestamp >= ch.closesAt) revert ChannelExpired(channelId, ch.closesAt);
        // ECDSA.recover rejects malleable (high-s) signatures and reverts on invalid ones.
        address signer = ECDSA.recover(voucherDigest(channelId, cumulativeAmount), signature);
        if (signer != ch.viewer) {
            SessionKey memory sk = _sessionKeys[channelId];
            if (signer != sk.key || sk.key == address(0)) revert InvalidSigner(signer);
            // Vouchers carry no time, so the creator keeps a challenge period after the key's expiry
            // to redeem what it signed; the cap still bounds everything the key can ever sign.
            if (block.timestamp > uint256(sk.expiresAt) + CHALLENGE_PERIOD) revert SessionKeyExpired(signer, sk.expiresAt);
            if (cumulativeAmount > sk.spendingCap) revert SpendingCapExceeded(cumulativeAmount, sk.spendingCap);
        }
        uint256 deposit = ch.deposit;
        uint256 payable_ = cumulativeAmount < deposit ? cumulativeAmount : deposit;
        uint256 redeemed = ch.redeemed;
        if (payable_ <= redeemed) revert NothingToRedeem(cumulativeAmount, redeemed);
        uint256 paid = payable_ - redeemed;
        ch.redeemed = uint96(payable_);
        emit VoucherRedeemed(channelId, signer, cumulativeAmount, paid, payable_);
        _distribute(ch.token, paid, ch.contentId, splits.revenueSplit(ch.contentId));
    }

    function _authorize(uint256 channelId, SessionKey calldata sessionKey) private {
        _sessionKeys[channelId] = sessionKey;
        emit SessionKeyAuthorized(channelId, sessionKey.key, sessionKey.spendingCap, sessionKey.expiresAt);
    }

    /// @dev The channel, if it is open or closing; reverts otherwise.
    function _openChannel(uint256 channelId) private view returns (Channel storage ch) {
        ch = _channels[channelId];
        Status status = ch.status;
        if (status == Status.None) revert UnknownChannel(channelId);
        if (status == Status.Closed) revert ChannelNotOpen(channelId);
    }
}

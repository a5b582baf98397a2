// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PlatformAdmin} from "../utils/PlatformAdmin.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RevenueLedger} from "../payments/RevenueLedger.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {IPassRevenueSink} from "../interfaces/IPassRevenueSink.sol";
import {ICreatorRegistry} from "../interfaces/ICreatorRegistry.sol";

/**
 * @title ContentAccess
 * @notice The source of truth for who may decrypt what. Creators register content (manifest
 * PieceCID, tier, access rules, collaborators); fans get access by holding enough of the
 * creator's coin or passes, by a platform premium subscription, or by buying a time-limited pass
 * for the item. Every payment is split (platform fee, collaborators, creator) into pull balances.
 * @dev `address(0)` as a payment token means the chain's native currency, always accepted.
 */
contract ContentAccess is PlatformAdmin, RevenueLedger, IRevenueSplit, IPassRevenueSink {
    enum Tier {
        Free,
        Premium,
        Exclusive
    }

    /// @notice Why a wallet has access; the first that applies, in this order.
    enum Reason {
        None,
        Creator,
        Free,
        Coin,
        Pass,
        Subscription,
        Purchase
    }

    /// @notice Access rules of one content item; zero disables a rule.
    struct Rules {
        /// @dev Minimum creator-coin balance that unlocks (0 = no coin rule).
        uint128 minCoinBalance;
        /// @dev Minimum number of creator passes held that unlocks (0 = no pass rule).
        uint64 minPasses;
        /// @dev Whether premium subscribers get access.
        bool inSubscription;
        /// @dev Token the item is sold in (`address(0)` = native).
        address paymentToken;
        /// @dev Price of one access period (0 = not for sale).
        uint96 price;
        /// @dev Length of one access period in seconds (0 = {DEFAULT_ACCESS_DURATION}).
        uint32 duration;
    }

    /// @dev Packed for the purchase path, which reads only slot 0 (creator, tier, subscription,
    /// duration, terms version) and slot 1 (token, price); slot 2 holds the holding rules.
    struct Content {
        address creator;
        Tier tier;
        bool inSubscription;
        uint32 duration;
        /// @dev Bumped by every rule update; a buyer names the version they agreed to.
        uint48 termsVersion;
        address paymentToken;
        uint96 price;
        uint128 minCoinBalance;
        uint64 minPasses;
        bytes manifestCid;
        Collaborator[] collaborators;
    }

    uint32 public constant DEFAULT_ACCESS_DURATION = 30 days;
    uint32 public constant SUBSCRIPTION_PERIOD = 30 days;
    /// @notice Hard cap on the platform fee: 10%.
    uint16 public constant MAX_PLATFORM_FEE_BPS = 1_000;
    uint256 public constant MAX_COLLABORATORS = 16;
    /// @dev Sentinel expiry for access that lasts as long as its condition holds.
    uint64 internal constant NO_EXPIRY = type(uint64).max;

    /// @notice Looks up each creator's coin and pass; set once after deployment.
    ICreatorRegistry public creatorRegistry;
    /// @notice Receives the platform fee.
    address public treasury;
    /// @notice Platform fee in basis points of every payment.
    uint16 public platformFeeBps;

    mapping(bytes32 contentId => Content) private _contents;
    mapping(bytes32 contentId => mapping(address user => uint64)) private _purchaseExpiry;
    mapping(address user => uint64) private _subscriptionExpiry;
    mapping(address token => bool) private _paymentTokens;
    mapping(address token => uint256) private _subscriptionPrices;

    event ContentRegistered(
        bytes32 indexed contentId,
        address indexed creator,
        bytes32 externalId,
        bytes manifestCid,
        Tier tier,
        Rules rules,
        Collaborator[] collaborators
    );
    event RulesUpdated(bytes32 indexed contentId, Rules rules, uint48 termsVersion);
    event CollaboratorsUpdated(bytes32 indexed contentId, Collaborator[] collaborators);
    event ManifestUpdated(bytes32 indexed contentId, bytes manifestCid);
    event AccessPurchased(
        bytes32 indexed contentId, address indexed buyer, address indexed token, uint256 amount, uint64 expiresAt
    );
    event Subscribed(address indexed subscriber, address indexed token, uint256 amount, uint32 periods, uint64 expiresAt);
    event PassRevenueDeposited(address indexed creator, address indexed pass, uint256 amount);
    event CreatorRegistrySet(address registry);
    event TreasuryUpdated(address treasury);
    event PlatformFeeUpdated(uint16 feeBps);
    event PaymentTokenUpdated(address indexed token, bool allowed);
    event SubscriptionPriceUpdated(address indexed token, uint256 pricePerPeriod);

    error RegistryAlreadySet();
    error ZeroAddress();
    error FeeTooHigh(uint16 feeBps, uint16 max);
    error ContentExists(bytes32 contentId);
    error UnknownContent(bytes32 contentId);
    error NotContentCreator(bytes32 contentId, address caller);
    error EmptyManifest();
    error CreatorNotLaunched(address creator);
    error TokenNotAccepted(address token);
    error NotForSale(bytes32 contentId);
    error PriceChanged(uint256 expected, uint256 offered);
    error TermsChanged(uint48 current, uint48 offered);
    error TooManyCollaborators(uint256 count, uint256 max);
    error InvalidCollaborator(uint256 index);
    error SharesExceedTotal(uint256 totalBps);
    error SubscriptionNotOffered(address token);
    error ZeroPeriods();
    error NotCreatorPass(address caller, address creator);

    modifier onlyContentCreator(bytes32 contentId) {
        address creator = _contents[contentId].creator;
        if (creator == address(0)) revert UnknownContent(contentId);
        if (creator != msg.sender) revert NotContentCreator(contentId, msg.sender);
        _;
    }

    /**
     * @param initialOwner Platform admin (two-step transferable).
     * @param treasury_ Receives platform fees.
     * @param feeBps Initial platform fee in basis points (3% = 300).
     */
    constructor(address initialOwner, address treasury_, uint16 feeBps) PlatformAdmin(initialOwner) {
        _setTreasury(treasury_);
        _setPlatformFee(feeBps);
    }

    // ---------------------------------------------------------------- admin

    /**
     * @notice Links the creator registry. Callable once, by the owner.
     */
    function setCreatorRegistry(address registry) external onlyOwner {
        if (address(creatorRegistry) != address(0)) revert RegistryAlreadySet();
        if (registry == address(0)) revert ZeroAddress();
        creatorRegistry = ICreatorRegistry(registry);
        emit CreatorRegistrySet(registry);
    }

    /// @notice Sets the address that receives platform fees.
    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    /// @notice Sets the platform fee, at most {MAX_PLATFORM_FEE_BPS}.
    function setPlatformFee(uint16 feeBps) external onlyOwner {
        _setPlatformFee(feeBps);
    }

    /// @notice Allows or disallows an ERC-20 for payments. Fee-on-transfer and rebasing tokens must not be allowed.
    function setPaymentToken(address token, bool allowed) external onlyOwner {
        if (token == address(0)) revert ZeroAddress();
        _paymentTokens[token] = allowed;
        emit PaymentTokenUpdated(token, allowed);
    }

    /// @notice Sets the premium subscription price per 30-day period in `token` (0 = not offered in it).
    function setSubscriptionPrice(address token, uint256 pricePerPeriod) external onlyOwner {
        if (!isPaymentToken(token)) revert TokenNotAccepted(token);
        _subscriptionPrices[token] = pricePerPeriod;
        emit SubscriptionPriceUpdated(token, pricePerPeriod);
    }



    // ---------------------------------------------------------------- creators

    /**
     * @notice Registers a content item of the caller.
     * @param externalId The creator's own id for the item; the content id is derived from it and the caller (see {contentIdOf}).
     * @param manifestCid PieceCID (bytes) of the item's manifest.
     * @param tier Free, premium or exclusive; fixed for the item's life (it decides what is encrypted).
     * @param rules Access rules.
     * @param collaborators Who shares the creator's part of each payment, in basis points.
     * @return contentId The item's id.
     */
    function registerContent(
        bytes32 externalId,
        bytes calldata manifestCid,
        Tier tier,
        Rules calldata rules,
        Collaborator[] calldata collaborators
    ) external whenNotPaused returns (bytes32 contentId) {
        contentId = contentIdOf(msg.sender, externalId);
        Content storage c = _contents[contentId];
        if (c.creator != address(0)) revert ContentExists(contentId);
        if (manifestCid.length == 0) revert EmptyManifest();
        c.creator = msg.sender;
        c.tier = tier;
        c.manifestCid = manifestCid;
        c.termsVersion = 1;
        _writeRules(c, rules);
        _writeCollaborators(c, collaborators);
        emit ContentRegistered(contentId, msg.sender, externalId, manifestCid, tier, rules, collaborators);
    }

    /**
     * @notice Replaces the rules of an item and bumps its terms version, so a purchase signed
     * against the old terms (price, token, duration) fails instead of buying different ones.
     * Access already bought keeps its expiry.
     */
    function updateRules(bytes32 contentId, Rules calldata rules) external whenNotPaused onlyContentCreator(contentId) {
        Content storage c = _contents[contentId];
        _writeRules(c, rules);
        uint48 version = c.termsVersion + 1;
        c.termsVersion = version;
        emit RulesUpdated(contentId, rules, version);
    }

    /**
     * @notice Replaces the collaborators of an item; applies to later payments only.
     */
    function updateCollaborators(bytes32 contentId, Collaborator[] calldata collaborators)
        external
        whenNotPaused
        onlyContentCreator(contentId)
    {
        Content storage c = _contents[contentId];
        delete c.collaborators;
        _writeCollaborators(c, collaborators);
        emit CollaboratorsUpdated(contentId, collaborators);
    }

    /**
     * @notice Points an item at a new manifest (re-encoded media, fixed tags).
     */
    function updateManifest(bytes32 contentId, bytes calldata manifestCid)
        external
        whenNotPaused
        onlyContentCreator(contentId)
    {
        if (manifestCid.length == 0) revert EmptyManifest();
        _contents[contentId].manifestCid = manifestCid;
        emit ManifestUpdated(contentId, manifestCid);
    }

    // ---------------------------------------------------------------- fans

    /**
     * @notice Buys one access period for the caller at the item's price, in its token; native
     * currency as msg.value (exactly the price), ERC-20 by transferFrom.
     * @param contentId The item.
     * @param termsVersion The terms the buyer agreed to (see {purchaseTerms}); the call fails if the
     * creator changed price, token or duration meanwhile.
     */
    function purchaseAccess(bytes32 contentId, uint48 termsVersion) external payable whenNotPaused nonReentrant {
        _purchase(contentId, termsVersion);
    }

    /**
     * @notice Buys one access period paying an ERC-20 with an EIP-2612 permit instead of a prior approval.
     * @dev The permit is tried and its failure ignored (it may have been front-run); the transfer then
     * succeeds only if the allowance is really there.
     */
    function purchaseAccessWithPermit(
        bytes32 contentId,
        uint48 termsVersion,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external whenNotPaused nonReentrant {
        Content storage c = _contents[contentId];
        address token = c.paymentToken;
        if (token != address(0)) {
            try IERC20Permit(token).permit(msg.sender, address(this), c.price, deadline, v, r, s) {} catch {}
        }
        _purchase(contentId, termsVersion);
    }

    /**
     * @notice Buys or extends the premium subscription by `periods` times 30 days.
     * @param token Payment token (`address(0)` = native, sent as msg.value).
     * @param periods Number of 30-day periods.
     * @param total The total the buyer agreed to pay; must equal price x periods.
     */
    function subscribe(address token, uint32 periods, uint256 total) external payable whenNotPaused nonReentrant {
        if (periods == 0) revert ZeroPeriods();
        uint256 pricePerPeriod = _subscriptionPrices[token];
        if (pricePerPeriod == 0 || !isPaymentToken(token)) revert SubscriptionNotOffered(token);
        uint256 expected = pricePerPeriod * periods;
        if (total != expected) revert PriceChanged(expected, total);

        uint64 expiresAt = _extend(_subscriptionExpiry[msg.sender], uint256(SUBSCRIPTION_PERIOD) * periods);
        _subscriptionExpiry[msg.sender] = expiresAt;
        emit Subscribed(msg.sender, token, total, periods, expiresAt);

        _collect(msg.sender, token, total);
        // Subscriptions are the platform's product: the whole payment goes to the treasury.
        _credit(treasury, token, total, bytes32(0), Role.Platform);
    }

    /**
     * @notice Receives a creator pass's mint revenue and splits it (platform fee, creator remainder).
     * @dev Only the pass the registry recorded for `creator` may call.
     */
    function depositPassRevenue(address creator) external payable whenNotPaused {
        if (creatorRegistry.passOf(creator) != msg.sender) revert NotCreatorPass(msg.sender, creator);
        emit PassRevenueDeposited(creator, msg.sender, msg.value);
        _distribute(address(0), msg.value, bytes32(0), _split(creator, new Collaborator[](0)));
    }

    // ---------------------------------------------------------------- views

    /**
     * @notice Whether `user` may decrypt `contentId` right now. Used by key release and by Lit conditions.
     */
    function hasValidAccess(address user, bytes32 contentId) external view returns (bool) {
        (Reason reason, ) = accessOf(user, contentId);
        return reason != Reason.None;
    }

    /**
     * @notice Whether and why `user` may decrypt `contentId`, and until when.
     * @return reason The first rule that grants access, or None.
     * @return expiresAt When that access ends; type(uint64).max for access that lasts while its condition holds; 0 for none.
     */
    function accessOf(address user, bytes32 contentId) public view returns (Reason reason, uint64 expiresAt) {
        Content storage c = _contents[contentId];
        address creator = c.creator;
        if (creator == address(0)) return (Reason.None, 0);
        if (user == creator) return (Reason.Creator, NO_EXPIRY);
        if (c.tier == Tier.Free) return (Reason.Free, NO_EXPIRY);

        uint256 minCoins = c.minCoinBalance;
        uint256 minPasses = c.minPasses;
        if (minCoins != 0 || minPasses != 0) {
            (address coin, address pass) = creatorRegistry.creatorTokens(creator);
            if (minCoins != 0 && IERC20(coin).balanceOf(user) >= minCoins) return (Reason.Coin, NO_EXPIRY);
            if (minPasses != 0 && IERC20(pass).balanceOf(user) >= minPasses) return (Reason.Pass, NO_EXPIRY);
        }
        if (c.inSubscription) {
            uint64 subscribedUntil = _subscriptionExpiry[user];
            if (subscribedUntil > block.timestamp) return (Reason.Subscription, subscribedUntil);
        }
        uint64 purchasedUntil = _purchaseExpiry[contentId][user];
        if (purchasedUntil > block.timestamp) return (Reason.Purchase, purchasedUntil);
        return (Reason.None, 0);
    }

    /// @notice The id an item gets when `creator` registers it under `externalId`.
    function contentIdOf(address creator, bytes32 externalId) public pure returns (bytes32) {
        return keccak256(abi.encode(creator, externalId));
    }

    /**
     * @notice Everything stored about an item.
     */
    function contentInfo(bytes32 contentId)
        external
        view
        returns (address creator, Tier tier, bytes memory manifestCid, Rules memory rules, Collaborator[] memory collaborators)
    {
        Content storage c = _contents[contentId];
        if (c.creator == address(0)) revert UnknownContent(contentId);
        rules = Rules(c.minCoinBalance, c.minPasses, c.inSubscription, c.paymentToken, c.price, c.duration);
        return (c.creator, c.tier, c.manifestCid, rules, c.collaborators);
    }

    /**
     * @notice What buying `contentId` costs and gives right now.
     * @return token Payment token (`address(0)` = native).
     * @return price Price of one access period (0 = not for sale).
     * @return duration Seconds of access one purchase adds.
     * @return termsVersion The version to pass to {purchaseAccess}.
     */
    function purchaseTerms(bytes32 contentId)
        external
        view
        returns (address token, uint256 price, uint256 duration, uint48 termsVersion)
    {
        Content storage c = _contents[contentId];
        if (c.creator == address(0)) revert UnknownContent(contentId);
        return (c.paymentToken, c.price, c.duration == 0 ? DEFAULT_ACCESS_DURATION : c.duration, c.termsVersion);
    }

    /// @notice When `user`'s bought access to `contentId` ends (0 = never bought).
    function purchaseExpiry(bytes32 contentId, address user) external view returns (uint64) {
        return _purchaseExpiry[contentId][user];
    }

    /// @notice When `user`'s premium subscription ends (0 = never subscribed).
    function subscriptionExpiry(address user) external view returns (uint64) {
        return _subscriptionExpiry[user];
    }

    /// @notice Subscription price per 30-day period in `token` (0 = not offered).
    function subscriptionPrice(address token) external view returns (uint256) {
        return _subscriptionPrices[token];
    }

    /// @inheritdoc IRevenueSplit
    function creatorOf(bytes32 contentId) external view returns (address creator) {
        creator = _contents[contentId].creator;
        if (creator == address(0)) revert UnknownContent(contentId);
    }

    /// @inheritdoc IRevenueSplit
    function revenueSplit(bytes32 contentId) external view returns (Split memory) {
        Content storage c = _contents[contentId];
        if (c.creator == address(0)) revert UnknownContent(contentId);
        return _split(c.creator, c.collaborators);
    }

    /// @inheritdoc IRevenueSplit
    function isPaymentToken(address token) public view returns (bool) {
        return token == address(0) || _paymentTokens[token];
    }

    // ---------------------------------------------------------------- internals

    function _purchase(bytes32 contentId, uint48 termsVersion) private {
        Content storage c = _contents[contentId];
        address creator = c.creator;
        if (creator == address(0)) revert UnknownContent(contentId);
        if (termsVersion != c.termsVersion) revert TermsChanged(c.termsVersion, termsVersion);
        uint256 price = c.price;
        if (price == 0) revert NotForSale(contentId);
        address token = c.paymentToken;
        if (!isPaymentToken(token)) revert TokenNotAccepted(token);

        uint256 duration = c.duration == 0 ? DEFAULT_ACCESS_DURATION : c.duration;
        uint64 expiresAt = _extend(_purchaseExpiry[contentId][msg.sender], duration);
        _purchaseExpiry[contentId][msg.sender] = expiresAt;
        emit AccessPurchased(contentId, msg.sender, token, price, expiresAt);

        _collect(msg.sender, token, price);
        _distribute(token, price, contentId, _split(creator, c.collaborators));
    }

    /// @dev Paid time always starts at max(now, current expiry): buying early never loses time.
    function _extend(uint64 currentExpiry, uint256 duration) private view returns (uint64) {
        uint256 start = currentExpiry > block.timestamp ? currentExpiry : block.timestamp;
        // SafeCast: an absurd number of periods must revert, not wrap to an earlier expiry.
        return SafeCast.toUint64(start + duration);
    }

    function _split(address creator, Collaborator[] memory collaborators) private view returns (Split memory) {
        return Split({creator: creator, treasury: treasury, platformFeeBps: platformFeeBps, collaborators: collaborators});
    }

    function _writeRules(Content storage c, Rules calldata rules) private {
        if (!isPaymentToken(rules.paymentToken)) revert TokenNotAccepted(rules.paymentToken);
        if ((rules.minCoinBalance != 0 || rules.minPasses != 0) && creatorRegistry.coinOf(c.creator) == address(0)) {
            revert CreatorNotLaunched(c.creator);
        }
        c.inSubscription = rules.inSubscription;
        c.duration = rules.duration;
        c.paymentToken = rules.paymentToken;
        c.minPasses = rules.minPasses;
        c.price = rules.price;
        c.minCoinBalance = rules.minCoinBalance;
    }

    function _writeCollaborators(Content storage c, Collaborator[] calldata collaborators) private {
        uint256 n = collaborators.length;
        if (n > MAX_COLLABORATORS) revert TooManyCollaborators(n, MAX_COLLABORATORS);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            if (collaborators[i].account == address(0) || collaborators[i].shareBps == 0) revert InvalidCollaborator(i);
            total += collaborators[i].shareBps;
            c.collaborators.push(collaborators[i]);
        }
        if (total > BPS) revert SharesExceedTotal(total);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    function _setPlatformFee(uint16 feeBps) private {
        if (feeBps > MAX_PLATFORM_FEE_BPS) revert FeeTooHigh(feeBps, MAX_PLATFORM_FEE_BPS);
        platformFeeBps = feeBps;
        emit PlatformFeeUpdated(feeBps);
    }
}

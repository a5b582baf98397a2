// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {CloneArgs} from "./CloneArgs.sol";
import {IPassRevenueSink} from "../interfaces/IPassRevenueSink.sol";

/**
 * @title CreatorPass
 * @notice A creator's NFT pass (ERC-721 with ERC-2981 royalties), deployed as a minimal clone by
 * {CreatorRegistry}. Fans mint it at the creator's price while minting is on; the creator can
 * airdrop passes. Mint revenue is forwarded to the platform's revenue ledger, where it is split
 * and withdrawn like every other sale.
 * @dev Creator, name, symbol and royalty rate live in the clone's immutable arguments.
 */
contract CreatorPass is ERC721Upgradeable, IERC2981, ReentrancyGuardTransient {
    /// @dev Mutable sale state, packed in one slot.
    struct Sale {
        uint64 maxSupply;
        uint64 minted;
        uint120 mintPrice;
        bool mintEnabled;
    }

    /// @notice The registry that deploys and initializes clones of this implementation.
    address public immutable registry;
    /// @notice Where mint revenue goes to be split (ContentAccess).
    IPassRevenueSink public immutable revenueSink;

    Sale private _sale;
    string private _metadataURI;

    /// @notice Mint price or switch changed.
    event MintConfigUpdated(uint256 mintPrice, bool mintEnabled);
    /// @notice The metadata URI shared by every pass changed (ERC-4906 style signal).
    event MetadataURIUpdated(string uri);

    error OnlyRegistry();
    error OnlyCreator();
    error AlreadyInitialized();
    error ZeroMaxSupply();
    error MintingDisabled();
    error ZeroQuantity();
    error SoldOut(uint256 requested, uint256 remaining);
    error PriceTooHigh(uint256 price);
    error WrongPayment(uint256 expected, uint256 sent);

    modifier onlyCreator() {
        if (msg.sender != CloneArgs.creator()) revert OnlyCreator();
        _;
    }

    constructor(address registry_, address revenueSink_) {
        registry = registry_;
        revenueSink = IPassRevenueSink(revenueSink_);
    }

    /**
     * @notice Sets the supply cap, price and minting switch. Called once by the registry.
     */
    function initialize(uint64 maxSupply_, uint256 mintPrice_, bool mintEnabled_) external {
        if (msg.sender != registry) revert OnlyRegistry();
        if (_sale.maxSupply != 0) revert AlreadyInitialized();
        if (maxSupply_ == 0) revert ZeroMaxSupply();
        if (mintPrice_ > type(uint120).max) revert PriceTooHigh(mintPrice_);
        _sale = Sale(maxSupply_, 0, uint120(mintPrice_), mintEnabled_);
    }

    /**
     * @notice Mints `quantity` passes to the caller for exactly `quantity * mintPrice` native currency.
     * @dev Effects before the external revenue call and the receiver hook; non-reentrant.
     */
    function mint(uint256 quantity) external payable nonReentrant {
        Sale memory sale = _sale;
        if (!sale.mintEnabled) revert MintingDisabled();
        uint256 cost = quantity * sale.mintPrice;
        if (msg.value != cost) revert WrongPayment(cost, msg.value);
        uint256 first = _reserve(sale, quantity);
        if (cost != 0) revenueSink.depositPassRevenue{value: cost}(CloneArgs.creator());
        for (uint256 i; i < quantity; ++i) _safeMint(msg.sender, first + i);
    }

    /**
     * @notice Creator gives passes away, one per recipient, without payment.
     */
    function airdrop(address[] calldata recipients) external onlyCreator nonReentrant {
        uint256 first = _reserve(_sale, recipients.length);
        // _mint, not _safeMint: a recipient contract must not be able to block an airdrop.
        for (uint256 i; i < recipients.length; ++i) _mint(recipients[i], first + i);
    }

    /**
     * @notice Creator changes the mint price and switches minting on or off.
     */
    function setMintConfig(uint256 mintPrice_, bool mintEnabled_) external onlyCreator {
        if (mintPrice_ > type(uint120).max) revert PriceTooHigh(mintPrice_);
        _sale.mintPrice = uint120(mintPrice_);
        _sale.mintEnabled = mintEnabled_;
        emit MintConfigUpdated(mintPrice_, mintEnabled_);
    }

    /**
     * @notice Creator points every pass at new metadata (e.g. a gateway URL of a stored piece).
     */
    function setMetadataURI(string calldata uri) external onlyCreator {
        _metadataURI = uri;
        emit MetadataURIUpdated(uri);
    }

    /// @notice The creator this pass belongs to.
    function creator() external view returns (address) {
        return CloneArgs.creator();
    }

    /// @notice Supply cap, passes minted so far, price and whether minting is on.
    function saleInfo() external view returns (uint256 maxSupply, uint256 minted, uint256 mintPrice, bool mintEnabled) {
        Sale memory sale = _sale;
        return (sale.maxSupply, sale.minted, sale.mintPrice, sale.mintEnabled);
    }

    /// @notice Number of passes in existence.
    function totalSupply() external view returns (uint256) {
        return _sale.minted;
    }

    /// @notice The pass's name.
    function name() public view override returns (string memory) {
        return CloneArgs.name();
    }

    /// @notice The pass's symbol.
    function symbol() public view override returns (string memory) {
        return CloneArgs.symbol();
    }

    /// @notice Every pass shares the creator's metadata document.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return _metadataURI;
    }

    /// @notice ERC-2981: the creator receives the launch-time royalty rate on secondary sales.
    function royaltyInfo(uint256, uint256 salePrice) external view returns (address, uint256) {
        return (CloneArgs.creator(), (salePrice * CloneArgs.extra()) / 10_000);
    }

    /// @notice ERC-165.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721Upgradeable, IERC165) returns (bool) {
        return interfaceId == type(IERC2981).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev Claims `quantity` token ids (numbered from 1) under the supply cap; returns the first.
    function _reserve(Sale memory sale, uint256 quantity) private returns (uint256 first) {
        if (quantity == 0) revert ZeroQuantity();
        uint256 remaining = sale.maxSupply - sale.minted;
        if (quantity > remaining) revert SoldOut(quantity, remaining);
        first = uint256(sale.minted) + 1;
        _sale.minted = sale.minted + uint64(quantity);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {CreatorCoin} from "./CreatorCoin.sol";
import {CreatorPass} from "./CreatorPass.sol";
import {CloneArgs} from "./CloneArgs.sol";
import {ICreatorRegistry} from "../interfaces/ICreatorRegistry.sol";

/**
 * @title CreatorRegistry
 * @notice Launches creators: one transaction deploys a creator's coin (ERC-20 + permit) and NFT
 * pass (ERC-721 + ERC-2981) as minimal clones and records them. A creator has at most one coin
 * and one pass, and a profile URI they can update.
 */
contract CreatorRegistry is ICreatorRegistry {
    struct CoinParams {
        string name;
        string symbol;
        uint256 supply;
        uint256 creatorAllocation;
    }

    struct PassParams {
        string name;
        string symbol;
        uint64 maxSupply;
        uint256 mintPrice;
        bool mintEnabled;
        uint16 royaltyBps;
    }

    struct Creator {
        address coin;
        address pass;
    }

    uint16 public constant MAX_ROYALTY_BPS = 2_500;

    /// @notice Implementation every creator coin clone delegates to.
    address public immutable coinImplementation;
    /// @notice Implementation every creator pass clone delegates to.
    address public immutable passImplementation;

    mapping(address creator => Creator) private _creators;
    mapping(address creator => string) private _profileURIs;

    /// @notice `creator` launched `coin` and `pass` with these parameters.
    event CreatorLaunched(
        address indexed creator,
        address indexed coin,
        address indexed pass,
        string profileURI,
        CoinParams coinParams,
        PassParams passParams
    );
    /// @notice `creator` changed their profile URI.
    event ProfileUpdated(address indexed creator, string profileURI);

    error AlreadyLaunched(address creator);
    error NotLaunched(address creator);
    error ZeroSupply();
    error RoyaltyTooHigh(uint16 royaltyBps, uint16 max);

    /**
     * @param revenueSink Where pass mint revenue is split (ContentAccess).
     */
    constructor(address revenueSink) {
        coinImplementation = address(new CreatorCoin(address(this)));
        passImplementation = address(new CreatorPass(address(this), revenueSink));
    }

    /**
     * @notice Launches the caller as a creator with a coin and a pass.
     * @param coin Coin name, symbol, total supply and the part minted to the creator (the rest is a reserve the creator hands out).
     * @param pass Pass name, symbol, supply cap, mint price (native), minting switch, royalty in basis points.
     * @param uri Where the creator's profile document lives (may be empty).
     * @return coinAddress The new coin.
     * @return passAddress The new pass.
     */
    function launchCreator(CoinParams calldata coin, PassParams calldata pass, string calldata uri)
        external
        returns (address coinAddress, address passAddress)
    {
        if (_creators[msg.sender].coin != address(0)) revert AlreadyLaunched(msg.sender);
        if (coin.supply == 0) revert ZeroSupply();
        if (pass.royaltyBps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(pass.royaltyBps, MAX_ROYALTY_BPS);

        coinAddress = Clones.cloneWithImmutableArgs(
            coinImplementation, CloneArgs.encode(msg.sender, 0, coin.name, coin.symbol)
        );
        passAddress = Clones.cloneWithImmutableArgs(
            passImplementation, CloneArgs.encode(msg.sender, pass.royaltyBps, pass.name, pass.symbol)
        );
        _creators[msg.sender] = Creator(coinAddress, passAddress);
        if (bytes(uri).length != 0) _profileURIs[msg.sender] = uri;
        emit CreatorLaunched(msg.sender, coinAddress, passAddress, uri, coin, pass);

        // Our own freshly deployed clones: no untrusted code runs here.
        CreatorCoin(coinAddress).initialize(coin.supply, coin.creatorAllocation);
        CreatorPass(passAddress).initialize(pass.maxSupply, pass.mintPrice, pass.mintEnabled);
    }

    /**
     * @notice Updates the caller's profile URI.
     */
    function setProfileURI(string calldata uri) external {
        if (_creators[msg.sender].coin == address(0)) revert NotLaunched(msg.sender);
        _profileURIs[msg.sender] = uri;
        emit ProfileUpdated(msg.sender, uri);
    }

    /// @notice The creator's coin, or zero if they have not launched.
    function coinOf(address creator) external view returns (address) {
        return _creators[creator].coin;
    }

    /// @notice The creator's pass, or zero if they have not launched.
    function passOf(address creator) external view returns (address) {
        return _creators[creator].pass;
    }

    /// @notice Both gate tokens of `creator` in one call.
    function creatorTokens(address creator) external view returns (address coin, address pass) {
        Creator memory c = _creators[creator];
        return (c.coin, c.pass);
    }

    /// @notice The creator's profile URI.
    function profileURI(address creator) external view returns (string memory) {
        return _profileURIs[creator];
    }
}

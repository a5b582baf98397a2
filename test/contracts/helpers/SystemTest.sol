// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestBase} from "../Vm.sol";
import {ContentAccess} from "../../../contracts/access/ContentAccess.sol";
import {CreatorRegistry} from "../../../contracts/creator/CreatorRegistry.sol";
import {CreatorPass} from "../../../contracts/creator/CreatorPass.sol";
import {PaymentChannels} from "../../../contracts/payments/PaymentChannels.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";
import {IRevenueSplit} from "../../../contracts/interfaces/IRevenueSplit.sol";

/**
 * @notice Deploys the system the same way lib/deployments/deploy-system.ts wires it
 * (ContentAccess -> CreatorRegistry -> setCreatorRegistry -> PaymentChannels, mock stablecoin
 * allow-listed, subscription prices set), plus helpers shared by the Solidity tests.
 */
abstract contract SystemTest is TestBase {
    uint16 internal constant FEE_BPS = 300;
    uint256 internal constant SUB_PRICE_NATIVE = 0.01 ether;
    uint256 internal constant SUB_PRICE_STABLE = 5_000_000;

    address internal owner;
    address internal treasury = address(0x7EA5);
    ContentAccess internal access;
    CreatorRegistry internal registry;
    PaymentChannels internal channels;
    MockStablecoin internal stable;

    function deploySystem() internal {
        owner = address(this);
        access = new ContentAccess(owner, treasury, FEE_BPS);
        registry = new CreatorRegistry(address(access));
        access.setCreatorRegistry(address(registry));
        channels = new PaymentChannels(owner, address(access));
        stable = new MockStablecoin();
        access.setPaymentToken(address(stable), true);
        access.setSubscriptionPrice(address(0), SUB_PRICE_NATIVE);
        access.setSubscriptionPrice(address(stable), SUB_PRICE_STABLE);
    }

    function rules(address token, uint96 price, uint32 duration) internal pure returns (ContentAccess.Rules memory r) {
        r.paymentToken = token;
        r.price = price;
        r.duration = duration;
    }

    /// @dev The terms version a buyer must name to purchase `id` now.
    function terms(bytes32 id) internal view returns (uint48 version) {
        (,,, version) = access.purchaseTerms(id);
    }

    function noCollaborators() internal pure returns (IRevenueSplit.Collaborator[] memory) {
        return new IRevenueSplit.Collaborator[](0);
    }

    /// @dev Registers a premium item for `creator`, sold at `price` of `token` per `duration`.
    function registerItem(address creator, string memory label, address token, uint96 price, uint32 duration)
        internal
        returns (bytes32 id)
    {
        vm.prank(creator);
        id = access.registerContent(
            keccak256(bytes(label)), hex"01", ContentAccess.Tier.Premium, rules(token, price, duration), noCollaborators()
        );
    }

    /// @dev Launches `creator` with a small coin and a pass of `maxSupply` at `mintPrice`.
    function launchCreator(address creator, uint64 maxSupply, uint256 mintPrice) internal returns (CreatorPass pass) {
        vm.prank(creator);
        (, address p) = registry.launchCreator(
            CreatorRegistry.CoinParams("Coin", "C", 1_000_000 ether, 400_000 ether),
            CreatorRegistry.PassParams("Pass", "P", maxSupply, mintPrice, true, 500),
            ""
        );
        pass = CreatorPass(p);
    }

    /// @dev 65-byte r|s|v voucher signature by `pk` on `pc`.
    function signVoucher(PaymentChannels pc, uint256 pk, uint256 channelId, uint256 cumulative)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, pc.voucherDigest(channelId, cumulative));
        return abi.encodePacked(r, s, v);
    }

    /// @dev The item's creator offers `id` per minute on `pc` in `token` at 1 per minute, the rate
    /// {openParams} opens at.
    function offerStream(PaymentChannels pc, bytes32 id, address token) internal {
        vm.prank(access.creatorOf(id));
        pc.setStreamPrice(id, token, 1);
    }

    function openParams(bytes32 contentId, address token, uint96 deposit, uint64 expiresAt)
        internal
        pure
        returns (PaymentChannels.OpenParams memory p)
    {
        p.contentId = contentId;
        p.token = token;
        p.deposit = deposit;
        p.ratePerMinute = 1;
        p.expiresAt = expiresAt;
    }
}

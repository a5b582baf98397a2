// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "../Vm.sol";
import {PaymentChannels} from "../../../contracts/payments/PaymentChannels.sol";
import {ContentAccess} from "../../../contracts/access/ContentAccess.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";

/**
 * @notice Drives random channel lifecycles (stream price + open, top-up, vouchers by viewer or session key,
 * cooperative close, requestClose, reclaim, key rotation/revocation, withdrawals, fee changes,
 * time jumps). Every redemption attempt is checked against a model of what the contract must
 * accept and pay; disagreements are counted in `violations` (handler reverts are swallowed).
 */
contract PaymentChannelsHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    PaymentChannels public immutable pc;
    ContentAccess public immutable access;
    MockStablecoin public immutable stable;
    address public immutable admin;

    uint256[] internal _viewerPks;
    uint256[] internal _keyPks;
    bytes32[] public items;
    address[] public itemCreators;
    address[] public payees;
    uint256[] public channelIds;

    /// @dev Sum of what redemptions paid into the split, per channel (model of `redeemed`).
    mapping(uint256 channelId => uint256) public paidOut;
    /// @dev Refund handed to the viewer at close or reclaim.
    mapping(uint256 channelId => uint256) public refunded;
    mapping(uint256 channelId => uint256) internal _viewerPkOf;
    /// @dev Index + 1 into _keyPks of the channel's current session key (0 = none).
    mapping(uint256 channelId => uint256) internal _keyOf;

    uint256 public violations;
    string public lastViolation;
    uint256 public redemptions;
    uint256 public rejectedRedemptions;
    uint256 public closes;
    uint256 public reclaims;
    uint256 public keyChanges;

    constructor(
        PaymentChannels pc_,
        ContentAccess access_,
        MockStablecoin stable_,
        address admin_,
        uint256[] memory viewerPks_,
        uint256[] memory keyPks_,
        bytes32[] memory items_,
        address[] memory itemCreators_,
        address[] memory payees_
    ) {
        pc = pc_;
        access = access_;
        stable = stable_;
        admin = admin_;
        _viewerPks = viewerPks_;
        _keyPks = keyPks_;
        items = items_;
        itemCreators = itemCreators_;
        payees = payees_;
        // Refunds are credited to viewers, so they are payees too.
        for (uint256 i; i < viewerPks_.length; ++i) payees.push(vm.addr(viewerPks_[i]));
    }

    function channelCount() external view returns (uint256) {
        return channelIds.length;
    }

    function payeeCount() external view returns (uint256) {
        return payees.length;
    }

    // ------------------------------------------------------------ actions

    function open(
        uint256 viewerSeed,
        uint256 itemSeed,
        bool inStable,
        uint96 deposit,
        uint32 ttl,
        uint256 keySeed,
        uint96 cap,
        uint32 keyTtl
    ) external {
        uint256 pk = _viewerPks[viewerSeed % _viewerPks.length];
        address viewer = vm.addr(pk);
        address token = inStable ? address(stable) : address(0);
        deposit = uint96(1 + (deposit % 100 ether));
        uint256 itemIndex = itemSeed % items.length;
        PaymentChannels.OpenParams memory p;
        p.contentId = items[itemIndex];
        p.token = token;
        p.deposit = deposit;
        p.ratePerMinute = 1;
        // The creator offers the item per minute in the token this viewer pays with.
        vm.prank(itemCreators[itemIndex]);
        pc.setStreamPrice(p.contentId, token, 1);
        p.expiresAt = uint64(block.timestamp + pc.CHALLENGE_PERIOD() + (ttl % 30 days));
        uint256 key = keySeed % (_keyPks.length + 1);
        if (key != 0) {
            p.sessionKey = PaymentChannels.SessionKey(
                vm.addr(_keyPks[key - 1]), uint96(cap % (2 * uint256(deposit) + 1)), uint64(block.timestamp + (keyTtl % 3 days))
            );
        }
        fund(viewer, token, deposit);
        vm.prank(viewer);
        uint256 id = pc.openChannel{value: inStable ? 0 : deposit}(p);
        channelIds.push(id);
        _viewerPkOf[id] = pk;
        _keyOf[id] = key;
    }

    function topUp(uint256 chSeed, uint96 amount, uint32 extend) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        if (ch.status != PaymentChannels.Status.Open) return;
        amount = uint96(amount % 10 ether);
        uint64 newExpiry = extend % 2 == 0 ? 0 : uint64(ch.closesAt + (extend % 7 days));
        fund(ch.viewer, ch.token, amount);
        vm.prank(ch.viewer);
        pc.topUp{value: ch.token == address(0) ? amount : 0}(id, amount, newExpiry);
    }

    /// @dev Signs with the viewer, the current session key, or a random (possibly stale) key.
    function redeem(uint256 chSeed, uint256 cumulative, uint8 signerChoice) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        cumulative = cumulative % (2 * uint256(ch.deposit) + 2);

        uint256 pk;
        bool byViewer;
        uint256 choice = signerChoice % 3;
        if (choice == 0 || (choice == 1 && _keyOf[id] == 0)) {
            pk = _viewerPkOf[id];
            byViewer = true;
        } else if (choice == 1) {
            pk = _keyPks[_keyOf[id] - 1];
        } else {
            pk = _keyPks[uint256(keccak256(abi.encode(chSeed, cumulative))) % _keyPks.length];
        }
        PaymentChannels.SessionKey memory sk = pc.sessionKeyOf(id);
        // A key's vouchers stay redeemable for one challenge period after its expiry (vouchers carry no time).
        bool keyOk = !byViewer && sk.key == vm.addr(pk) && sk.key != address(0)
            && block.timestamp <= uint256(sk.expiresAt) + pc.CHALLENGE_PERIOD() && cumulative <= sk.spendingCap;
        uint256 payable_ = cumulative < ch.deposit ? cumulative : ch.deposit;
        bool live = (ch.status == PaymentChannels.Status.Open || ch.status == PaymentChannels.Status.Closing)
            && block.timestamp < ch.closesAt;
        bool shouldPay = live && (byViewer || keyOk) && payable_ > ch.redeemed;

        bytes memory sig = sign(pk, id, cumulative);
        try pc.redeemVoucher(id, cumulative, sig) {
            if (!shouldPay) flag("redeemed a voucher that must be rejected");
            PaymentChannels.Channel memory afterwards = pc.getChannel(id);
            if (afterwards.redeemed != payable_) flag("redeemed != min(cumulative, deposit)");
            paidOut[id] += afterwards.redeemed - ch.redeemed;
            ++redemptions;
        } catch {
            if (shouldPay) flag("valid voucher rejected");
            ++rejectedRedemptions;
        }
    }

    /// @dev A genuine voucher for one channel submitted for another channel must never pay.
    function replay(uint256 fromSeed, uint256 toSeed, uint256 cumulative) external {
        if (channelIds.length < 2) return;
        uint256 from = channelIds[fromSeed % channelIds.length];
        uint256 to = channelIds[toSeed % channelIds.length];
        if (from == to) return;
        cumulative = 1 + (cumulative % (2 * uint256(pc.getChannel(to).deposit)));
        bytes memory sig = sign(_viewerPkOf[from], from, cumulative);
        try pc.redeemVoucher(to, cumulative, sig) {
            flag("voucher replayed on another channel");
        } catch {
            ++rejectedRedemptions;
        }
    }

    /// @dev The creator closes with a final viewer voucher (or with nothing new to redeem).
    function close(uint256 chSeed, uint256 cumulative) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        if (ch.status != PaymentChannels.Status.Open && ch.status != PaymentChannels.Status.Closing) return;
        cumulative = cumulative % (2 * uint256(ch.deposit) + 2);
        // Past the close time only a voucher that adds nothing can close.
        if (block.timestamp >= ch.closesAt && cumulative > ch.redeemed) cumulative = ch.redeemed;
        uint256 owedBefore = pc.balanceOf(ch.viewer, ch.token);
        bytes memory sig = cumulative > ch.redeemed ? sign(_viewerPkOf[id], id, cumulative) : bytes("");
        vm.prank(creatorOf(ch.contentId));
        pc.closeChannel(id, cumulative, sig);
        PaymentChannels.Channel memory afterwards = pc.getChannel(id);
        paidOut[id] += afterwards.redeemed - ch.redeemed;
        refunded[id] = pc.balanceOf(ch.viewer, ch.token) - owedBefore;
        if (afterwards.status != PaymentChannels.Status.Closed) flag("close left channel open");
        if (afterwards.redeemed + refunded[id] != afterwards.deposit) flag("close: redeemed + refund != deposit");
        ++closes;
    }

    function requestClose(uint256 chSeed) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        if (ch.status != PaymentChannels.Status.Open && ch.status != PaymentChannels.Status.Closing) return;
        vm.prank(ch.viewer);
        pc.requestClose(id);
        PaymentChannels.Channel memory afterwards = pc.getChannel(id);
        if (afterwards.closesAt > ch.closesAt) flag("requestClose pushed the close time later");
        if (afterwards.closesAt < block.timestamp + pc.CHALLENGE_PERIOD() && afterwards.closesAt != ch.closesAt) {
            flag("requestClose cut the creator's challenge period");
        }
    }

    /// @dev Viewer reclaims; before the close time it must fail, after it must pay exactly the unredeemed rest.
    function reclaim(uint256 chSeed) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        if (ch.status != PaymentChannels.Status.Open && ch.status != PaymentChannels.Status.Closing) return;
        uint256 before = balanceOf(ch.viewer, ch.token);
        vm.prank(ch.viewer);
        try pc.reclaim(id) {
            if (block.timestamp < ch.closesAt) flag("reclaimed before the close time");
            refunded[id] = balanceOf(ch.viewer, ch.token) - before;
            if (refunded[id] != ch.deposit - ch.redeemed) flag("reclaim paid a wrong amount");
            ++reclaims;
        } catch {
            if (block.timestamp >= ch.closesAt) flag("reclaim failed after the close time");
        }
    }

    /// @dev Rotates, or with keySeed 0 revokes, the session key; the contract refuses while the current key is live.
    function authorizeKey(uint256 chSeed, uint256 keySeed, uint96 cap, uint32 ttl) external {
        if (channelIds.length == 0) return;
        uint256 id = channelIds[chSeed % channelIds.length];
        PaymentChannels.Channel memory ch = pc.getChannel(id);
        if (ch.status != PaymentChannels.Status.Open && ch.status != PaymentChannels.Status.Closing) return;
        uint256 key = keySeed % (_keyPks.length + 1);
        PaymentChannels.SessionKey memory sk;
        if (key != 0) {
            sk = PaymentChannels.SessionKey(
                vm.addr(_keyPks[key - 1]), uint96(cap % (2 * uint256(ch.deposit) + 1)), uint64(block.timestamp + (ttl % 3 days))
            );
        }
        PaymentChannels.SessionKey memory current = pc.sessionKeyOf(id);
        bool live = current.key != address(0) && block.timestamp <= uint256(current.expiresAt) + pc.CHALLENGE_PERIOD();
        vm.prank(ch.viewer);
        try pc.authorizeSessionKey(id, sk) {
            if (live) flag("replaced a live session key");
            _keyOf[id] = key;
            ++keyChanges;
        } catch {
            if (!live) flag("could not replace a dead session key");
        }
    }

    function withdraw(uint256 payeeSeed, bool inStable) external {
        address payee = payees[payeeSeed % payees.length];
        address token = inStable ? address(stable) : address(0);
        uint256 owed = pc.balanceOf(payee, token);
        if (owed == 0) return;
        uint256 before = balanceOf(payee, token);
        // Pull payments must keep working while the platform is paused.
        vm.prank(payee);
        try pc.withdraw(token) {
            if (balanceOf(payee, token) - before != owed) flag("withdraw paid a different amount than owed");
        } catch {
            flag("withdraw of an owed balance failed");
        }
    }

    function setFee(uint16 feeBps) external {
        vm.prank(admin);
        access.setPlatformFee(uint16(feeBps % (access.MAX_PLATFORM_FEE_BPS() + 1)));
    }

    /// @dev Pausing stops sales and new channels only; the checks above run in both states.
    function setPaused(bool paused) external {
        vm.prank(admin);
        if (paused) pc.pause();
        else pc.unpause();
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + (dt % 2 days));
    }

    // ------------------------------------------------------------ helpers

    function sign(uint256 pk, uint256 id, uint256 cumulative) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, pc.voucherDigest(id, cumulative));
        return abi.encodePacked(r, s, v);
    }

    function creatorOf(bytes32 contentId) internal view returns (address) {
        for (uint256 i; i < items.length; ++i) if (items[i] == contentId) return itemCreators[i];
        revert("unknown item");
    }

    function fund(address who, address token, uint256 amount) internal {
        if (token == address(0)) {
            vm.deal(who, who.balance + amount);
        } else {
            stable.mint(who, amount);
            vm.prank(who);
            stable.approve(address(pc), amount);
        }
    }

    function balanceOf(address who, address token) internal view returns (uint256) {
        return token == address(0) ? who.balance : stable.balanceOf(who);
    }

    function flag(string memory what) internal {
        ++violations;
        lastViolation = what;
    }
}

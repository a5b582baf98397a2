// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "../Vm.sol";
import {ContentAccess} from "../../../contracts/access/ContentAccess.sol";
import {CreatorPass} from "../../../contracts/creator/CreatorPass.sol";
import {MockStablecoin} from "../../../contracts/mocks/MockStablecoin.sol";
import {IRevenueSplit} from "../../../contracts/interfaces/IRevenueSplit.sol";

/**
 * @notice Drives random sequences of purchases, subscriptions, pass mints, withdrawals, fee,
 * treasury, rule and collaborator changes and time jumps against ContentAccess. Properties that
 * must hold per step (exact expiry arithmetic, rule updates keeping expiries) are counted in
 * `violations`, because a revert in a handler is swallowed by the invariant runner.
 */
contract ContentAccessHandler {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    ContentAccess public immutable access;
    MockStablecoin public immutable stable;
    address public immutable admin;

    bytes32[] public items;
    address[] public itemCreators;
    CreatorPass[] public passes;
    address[] public fans;
    /// @dev Everyone who can ever be credited: treasuries, creators, collaborators.
    address[] public payees;
    address[] internal _treasuries;

    mapping(bytes32 item => mapping(address fan => uint64)) public maxPurchaseExpiry;
    mapping(address fan => uint64) public maxSubscriptionExpiry;

    mapping(address pass => uint256) public passesIssued;
    /// @dev Everything fans paid for passes; must all have reached the ledger.
    uint256 public passRevenue;
    /// @dev Native currency fans paid in, and payees took out, through the handler.
    uint256 public nativeIn;
    uint256 public nativeWithdrawn;

    uint256 public violations;
    string public lastViolation;
    uint256 public purchases;
    uint256 public subscriptions;
    uint256 public mints;
    uint256 public withdrawals;
    uint256 public ruleUpdates;

    constructor(
        ContentAccess access_,
        MockStablecoin stable_,
        address admin_,
        bytes32[] memory items_,
        address[] memory itemCreators_,
        CreatorPass[] memory passes_,
        address[] memory fans_,
        address[] memory payees_
    ) {
        access = access_;
        stable = stable_;
        admin = admin_;
        items = items_;
        itemCreators = itemCreators_;
        passes = passes_;
        fans = fans_;
        payees = payees_;
        for (uint256 i; i < 3; ++i) _treasuries.push(address(uint160(0x7EA5 + i)));
    }

    function payeeCount() external view returns (uint256) {
        return payees.length;
    }

    function itemCount() external view returns (uint256) {
        return items.length;
    }

    function fanCount() external view returns (uint256) {
        return fans.length;
    }

    // ------------------------------------------------------------ actions

    function purchase(uint256 fanSeed, uint256 itemSeed) external {
        address fan = fans[fanSeed % fans.length];
        bytes32 id = items[itemSeed % items.length];
        (, , , ContentAccess.Rules memory r, ) = access.contentInfo(id);
        if (r.price == 0 || !access.isPaymentToken(r.paymentToken)) return;
        uint64 before = access.purchaseExpiry(id, fan);
        pay(fan, r.paymentToken, r.price);
        vm.prank(fan);
        (,,, uint48 version) = access.purchaseTerms(id);
        access.purchaseAccess{value: r.paymentToken == address(0) ? r.price : 0}(id, version);
        uint256 period = r.duration == 0 ? access.DEFAULT_ACCESS_DURATION() : r.duration;
        uint256 start = before > block.timestamp ? before : block.timestamp;
        uint64 afterwards = access.purchaseExpiry(id, fan);
        if (afterwards != start + period) flag("purchase did not add exactly one period");
        if (afterwards > maxPurchaseExpiry[id][fan]) maxPurchaseExpiry[id][fan] = afterwards;
        if (r.paymentToken == address(0)) nativeIn += r.price;
        ++purchases;
    }

    function subscribe(uint256 fanSeed, bool inStable, uint32 periods) external {
        address fan = fans[fanSeed % fans.length];
        address token = inStable ? address(stable) : address(0);
        uint256 price = access.subscriptionPrice(token);
        if (price == 0) return;
        periods = uint32(1 + (periods % 24));
        uint256 total = price * periods;
        uint64 before = access.subscriptionExpiry(fan);
        pay(fan, token, total);
        vm.prank(fan);
        access.subscribe{value: token == address(0) ? total : 0}(token, periods, total);
        uint256 start = before > block.timestamp ? before : block.timestamp;
        uint64 afterwards = access.subscriptionExpiry(fan);
        if (afterwards != start + uint256(periods) * 30 days) flag("subscription did not add exactly its periods");
        if (afterwards > maxSubscriptionExpiry[fan]) maxSubscriptionExpiry[fan] = afterwards;
        if (token == address(0)) nativeIn += total;
        ++subscriptions;
    }

    /// @dev Through the real pass clone, so depositPassRevenue is exercised by its only legitimate caller.
    function mintPass(uint256 fanSeed, uint256 passSeed, uint8 quantity) external {
        address fan = fans[fanSeed % fans.length];
        CreatorPass pass = passes[passSeed % passes.length];
        (uint256 maxSupply, uint256 minted, uint256 mintPrice, ) = pass.saleInfo();
        if (minted == maxSupply) return;
        uint256 q = 1 + (quantity % 3);
        if (q > maxSupply - minted) q = maxSupply - minted;
        uint256 cost = q * mintPrice;
        vm.deal(fan, fan.balance + cost);
        vm.prank(fan);
        pass.mint{value: cost}(q);
        passesIssued[address(pass)] += q;
        passRevenue += cost;
        nativeIn += cost;
        ++mints;
    }

    /// @dev Free creator airdrops share the supply cap with paid mints.
    function airdrop(uint256 passSeed, uint8 count) external {
        CreatorPass pass = passes[passSeed % passes.length];
        address[] memory to = new address[](1 + (count % 4));
        for (uint256 i; i < to.length; ++i) to[i] = fans[(passSeed + i) % fans.length];
        vm.prank(pass.creator());
        pass.airdrop(to);
        passesIssued[address(pass)] += to.length;
    }

    function passCount() external view returns (uint256) {
        return passes.length;
    }

    function withdraw(uint256 payeeSeed, bool inStable) external {
        address payee = payees[payeeSeed % payees.length];
        address token = inStable ? address(stable) : address(0);
        uint256 owed = access.balanceOf(payee, token);
        if (owed == 0) return;
        uint256 before = token == address(0) ? payee.balance : stable.balanceOf(payee);
        // Pull payments must keep working while the platform is paused.
        vm.prank(payee);
        try access.withdraw(token) {
            uint256 got = (token == address(0) ? payee.balance : stable.balanceOf(payee)) - before;
            if (got != owed) flag("withdraw paid a different amount than owed");
            if (token == address(0)) nativeWithdrawn += got;
            if (access.balanceOf(payee, token) != 0) flag("withdraw left a balance");
            ++withdrawals;
        } catch {
            flag("withdraw of an owed balance failed");
        }
    }

    function setFee(uint16 feeBps) external {
        vm.prank(admin);
        access.setPlatformFee(uint16(feeBps % (access.MAX_PLATFORM_FEE_BPS() + 1)));
    }

    function setTreasury(uint256 seed) external {
        vm.prank(admin);
        access.setTreasury(_treasuries[seed % _treasuries.length]);
    }

    function setSubscriptionPrice(bool inStable, uint64 price) external {
        vm.prank(admin);
        access.setSubscriptionPrice(inStable ? address(stable) : address(0), price % 1 ether);
    }

    /// @dev Any new rules, then checks no fan's bought expiry moved.
    function updateRules(uint256 itemSeed, uint128 price, uint32 duration, bool inStable, bool inSubscription) external {
        uint256 index = itemSeed % items.length;
        bytes32 id = items[index];
        uint64[] memory before = new uint64[](fans.length);
        for (uint256 i; i < fans.length; ++i) before[i] = access.purchaseExpiry(id, fans[i]);
        ContentAccess.Rules memory r;
        r.paymentToken = inStable ? address(stable) : address(0);
        r.price = uint96(price % 10 ether);
        r.duration = duration % 400 days;
        r.inSubscription = inSubscription;
        vm.prank(itemCreators[index]);
        access.updateRules(id, r);
        for (uint256 i; i < fans.length; ++i) {
            if (access.purchaseExpiry(id, fans[i]) != before[i]) flag("rule update changed a bought expiry");
        }
        ++ruleUpdates;
    }

    /// @dev Up to three collaborators drawn from the known payees, shares summing to at most 100%.
    function updateCollaborators(uint256 itemSeed, uint256 seed, uint8 n) external {
        uint256 index = itemSeed % items.length;
        n = uint8(n % 4);
        IRevenueSplit.Collaborator[] memory cs = new IRevenueSplit.Collaborator[](n);
        uint256 left = 10_000;
        for (uint256 i; i < n; ++i) {
            seed = uint256(keccak256(abi.encode(seed)));
            uint256 share = 1 + (seed % left);
            if (share > left) return;
            cs[i] = IRevenueSplit.Collaborator(payees[seed % payees.length], uint16(share));
            left -= share;
            if (left == 0 && i + 1 < n) return;
        }
        vm.prank(itemCreators[index]);
        access.updateCollaborators(items[index], cs);
    }

    /// @dev Pausing stops sales and new channels only; the checks above run in both states.
    function setPaused(bool paused) external {
        vm.prank(admin);
        if (paused) access.pause();
        else access.unpause();
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + (dt % 90 days));
    }

    // ------------------------------------------------------------ helpers

    function pay(address fan, address token, uint256 amount) internal {
        if (token == address(0)) {
            vm.deal(fan, fan.balance + amount);
        } else {
            stable.mint(fan, amount);
            vm.prank(fan);
            stable.approve(address(access), amount);
        }
    }

    function flag(string memory what) internal {
        ++violations;
        lastViolation = what;
    }
}

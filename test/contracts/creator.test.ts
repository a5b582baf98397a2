import { expect } from "chai";
import { signPermit } from "@streamvault/lib/chain/permit.ts";
import { parseEther, zeroAddress, getAddress } from "viem";
import {
  addr,
  defaultCoin,
  defaultPass,
  deployFixture,
  launch,
  networkHelpers,
  viem,
  type Fixture,
} from "./fixture.ts";

describe("CreatorRegistry / CreatorCoin / CreatorPass", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
  });

  describe("launchCreator", () => {
    it("deploys a coin and a pass in one transaction and records them", async () => {
      const hash = await f.registry.write.launchCreator([defaultCoin, defaultPass, "ipfs://aria"], {
        account: f.creator.account,
      });
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      const [coinAddress, passAddress] = await f.registry.read.creatorTokens([addr(f.creator)]);
      expect(coinAddress).to.not.equal(zeroAddress);
      expect(await f.registry.read.coinOf([addr(f.creator)])).to.equal(coinAddress);
      expect(await f.registry.read.passOf([addr(f.creator)])).to.equal(passAddress);
      expect(await f.registry.read.profileURI([addr(f.creator)])).to.equal("ipfs://aria");
      const launched = (await f.registry.getEvents.CreatorLaunched({}, { fromBlock: receipt.blockNumber }))[0];
      expect(launched.args.creator).to.equal(addr(f.creator));
      expect(launched.args.coin).to.equal(coinAddress);
      expect(launched.args.pass).to.equal(passAddress);
      expect(launched.args.coinParams!.supply).to.equal(defaultCoin.supply);
      expect(launched.args.passParams!.maxSupply).to.equal(defaultPass.maxSupply);
      // Clones: tiny proxies, not full copies.
      const code = await f.publicClient.getCode({ address: coinAddress });
      expect((code!.length - 2) / 2).to.be.lessThan(200);
    });

    it("mints the creator's allocation and keeps the rest as reserve", async () => {
      const { coin } = await launch(f);
      expect(await coin.read.totalSupply()).to.equal(defaultCoin.supply);
      expect(await coin.read.balanceOf([addr(f.creator)])).to.equal(defaultCoin.creatorAllocation);
      expect(await coin.read.reserve()).to.equal(defaultCoin.supply - defaultCoin.creatorAllocation);
      expect(await coin.read.creator()).to.equal(addr(f.creator));
      expect(await coin.read.decimals()).to.equal(18);
      // Name and symbol come from the clone's immutable arguments.
      expect(await coin.read.name()).to.equal(defaultCoin.name);
      expect(await coin.read.symbol()).to.equal(defaultCoin.symbol);
      const { pass } = await launch(f, f.fan);
      expect(await pass.read.name()).to.equal(defaultPass.name);
    });

    it("rejects a second launch, zero supply, too-high royalty, allocation above supply", async () => {
      await launch(f);
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.registry.write.launchCreator([defaultCoin, defaultPass, ""], { account: f.creator.account }),
        f.registry,
        "AlreadyLaunched",
        [addr(f.creator)],
      );
      await viem.assertions.revertWithCustomError(
        f.registry.write.launchCreator([{ ...defaultCoin, supply: 0n, creatorAllocation: 0n }, defaultPass, ""], {
          account: f.fan.account,
        }),
        f.registry,
        "ZeroSupply",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        f.registry.write.launchCreator([defaultCoin, { ...defaultPass, royaltyBps: 2_501 }, ""], {
          account: f.fan.account,
        }),
        f.registry,
        "RoyaltyTooHigh",
        [2_501, 2_500],
      );
      const coinImpl = await viem.getContractAt("CreatorCoin", await f.registry.read.coinImplementation());
      await viem.assertions.revertWithCustomError(
        f.registry.write.launchCreator([{ ...defaultCoin, creatorAllocation: defaultCoin.supply + 1n }, defaultPass, ""], {
          account: f.fan.account,
        }),
        coinImpl,
        "AllocationExceedsSupply",
      );
      const passImpl = await viem.getContractAt("CreatorPass", await f.registry.read.passImplementation());
      await viem.assertions.revertWithCustomError(
        f.registry.write.launchCreator([defaultCoin, { ...defaultPass, maxSupply: 0n }, ""], { account: f.fan.account }),
        passImpl,
        "ZeroMaxSupply",
      );
      await viem.assertions.revertWithCustomError(
        f.registry.write.launchCreator([defaultCoin, { ...defaultPass, mintPrice: 2n ** 120n }, ""], { account: f.fan.account }),
        passImpl,
        "PriceTooHigh",
      );
    });

    it("rejects names longer than 255 bytes", async () => {
      // NameTooLong is a library error, so it is not in the registry's ABI: match the decoded message.
      const attempt = f.registry.write.launchCreator([{ ...defaultCoin, name: "x".repeat(256) }, defaultPass, ""], {
        account: f.fan.account,
      });
      await attempt.then(
        () => expect.fail("launch with a 256-byte name succeeded"),
        (error: Error) => expect(error.message).to.contain("NameTooLong"),
      );
    });

    it("lets only a launched creator update the profile URI", async () => {
      await viem.assertions.revertWithCustomError(
        f.registry.write.setProfileURI(["ipfs://x"], { account: f.fan.account }),
        f.registry,
        "NotLaunched",
      );
      await launch(f);
      await viem.assertions.emitWithArgs(
        f.registry.write.setProfileURI(["ipfs://new"], { account: f.creator.account }),
        f.registry,
        "ProfileUpdated",
        [addr(f.creator), "ipfs://new"],
      );
      expect(await f.registry.read.profileURI([addr(f.creator)])).to.equal("ipfs://new");
    });
  });

  describe("CreatorCoin", () => {
    it("initialize is registry-only and one-time", async () => {
      const { coin } = await launch(f);
      await viem.assertions.revertWithCustomError(
        coin.write.initialize([1n, 0n], { account: f.fan.account }),
        coin,
        "OnlyRegistry",
      );
    });

    it("creator distributes the reserve; others cannot", async () => {
      const { coin } = await launch(f);
      await viem.assertions.emitWithArgs(
        coin.write.distribute([[addr(f.fan), addr(f.fan2)], [10n, 20n]], { account: f.creator.account }),
        coin,
        "ReserveDistributed",
        [addr(f.fan2), 20n],
      );
      expect(await coin.read.balanceOf([addr(f.fan)])).to.equal(10n);
      await viem.assertions.revertWithCustomError(
        coin.write.distribute([[addr(f.fan)], [1n]], { account: f.fan.account }),
        coin,
        "OnlyCreator",
      );
      await viem.assertions.revertWithCustomError(
        coin.write.distribute([[addr(f.fan)], [1n, 2n]], { account: f.creator.account }),
        coin,
        "LengthMismatch",
      );
    });

    it("supports EIP-2612 permit with the coin's own name in the domain", async () => {
      const { coin } = await launch(f);
      const chainId = await f.publicClient.getChainId();
      const deadline = 2n ** 40n;
      const value = 123n;
      const { v, r, s } = await signPermit(f.creator, {
        token: { address: coin.address, name: "Aria Coin", version: "1" },
        chainId,
        owner: addr(f.creator),
        spender: addr(f.fan),
        value,
        nonce: 0n,
        deadline,
      });
      await coin.write.permit([addr(f.creator), addr(f.fan), value, deadline, v, r, s], { account: f.stranger.account });
      expect(await coin.read.allowance([addr(f.creator), addr(f.fan)])).to.equal(value);
      const [, name, version] = await coin.read.eip712Domain();
      expect(name).to.equal("Aria Coin");
      expect(version).to.equal("1");
    });
  });

  describe("CreatorPass", () => {
    it("mints at the price and sends revenue through the split ledger", async () => {
      const { pass } = await launch(f);
      const price = defaultPass.mintPrice;
      await viem.assertions.balancesHaveChanged(
        pass.write.mint([2n], { account: f.fan.account, value: price * 2n }),
        [
          { address: addr(f.fan), amount: -price * 2n },
          { address: f.contentAccess.address, amount: price * 2n },
        ],
      );
      expect(await pass.read.balanceOf([addr(f.fan)])).to.equal(2n);
      expect(await pass.read.ownerOf([1n])).to.equal(addr(f.fan));
      expect(await pass.read.totalSupply()).to.equal(2n);
      const fee = (price * 2n * 300n) / 10_000n;
      expect(await f.contentAccess.read.balanceOf([addr(f.treasury), zeroAddress])).to.equal(fee);
      expect(await f.contentAccess.read.balanceOf([addr(f.creator), zeroAddress])).to.equal(price * 2n - fee);
    });

    it("rejects wrong payment, zero quantity, disabled minting and sold-out", async () => {
      const { pass } = await launch(f);
      const price = defaultPass.mintPrice;
      await viem.assertions.revertWithCustomErrorWithArgs(
        pass.write.mint([1n], { account: f.fan.account, value: price - 1n }),
        pass,
        "WrongPayment",
        [price, price - 1n],
      );
      await viem.assertions.revertWithCustomError(pass.write.mint([0n], { account: f.fan.account }), pass, "ZeroQuantity");
      await viem.assertions.revertWithCustomErrorWithArgs(
        pass.write.mint([101n], { account: f.fan.account, value: price * 101n }),
        pass,
        "SoldOut",
        [101n, 100n],
      );
      await viem.assertions.emitWithArgs(
        pass.write.setMintConfig([0n, false], { account: f.creator.account }),
        pass,
        "MintConfigUpdated",
        [0n, false],
      );
      await viem.assertions.revertWithCustomError(pass.write.mint([1n], { account: f.fan.account }), pass, "MintingDisabled");
      await viem.assertions.revertWithCustomError(
        pass.write.setMintConfig([2n ** 120n, true], { account: f.creator.account }),
        pass,
        "PriceTooHigh",
      );
      await viem.assertions.revertWithCustomError(
        pass.write.setMintConfig([1n, true], { account: f.fan.account }),
        pass,
        "OnlyCreator",
      );
    });

    it("free mint sends nothing to the ledger", async () => {
      const { pass } = await launch(f);
      await pass.write.setMintConfig([0n, true], { account: f.creator.account });
      await pass.write.mint([1n], { account: f.fan.account });
      expect(await pass.read.balanceOf([addr(f.fan)])).to.equal(1n);
      expect(await f.contentAccess.read.balanceOf([addr(f.creator), zeroAddress])).to.equal(0n);
    });

    it("creator airdrops under the cap; others cannot", async () => {
      const { pass } = await launch(f);
      await pass.write.airdrop([[addr(f.fan), addr(f.fan2)]], { account: f.creator.account });
      expect(await pass.read.ownerOf([2n])).to.equal(addr(f.fan2));
      await viem.assertions.revertWithCustomError(
        pass.write.airdrop([[addr(f.fan)]], { account: f.fan.account }),
        pass,
        "OnlyCreator",
      );
      const [max, minted, price, enabled] = await pass.read.saleInfo();
      expect([max, minted, price, enabled]).to.deep.equal([100n, 2n, defaultPass.mintPrice, true]);
    });

    it("serves one metadata URI for every pass, royalties to the creator, ERC-165", async () => {
      const { pass } = await launch(f);
      await pass.write.airdrop([[addr(f.fan)]], { account: f.creator.account });
      await viem.assertions.emitWithArgs(
        pass.write.setMetadataURI(["http://127.0.0.1/piece/abc"], { account: f.creator.account }),
        pass,
        "MetadataURIUpdated",
        ["http://127.0.0.1/piece/abc"],
      );
      expect(await pass.read.tokenURI([1n])).to.equal("http://127.0.0.1/piece/abc");
      await viem.assertions.revertWithCustomError(pass.read.tokenURI([2n]), pass, "ERC721NonexistentToken");
      await viem.assertions.revertWithCustomError(
        pass.write.setMetadataURI(["x"], { account: f.fan.account }),
        pass,
        "OnlyCreator",
      );
      const [receiver, amount] = await pass.read.royaltyInfo([1n, parseEther("1")]);
      expect(receiver).to.equal(addr(f.creator));
      expect(amount).to.equal(parseEther("0.05"));
      expect(await pass.read.supportsInterface(["0x2a55205a"])).to.equal(true); // ERC-2981
      expect(await pass.read.supportsInterface(["0x80ac58cd"])).to.equal(true); // ERC-721
      expect(await pass.read.supportsInterface(["0xffffffff"])).to.equal(false);
      expect(await pass.read.creator()).to.equal(addr(f.creator));
      expect(await pass.read.symbol()).to.equal("ARIAP");
    });

    it("initialize is registry-only and one-time", async () => {
      const { pass } = await launch(f);
      await viem.assertions.revertWithCustomError(
        pass.write.initialize([1n, 0n, true], { account: f.fan.account }),
        pass,
        "OnlyRegistry",
      );
      // The registry itself cannot re-initialize either: impersonate it.
      await networkHelpers.impersonateAccount(f.registry.address);
      await networkHelpers.setBalance(f.registry.address, parseEther("1"));
      await viem.assertions.revertWithCustomError(
        pass.write.initialize([1n, 0n, true], { account: getAddress(f.registry.address) }),
        pass,
        "AlreadyInitialized",
      );
      const { coin } = await launch(f, f.fan);
      await viem.assertions.revertWithCustomError(
        coin.write.initialize([1n, 0n], { account: getAddress(f.registry.address) }),
        coin,
        "AlreadyInitialized",
      );
    });
  });
});

/**
 * Reorgs while live: a fork is indexed, then replaced (evm_snapshot / evm_revert) by a longer
 * one; everything the dropped fork wrote must disappear and the index must again match the chain.
 */
import { expect } from "chai";
import { parseEther, toHex } from "viem";
import { backupRegistryAbi, contentAccessAbi, creatorCoinAbi, creatorRegistryAbi, mockStablecoinAbi } from "@streamvault/lib/deployments/abis.ts";
import type { IndexerProcess, LocalChain } from "./harness.ts";
import { fakeCid, indexedScenario, type ScenarioResult } from "./scenario.ts";
import { expectIndexMatchesScenario } from "./expect.ts";

describe("indexer reorgs (PGlite, live)", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let s: ScenarioResult;
  let ix: IndexerProcess;

  before(async function () {
    ({ chain, s, ix } = await indexedScenario());
  });

  after(async function () {
    await ix?.stop();
    await chain?.stop();
  });

  it("rolls back a replaced fork and indexes the new one", async function () {
    const [, , aria, , , fan1, , collab1, collab2] = chain.accounts;
    const send = async (account: (typeof chain.accounts)[number], request: Record<string, unknown>) => {
      const hash = await chain.wallet(account!).writeContract(request as never);
      return chain.publicClient.waitForTransactionReceipt({ hash });
    };
    const snapshot = await chain.rpc<string>("evm_snapshot");

    // Fork A: a purchase, a backup, a coin transfer and a profile change.
    await send(collab2!, { address: s.contracts.contentAccess, abi: contentAccessAbi, functionName: "purchaseAccess", args: [s.content.a1, 2], value: s.known.a1Price });
    await send(aria!, { address: s.contracts.backups, abi: backupRegistryAbi, functionName: "anchorBackup", args: [aria!.address, fakeCid(99), toHex(7, { size: 32 }), 9n, 0, 0n] });
    await send(fan1!, { address: s.tokens.aria.coin, abi: creatorCoinAbi, functionName: "transfer", args: [collab1!.address, parseEther("50")] });
    const forkA = await send(aria!, { address: s.contracts.registry, abi: creatorRegistryAbi, functionName: "setProfileURI", args: ["ipfs://fork-a"] });
    await ix.waitForBlock(forkA.blockNumber);
    const during = await ix.graphql(`{ creator(id: "${aria!.address.toLowerCase()}") { profileUri backups { totalCount } } accessGrant(contentId: "${s.content.a1}", buyer: "${collab2!.address.toLowerCase()}") { purchases } }`);
    expect(during.creator).to.deep.equal({ profileUri: "ipfs://fork-a", backups: { totalCount: 3 } });
    expect(during.accessGrant).to.deep.equal({ purchases: 1 });
    const access = (await ix.get(`/api/access/${collab2!.address}?contentId=${s.content.a1}`)).body;
    expect(access.items.map((i: any) => i.reason)).to.deep.equal(["purchase"]);

    // Fork B replaces it from the snapshot and grows longer: nothing StreamVault indexes happens on it.
    expect(await chain.rpc<boolean>("evm_revert", [snapshot])).to.equal(true);
    await send(fan1!, { address: s.contracts.stable, abi: mockStablecoinAbi, functionName: "mint", args: [fan1!.address, 1n] });
    await chain.rpc("anvil_mine", [toHex(8)]);
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    expect(head > forkA.blockNumber, "fork B is longer").to.equal(true);
    await ix.waitForBlock(head, 60_000);

    const afterReorg = await ix.graphql(`{ creator(id: "${aria!.address.toLowerCase()}") { profileUri backups { totalCount } } accessGrant(contentId: "${s.content.a1}", buyer: "${collab2!.address.toLowerCase()}") { purchases } }`);
    expect(afterReorg.creator).to.deep.equal({ profileUri: "ipfs://aria-v2", backups: { totalCount: 2 } });
    expect(afterReorg.accessGrant).to.equal(null);
    expect((await ix.get(`/api/access/${collab2!.address}?contentId=${s.content.a1}`)).body.items).to.deep.equal([]);
    // Everything else is exactly the scenario again (holdings, earnings, daily totals...).
    await expectIndexMatchesScenario(ix, chain, s);
    expect(ix.log()).to.match(/reorg/i);
  });
});

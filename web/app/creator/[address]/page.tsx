import { notFound } from "next/navigation";
import type { Address } from "viem";
import { getCreator, listContents } from "@/lib/server/catalog";
import { publicConfig } from "@/lib/server/config";
import { creatorProfiles, displayName } from "@/lib/server/profiles";
import { ContentGrid } from "@/components/ContentCard";
import { MintPass } from "@/components/MintPass";
import { ProfileHeader } from "@/components/CreatorProfile";
import { FanHoldings } from "@/components/FanHoldings";
import { formatAmount, shortAddress, ZERO_ADDRESS } from "@/lib/client/format";

export const dynamic = "force-dynamic";

export default async function CreatorPage({ params }: { params: Promise<{ address: string }> }) {
  const { address } = await params;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) notFound();
  const creator = await getCreator(address.toLowerCase() as Address);
  if (!creator) notFound();
  const [{ items }, profiles] = await Promise.all([listContents(creator.id), creatorProfiles([creator.id]).catch(() => undefined)]);
  const profile = profiles?.get(creator.id);
  const name = displayName(profile, creator.coinName);
  const stable = publicConfig().contracts.MockStablecoin;
  return (
    <>
      <ProfileHeader
        address={creator.id}
        profile={profile?.profile ?? null}
        name={name}
        subtitle={<>Creator <code>{shortAddress(creator.id)}</code> · coin ${creator.coinSymbol} · pass {creator.passName} ({creator.passSymbol})</>}
      />
      <FanHoldings coin={creator.coin} pass={creator.pass} coinSymbol={creator.coinSymbol} passSymbol={creator.passSymbol} />
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>{creator.passName}</h2>
        <p className="small">
          Supply {creator.passMaxSupply} · {formatAmount(creator.passMintPrice, ZERO_ADDRESS)} each · minting {creator.passMintEnabled ? "open" : "closed"}
        </p>
        <MintPass pass={creator.pass} />
      </div>
      <h2>Releases</h2>
      {items.length === 0 ? (
        <p className="muted">No releases yet.</p>
      ) : (
        <ContentGrid items={items} stable={stable} creatorNames={{ [creator.id.toLowerCase()]: name }} />
      )}
    </>
  );
}

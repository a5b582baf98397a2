import { notFound } from "next/navigation";
import type { Address } from "viem";
import { getCreator, listContents } from "@/lib/server/catalog";
import { publicConfig } from "@/lib/server/config";
import { ContentGrid } from "@/components/ContentCard";
import { MintPass } from "@/components/MintPass";
import { formatAmount, shortAddress, ZERO_ADDRESS } from "@/lib/client/format";

export const dynamic = "force-dynamic";

export default async function CreatorPage({ params }: { params: Promise<{ address: string }> }) {
  const { address } = await params;
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) notFound();
  const creator = await getCreator(address.toLowerCase() as Address);
  if (!creator) notFound();
  const { items } = await listContents(creator.id);
  const stable = publicConfig().contracts.MockStablecoin;
  return (
    <>
      <h1>{creator.coinName}</h1>
      <p className="muted small">
        Creator {shortAddress(creator.id)} · coin ${creator.coinSymbol} · pass {creator.passName} ({creator.passSymbol})
      </p>
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
        <ContentGrid items={items} stable={stable} />
      )}
    </>
  );
}

/**
 * A creator's catalogue backups.
 * GET: every snapshot anchored on BackupRegistry (PieceCIDs from `BackupAnchored` events, digests
 * from `backupAt`), each verified now: the stored bytes must hash (SHA-256) to the on-chain digest
 * and have the anchored size ("verified"), else "mismatch", or "missing" when storage lacks them.
 * POST (a single-use signed "StreamVault backup" request from the launched creator, bound to its JSON
 * body: lib/signed-request): builds the snapshot with
 * lib/catalog `buildSnapshot`, stores it and answers what to anchor; the creator's wallet then calls
 * `BackupRegistry.anchorBackup(creator, pieceCid, sha256, size, Manual, 0)`.
 */
import type { Address, Hex } from "viem";
import { TRIGGER_NAMES } from "@streamvault/lib/deployments/contract-types.ts";
import { checkSignedAction } from "@/lib/server/signed-request";
import { studioCreator } from "@/lib/server/keyrelease";
import { catalogLibs, pieceStore, readOnlyContext } from "@/lib/server/creator-catalog";
import { keyStore } from "@/lib/server/keystore";
import { hasErrorCode } from "@streamvault/lib/errors.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** BackupRegistry.Trigger as words: "followerMilestone" -> "follower milestone". */
const TRIGGERS = TRIGGER_NAMES.map((name) => name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));

function creatorOf(address: string): Address | null {
  return /^0x[0-9a-fA-F]{40}$/.test(address) ? (address.toLowerCase() as Address) : null;
}

export async function GET(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  // Re-hashing every stored snapshot costs the server reads: only the creator's own session asks.
  const creator = await studioCreator(request, (await ctx.params).address);
  if (creator instanceof Response) return creator;
  const [{ snapshot }, chain, store] = await Promise.all([catalogLibs(), readOnlyContext(creator), pieceStore()]);
  const anchors = await snapshot.listAnchors(chain, creator);
  const backups = await Promise.all(
    anchors.map(async (a) => {
      let status: "verified" | "mismatch" | "missing" = "missing";
      let storedSha256: string | null = null;
      let items: number | null = null;
      let createdAt: string | null = null;
      try {
        const bytes = await store.get(a.pieceCid);
        storedSha256 = snapshot.sha256Hex(bytes);
        status = storedSha256.toLowerCase() === a.sha256.toLowerCase() && bytes.length === a.size ? "verified" : "mismatch";
        if (status === "verified") {
          const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { items?: unknown[]; createdAt?: string };
          items = parsed.items?.length ?? null;
          createdAt = parsed.createdAt ?? null;
        }
      } catch (error) {
        if (!hasErrorCode(error, "not_found")) status = "mismatch";
      }
      return { ...a, trigger: TRIGGERS[a.trigger] ?? String(a.trigger), status, storedSha256, items, createdAt };
    }),
  );
  return Response.json({ creator, backups: backups.reverse() }, { headers: { "cache-control": "no-store" } });
}

export async function POST(request: Request, ctx: { params: Promise<{ address: string }> }): Promise<Response> {
  const creator = creatorOf((await ctx.params).address);
  if (!creator) return Response.json({ error: "bad address" }, { status: 400 });
  const signed = await checkSignedAction(request, "backup", creator as Hex, 16_384);
  if (signed instanceof Response) return signed;
  const [{ snapshot }, chain, store, keys] = await Promise.all([catalogLibs(), readOnlyContext(creator), pieceStore(), keyStore()]);
  // The escrowed content keys go in (sealed to the creator's wallet): useless to anyone else.
  const snap = await snapshot.buildSnapshot(chain, store, [], { escrow: await keys.escrowOf(creator) });
  const bytes = snapshot.serializeSnapshot(snap);
  const put = await store.put(bytes);
  return Response.json(
    { pieceCid: put.pieceCid, sha256: snapshot.sha256Hex(bytes), size: bytes.length, items: snap.items.length, escrowedKeys: snap.escrow?.keys.length ?? 0, createdAt: snap.createdAt },
    { headers: { "cache-control": "no-store" } },
  );
}

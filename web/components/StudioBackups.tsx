"use client";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useConfig, useSignMessage, useSignTypedData } from "wagmi";
import { writeContract } from "wagmi/actions";
import type { Address, Hex } from "viem";
import { cidToBytes } from "@streamvault/lib/browser";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import { studioFetch } from "@/lib/client/studio-fetch";
import { signRequest } from "@streamvault/lib/signed-request/message.ts";
import { bytesToHexString, deriveEscrowKeyPair } from "@streamvault/lib/keys/escrow.ts";

interface EscrowStatus {
  escrow: boolean;
  escrowed: number;
  storedKeys: number;
  registeredItems: number;
}

interface BackupRow {
  index: number;
  pieceCid: string;
  sha256: Hex;
  size: number;
  anchoredAt: number;
  trigger: string;
  status: "verified" | "mismatch" | "missing";
  items: number | null;
}

interface Preview {
  createdAt: string;
  items: { contentId: Hex; title: string | null; tier: string; manifestCid: string; action: string; onChain: string }[];
  wouldRestore: { items: number; manifestsFromSnapshot: number; manifestsMissing: number };
  stats: { purchases: number; coinHolders: number; passHolders: number };
}

const STATUS_LABEL = { verified: "verified: stored bytes match the on-chain SHA-256", mismatch: "MISMATCH: stored bytes differ from the chain", missing: "not in storage" };

/**
 * Catalogue backups: the server builds and stores the snapshot (lib/catalog), the creator's wallet
 * anchors its SHA-256 on BackupRegistry; each anchored backup is checked against the chain, can be
 * previewed as a restore, and the catalogue can be exported as one JSON package.
 */
export function StudioBackups({ creator }: { creator: Address }) {
  const wagmi = useConfig();
  const { chainId, contracts } = useAppConfig();
  const contract = useContracts();
  const { signMessageAsync } = useSignMessage();
  const { signTypedDataAsync } = useSignTypedData();
  const [escrowBusy, setEscrowBusy] = useState(false);
  const escrow = useQuery({
    queryKey: ["escrow", creator],
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/escrow`);
      const body = (await res.json().catch(() => ({}))) as EscrowStatus & { message?: string };
      if (!res.ok) throw new Error(body.message ?? `escrow status unavailable (${res.status})`);
      return body;
    },
    retry: false,
  });
  const [error, setError] = useState("");
  const [building, setBuilding] = useState(false);
  const [preview, setPreview] = useState<{ cid: string; data?: Preview; error?: string } | null>(null);
  const list = useQuery({
    queryKey: ["backups", creator],
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/backups`);
      const body = (await res.json().catch(() => ({}))) as { backups: BackupRow[]; message?: string; error?: string };
      if (!res.ok) throw new Error(body.message ?? body.error ?? `backups unavailable (${res.status})`);
      return body;
    },
    retry: false,
  });
  const tx = useTx(() => void list.refetch());
  const busy = building || tx.state.status === "wallet" || tx.state.status === "pending";
  const registry = contracts.BackupRegistry;

  async function backUpNow() {
    setError("");
    if (!registry) return setError("This deployment has no BackupRegistry.");
    // Single-use and bound to this body (lib/signed-request): the server refuses a replay.
    const requestBody = JSON.stringify({ trigger: "manual" });
    let signed: Record<string, string>;
    try {
      signed = await signRequest("backup", creator, requestBody, (args) => signMessageAsync(args));
    } catch {
      return setError("The backup needs your wallet's signature.");
    }
    setBuilding(true);
    let built: { pieceCid: string; sha256: Hex; size: number; items: number };
    try {
      const res = await fetch(`/api/studio/${creator}/backups`, { method: "POST", headers: { "content-type": "application/json", ...signed }, body: requestBody });
      const body = (await res.json().catch(() => ({}))) as { error?: string } & typeof built;
      if (!res.ok) return setError(`Backup refused: ${body.error ?? res.status}`);
      built = body;
    } finally {
      setBuilding(false);
    }
    await tx.run(`Anchor backup (${built.items} item${built.items === 1 ? "" : "s"})`, () =>
      writeContract(wagmi, {
        ...contract("BackupRegistry", registry),
        functionName: "anchorBackup",
        args: [creator, cidToBytes(built.pieceCid), built.sha256, BigInt(built.size), 0, 0n],
        chainId,
      }),
    );
  }

  /**
   * The wallet signs the escrow typed data (twice: a wallet that does not sign deterministically
   * cannot hold a recovery key); only the public key derived from it leaves the browser, in a
   * signed single-use request.
   */
  async function setUpEscrow() {
    setError("");
    if (!registry) return setError("This deployment has no BackupRegistry.");
    setEscrowBusy(true);
    try {
      let publicKey: Hex;
      try {
        const pair = await deriveEscrowKeyPair((typedData) => signTypedDataAsync(typedData), { chainId, verifyingContract: registry, creator });
        publicKey = bytesToHexString(pair.publicKey);
      } catch (e) {
        return setError(e instanceof Error && /deterministic/.test(e.message) ? e.message : "Key escrow needs your wallet's signature of the escrow message.");
      }
      const requestBody = JSON.stringify({ publicKey });
      let signed: Record<string, string>;
      try {
        signed = await signRequest("key-escrow", creator, requestBody, (args) => signMessageAsync(args));
      } catch {
        return setError("Registering the escrow key needs your wallet's signature.");
      }
      const res = await fetch(`/api/studio/${creator}/escrow`, { method: "POST", headers: { "content-type": "application/json", ...signed }, body: requestBody });
      const body = (await res.json().catch(() => ({}))) as { message?: string; error?: string };
      if (!res.ok) return setError(`Key escrow refused: ${body.message ?? body.error ?? res.status}`);
      await escrow.refetch();
    } finally {
      setEscrowBusy(false);
    }
  }

  async function showPreview(cid: string) {
    setPreview({ cid });
    const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/backups/${encodeURIComponent(cid)}`);
    const body = (await res.json().catch(() => ({}))) as Preview & { message?: string };
    setPreview(res.ok ? { cid, data: body } : { cid, error: body.message ?? `preview failed (${res.status})` });
  }

  const rows = list.data?.backups ?? [];
  return (
    <section aria-labelledby="backups-h" data-testid="backups">
      <h2 id="backups-h">Backups</h2>
      <p className="small muted">
        A snapshot of your whole catalogue (releases, rules, manifests, earnings, holders), stored by content address and anchored on chain with
        its SHA-256, so it can be proven and restored anywhere.
      </p>
      <span style={{ display: "flex", gap: 8, flexWrap: "wrap", alignItems: "center" }}>
        <button className="btn primary" onClick={() => void backUpNow()} disabled={busy} data-testid="backup-now">
          {building ? "Building snapshot…" : "Back up now"}
        </button>
        <a className="btn" href={`/api/studio/${creator}/export`} download data-testid="export-catalog">
          Export catalogue (JSON)
        </a>
      </span>
      <div className="panel" data-testid="key-escrow" data-escrow={escrow.data?.escrow ? "on" : "off"}>
        <strong>Key escrow</strong>{" "}
        {escrow.isLoading ? (
          <span className="muted small">Loading…</span>
        ) : escrow.isError ? (
          <span className="status err small">{escrow.error.message}</span>
        ) : escrow.data?.escrow ? (
          <span className="small" data-testid="escrow-status">
            {escrow.data.escrowed} of {escrow.data.storedKeys} content keys escrowed to your wallet; backups carry them and{" "}
            <code>streamvault restore</code> rebuilds the key store with your wallet alone.
          </span>
        ) : (
          <span className="small" data-testid="escrow-status">
            Not set up: {escrow.data?.storedKeys ?? 0} content key{escrow.data?.storedKeys === 1 ? "" : "s"} live only in this server&apos;s key store; if it is lost, so
            are your encrypted releases.
          </span>
        )}
        <p className="small muted">
          Your wallet signs a fixed message twice (no transaction, no gas); a key derived from that signature seals your content keys, and only its public
          half is sent to the server.
        </p>
        <button className="btn" onClick={() => void setUpEscrow()} disabled={escrowBusy || escrow.isLoading} data-testid="setup-escrow">
          {escrowBusy ? "Waiting for your wallet…" : escrow.data?.escrow ? "Re-seal keys to my wallet" : "Set up key escrow"}
        </button>
      </div>
      {error && <p className="status err" role="alert">{error}</p>}
      <TxStatus state={tx.state} />
      {list.isLoading ? (
        <p className="muted small">Loading…</p>
      ) : list.isError ? (
        <p className="status err" data-testid="backups-error">
          {list.error.message}{" "}
          <button className="btn" onClick={() => void list.refetch()}>
            Sign in and retry
          </button>
        </p>
      ) : rows.length === 0 ? (
        <p className="muted small">No backups anchored yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr><th scope="col">#</th><th scope="col">Anchored</th><th scope="col">Items</th><th scope="col">Size</th><th scope="col">Check</th><th scope="col"></th></tr>
            </thead>
            <tbody>
              {rows.map((b) => (
                <tr key={b.index} data-testid="backup-row" data-status={b.status}>
                  <td title={b.pieceCid}>{b.index}</td>
                  <td>{new Date(b.anchoredAt * 1000).toLocaleString()} · {b.trigger}</td>
                  <td>{b.items ?? "?"}</td>
                  <td>{(b.size / 1024).toFixed(1)} KiB</td>
                  <td className={b.status === "verified" ? "" : "field-error"} data-testid="backup-status" title={`on chain ${b.sha256}`}>
                    {STATUS_LABEL[b.status]}
                  </td>
                  <td>
                    <button className="btn" onClick={() => void showPreview(b.pieceCid)} data-testid="backup-preview">Preview restore</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {preview && (
        <div className="panel" data-testid="restore-preview" aria-live="polite">
          <strong>Restore preview</strong> <span className="small muted">{preview.cid}</span>
          {preview.error ? (
            <p className="status err" role="alert">{preview.error}</p>
          ) : !preview.data ? (
            <p className="muted small">Fetching and verifying against the chain…</p>
          ) : (
            <>
              <p className="small">
                Verified against the chain · snapshot of {new Date(preview.data.createdAt).toLocaleString()} · restoring would rebuild{" "}
                {preview.data.wouldRestore.items} release{preview.data.wouldRestore.items === 1 ? "" : "s"}, put back{" "}
                {preview.data.wouldRestore.manifestsFromSnapshot} manifest(s) from the snapshot
                {preview.data.wouldRestore.manifestsMissing > 0 ? `, ${preview.data.wouldRestore.manifestsMissing} manifest(s) missing` : ""}. Run{" "}
                <code>streamvault restore --piece-cid {preview.cid}</code> to apply it.
              </p>
              <ul className="small">
                {preview.data.items.map((i) => (
                  <li key={i.contentId}>
                    {i.title ?? i.contentId} ({i.tier}): {i.action}; {i.onChain}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}

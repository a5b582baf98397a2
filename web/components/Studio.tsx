"use client";
import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useConfig, useReadContract, useReadContracts, useSignMessage } from "wagmi";
import { readContract, writeContract } from "wagmi/actions";
import type { Address, Hex } from "viem";
import { TIER_NAMES, cidToBytes } from "@streamvault/lib/browser";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { albumQueryProblem, albumSha256Of, contentIdOf, findJob, followJob, reportRegistered, resumeJob, sendAlbum, sendFile, sha256OfFile, uploadMessage, type UploadJob } from "@/lib/client/upload-jobs";
import { useTx } from "@/lib/client/useTx";
import { studioFetch } from "@/lib/client/studio-fetch";
import { TxStatus } from "./TxStatus";
import { EarningsChart, type EarningsBreakdown } from "./EarningsChart";
import { AddressChip } from "./AddressChip";
import { StudioStreams, useStreams } from "./StudioStreams";
import { StudioBackups } from "./StudioBackups";
import { StudioProfile } from "./StudioProfile";
import { StudioTools } from "./StudioTools";
import { ZERO_ADDRESS, accessSummary, formatAmount, shortAddress } from "@/lib/client/format";
import { EMPTY_DETAILS, ReleaseDetailsFields, detailsError, hasDetails, saveReleaseDetails, type ReleaseDetailsForm } from "./ReleaseDetails";
import { RulesEditor, rulesFromForm, formFromRules, streamPriceFromForm, type RulesForm, DEFAULT_RULES_FORM } from "./RulesEditor";

interface StudioData {
  items: {
    id: Hex;
    title: string;
    artist: string;
    album: string;
    trackNumber: number | null;
    description: string;
    /** an album/EP: how many tracks it has (0: a single track) */
    tracks: number;
    tier: string;
    bytes: number;
    copies: number;
    /** Counted by the server from key releases and segment requests; null when the key-release service is unavailable. */
    plays: null | { plays: number; keyReleases: number; segmentPlays: number; minutesStreamed: number; uniqueViewers: number; lastPlayAt: string | null };
    rules: { price: string; paymentToken: string; duration: number; inSubscription: boolean; minPasses: string; minCoinBalance: string };
  }[];
  plays: null | { total: number; uniqueViewers: number };
  storage: { bytes: number; monthlyFormatted: string; assumedPlaysPerMonth: number };
  indexer: null | {
    summary: { sales?: { token: string; purchases: number; buyers: number; volume: string }[]; pass?: { holders: number; minted: number }; coin?: { holders: number } };
    earnings: EarningsBreakdown;
    recentSales: { buyer: string; amount: string; token: string; timestamp: string; contentId: string }[];
    topFans: { buyer: string; name: string | null; purchases: number; streams: number; spent: Record<string, string> }[];
  };
}

function bytesLabel(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function Studio({ creator, coin }: { creator: Address; coin: Address }) {
  const wagmi = useConfig();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const stable = c.MockStablecoin;
  const data = useQuery({
    queryKey: ["studio", creator],
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}`);
      const body = (await res.json().catch(() => ({}))) as StudioData & { message?: string; error?: string };
      if (!res.ok) throw new Error(body.message ?? body.error ?? `studio unavailable (${res.status})`);
      return body;
    },
    retry: false,
    refetchInterval: 15_000,
  });
  const streams = useStreams(creator);
  const tokens = [ZERO_ADDRESS, ...(stable ? [stable] : [])] as Address[];
  const balances = useReadContracts({
    contracts: tokens.flatMap((t) => [
      { ...contract("ContentAccess"), functionName: "balanceOf" as const, args: [creator, t] as const },
      { ...contract("PaymentChannels"), functionName: "balanceOf" as const, args: [creator, t] as const },
    ]),
  });
  const tx = useTx(() => void balances.refetch());
  const busy = tx.state.status === "wallet" || tx.state.status === "pending";
  const d = data.data;

  return (
    <div data-testid="studio">
      <p className="status ok">
        You are a creator · coin <code>{shortAddress(coin)}</code> · <Link href={`/creator/${creator}`}>your public page</Link> ·{" "}
        <Link href="/studio/live" data-testid="studio-go-live">Go live</Link>
      </p>
      {data.isError && (
        <p className="status err" data-testid="studio-error">
          {data.error.message}{" "}
          <button className="btn" onClick={() => void data.refetch()}>
            Sign in and retry
          </button>
        </p>
      )}

      <h2>Dashboard</h2>
      <div className="stats">
        <div className="stat">
          <span className="muted small">Releases</span>
          <b>{d?.items.length ?? "…"}</b>
        </div>
        <div className="stat">
          <span className="muted small">Plays</span>
          <b data-testid="plays-total" title={d?.plays ? `${d.plays.uniqueViewers} listeners` : undefined}>{d ? (d.plays ? d.plays.total : "—") : "…"}</b>
        </div>
        <div className="stat">
          <span className="muted small">Sales</span>
          <b>{d?.indexer ? (d.indexer.summary.sales ?? []).reduce((n, s) => n + s.purchases, 0) : "—"}</b>
        </div>
        <div className="stat">
          <span className="muted small">Active streams</span>
          <b data-testid="active-streams">{streams.data ? streams.data.streams.length : "…"}</b>
        </div>
        <div className="stat">
          <span className="muted small">Storage used</span>
          <b>{d ? bytesLabel(d.storage.bytes) : "…"}</b>
        </div>
        <div className="stat">
          <span className="muted small">Storage / month (est.)</span>
          <b data-testid="storage-cost">{d ? d.storage.monthlyFormatted : "…"}</b>
          <Link className="small" href="/studio/storage">Real cost and placement →</Link>
        </div>
      </div>
      {d && !d.indexer && <p className="small muted">Earnings history, sales and fans appear when the indexer is running.</p>}
      {d?.indexer && (
        <>
          <EarningsChart earnings={d.indexer.earnings} creator={creator} stable={stable} />
          <div className="form" style={{ marginTop: 12 }}>
            <div>
              <h3>Top fans</h3>
              {d.indexer.topFans.length === 0 ? (
                <p className="muted small">No sales yet.</p>
              ) : (
                <table data-testid="top-fans">
                  <thead>
                    <tr><th scope="col">Fan</th><th scope="col">Purchases</th><th scope="col">Streams</th><th scope="col">Spent</th></tr>
                  </thead>
                  <tbody>
                    {d.indexer.topFans.map((f) => (
                      <tr key={f.buyer} data-testid="top-fan" data-fan={f.buyer}>
                        <td><AddressChip address={f.buyer} name={f.name} /></td>
                        <td>{f.purchases}</td>
                        <td>{f.streams}</td>
                        <td>{Object.entries(f.spent).map(([t, v]) => formatAmount(v, t, stable)).join(", ")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        </>
      )}

      <h2>Balance to withdraw</h2>
      <div className="options">
        {tokens.map((t, i) => {
          const access = (balances.data?.[i * 2]?.result as bigint | undefined) ?? 0n;
          const channels = (balances.data?.[i * 2 + 1]?.result as bigint | undefined) ?? 0n;
          return (
            <div className="option" key={t}>
              <h3>{t === ZERO_ADDRESS ? "ETH" : "Stablecoin"}</h3>
              <span>Sales: {formatAmount(access, t, stable)}</span>
              <button className="btn" disabled={busy || access === 0n} data-testid={`withdraw-sales-${i}`}
                onClick={() => tx.run("Withdraw sales", () => writeContract(wagmi, { ...contract("ContentAccess"), functionName: "withdraw", args: [t], chainId }))}>
                Withdraw sales
              </button>
              <span data-testid={`streaming-balance-${i}`}>Streaming: {formatAmount(channels, t, stable)}</span>
              <button className="btn" disabled={busy || channels === 0n} data-testid={`withdraw-streaming-${i}`}
                onClick={() => tx.run("Withdraw streaming", () => writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "withdraw", args: [t], chainId }))}>
                Withdraw streaming
              </button>
            </div>
          );
        })}
      </div>
      <TxStatus state={tx.state} />

      <StudioProfile creator={creator} />

      <StudioTools creator={creator} coin={coin} />

      <StudioStreams creator={creator} titles={new Map((d?.items ?? []).map((i) => [i.id.toLowerCase(), i.title]))} onPaid={() => void balances.refetch()} />

      <StudioBackups creator={creator} />

      <Upload creator={creator} onRegistered={() => void data.refetch()} />

      <h2>Releases</h2>
      {d?.items.length === 0 && <p className="muted">No releases yet.</p>}
      {d?.items.map((item) => <ReleaseRow key={item.id} item={item} creator={creator} onChanged={() => void data.refetch()} />)}
    </div>
  );
}

function detailsOf(item: StudioData["items"][number]): ReleaseDetailsForm {
  return { title: item.title, artist: item.artist, album: item.album, trackNumber: item.trackNumber ? String(item.trackNumber) : "", description: item.description };
}

function ReleaseRow({ item, creator, onChanged }: { item: StudioData["items"][number]; creator: Address; onChanged: () => void }) {
  const wagmi = useConfig();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const [editing, setEditing] = useState<"" | "rules" | "collaborators" | "details">("");
  const [details, setDetails] = useState<ReleaseDetailsForm>(() => detailsOf(item));
  const [rules, setRules] = useState<RulesForm>(() => formFromRules(item.rules, c.MockStablecoin));
  const [collaborators, setCollaborators] = useState("");
  const [error, setError] = useState("");
  const tx = useTx();
  // The pay-per-minute price lives on PaymentChannels, not in the item's rules.
  const streamPrice = useReadContract({ ...contract("PaymentChannels"), functionName: "streamPrice", args: [item.id], chainId });
  const [token, rate] = streamPrice.data ?? [ZERO_ADDRESS, 0n];
  useEffect(() => {
    if (streamPrice.data && editing !== "rules") setRules(formFromRules(item.rules, c.MockStablecoin, { token: streamPrice.data[0], ratePerMinute: streamPrice.data[1] }));
  }, [streamPrice.data, item.rules, c.MockStablecoin, editing]);

  async function saveRules() {
    const r = rulesFromForm(rules, c.MockStablecoin);
    if (!r.ok) return setError(r.error);
    const p = streamPriceFromForm(rules, c.MockStablecoin);
    if (!p.ok) return setError(p.error);
    setError("");
    const current = item.rules;
    const rulesChanged =
      r.rules.price !== BigInt(current.price) ||
      r.rules.paymentToken.toLowerCase() !== current.paymentToken.toLowerCase() ||
      r.rules.duration !== (current.duration || 30 * 86400) ||
      r.rules.inSubscription !== current.inSubscription ||
      r.rules.minPasses !== BigInt(current.minPasses) ||
      r.rules.minCoinBalance !== BigInt(current.minCoinBalance);
    // Only a real change of the rules is sent: each update bumps the terms version buyers name.
    if (rulesChanged) {
      const ok = await tx.run("Update rules", () => writeContract(wagmi, { ...contract("ContentAccess"), functionName: "updateRules", args: [item.id, r.rules], chainId }));
      if (!ok) return;
    }
    const priceChanged = p.ratePerMinute !== rate || (p.ratePerMinute !== 0n && p.token.toLowerCase() !== token.toLowerCase());
    if (priceChanged) {
      const ok = await tx.run("Set price per minute", () =>
        writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "setStreamPrice", args: [item.id, p.token, p.ratePerMinute], chainId }),
      );
      if (!ok) return;
      void streamPrice.refetch();
    }
    setEditing("");
  }

  /** New details -> a new manifest over the same media -> updateManifest from the wallet. */
  async function saveDetails() {
    const problem = detailsError(details);
    if (problem) return setError(problem);
    if (!details.title.trim()) return setError("a release needs a title");
    setError("");
    let saved;
    try {
      saved = await saveReleaseDetails(wagmi, creator, chainId, item.id, details, false);
    } catch (err) {
      return setError((err as Error).message);
    }
    if (saved.changed) {
      const ok = await tx.run("Update details", () => writeContract(wagmi, { ...contract("ContentAccess"), functionName: "updateManifest", args: [item.id, cidToBytes(saved.manifestCid)], chainId }));
      if (!ok) return;
      onChanged();
    }
    setEditing("");
  }
  return (
    <div className="panel" data-testid="release-row" data-content={item.id.toLowerCase()}>
      <strong><Link href={`/content/${item.id}`}>{item.title}</Link></strong>{" "}
      <span className={`tag ${item.tier}`}>{item.tier}</span>{" "}
      {item.tracks > 0 && <><span className="small" data-testid="item-album">Album · {item.tracks} tracks</span>{" "}</>}
      <span className="muted small">{bytesLabel(item.bytes)} × {item.copies} copies</span>{" "}
      <span className="small" data-testid="item-plays" title={item.plays ? `${item.plays.uniqueViewers} listeners · ${item.plays.keyReleases} key releases · ${item.plays.minutesStreamed} min streamed${item.plays.lastPlayAt ? ` · last ${new Date(item.plays.lastPlayAt).toLocaleString()}` : ""}` : "play counts unavailable"}>
        {item.plays ? `${item.plays.plays} ${item.plays.plays === 1 ? "play" : "plays"}` : "plays —"}
      </span>{" "}
      <span className="small" data-testid="item-price">
        {item.tier === "free" ? "free" : BigInt(item.rules.price) > 0n ? formatAmount(item.rules.price, item.rules.paymentToken, c.MockStablecoin) : "no price"}
      </span>{" "}
      <span className="small muted" data-testid="item-access">unlocks with: {accessSummary(item.tier, item.rules, c.MockStablecoin)}</span>{" "}
      <span className="small" data-testid="item-stream-price">
        {rate > 0n ? `${formatAmount(rate, token, c.MockStablecoin)} per minute` : "not offered per minute"}
      </span>{" "}
      <button className="btn" onClick={() => { setDetails(detailsOf(item)); setEditing((e) => (e === "details" ? "" : "details")); }} aria-expanded={editing === "details"} data-testid="edit-details">
        Edit details
      </button>{" "}
      <button className="btn" onClick={() => setEditing((e) => (e === "rules" ? "" : "rules"))} aria-expanded={editing === "rules"} data-testid="edit-rules">
        Edit rules
      </button>{" "}
      <button className="btn" onClick={() => setEditing((e) => (e === "collaborators" ? "" : "collaborators"))} aria-expanded={editing === "collaborators"}>
        Edit collaborators
      </button>
      {editing === "collaborators" && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const parsed = parseCollaborators(collaborators);
            if (!parsed.ok) return setError(parsed.error);
            setError("");
            void tx.run("Update collaborators", () =>
              writeContract(wagmi, { ...contract("ContentAccess"), functionName: "updateCollaborators", args: [item.id, parsed.value], chainId }),
            );
          }}
        >
          <label>
            Collaborators (one per line: address share%); applies to later payments
            <textarea rows={2} value={collaborators} onChange={(e) => setCollaborators(e.target.value)} placeholder="0x… 25%" />
          </label>
          {error && <p className="field-error">{error}</p>}
          <button className="btn primary" type="submit">Save collaborators</button>
        </form>
      )}
      {editing === "details" && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void saveDetails();
          }}
          data-testid="details-form"
        >
          <ReleaseDetailsFields value={details} onChange={setDetails} />
          {error && <p className="field-error">{error}</p>}
          <button className="btn primary" type="submit" data-testid="save-details">Save details</button>
        </form>
      )}
      {editing === "rules" && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void saveRules();
          }}
        >
          <RulesEditor value={rules} onChange={setRules} />
          {error && <p className="field-error">{error}</p>}
          <button className="btn primary" type="submit">Save rules</button>
        </form>
      )}
      <TxStatus state={tx.state} />
    </div>
  );
}

/** "0xabc… 25%" per line (or comma) -> collaborators in basis points. */
function parseCollaborators(text: string): { ok: true; value: { account: Address; shareBps: number }[] } | { ok: false; error: string } {
  const out: { account: Address; shareBps: number }[] = [];
  for (const line of text.split(/\n|,/).map((l) => l.trim()).filter(Boolean)) {
    const m = /^(0x[0-9a-fA-F]{40})\s*[: ]\s*(\d+(?:\.\d+)?)%?$/.exec(line);
    if (!m) return { ok: false, error: `collaborator "${line}" must be "0x… 25%"` };
    out.push({ account: m[1] as Address, shareBps: Math.round(Number(m[2]) * 100) });
  }
  if (new Set(out.map((x) => x.account.toLowerCase())).size !== out.length) return { ok: false, error: "a collaborator is listed twice" };
  if (out.reduce((n, x) => n + x.shareBps, 0) > 10_000) return { ok: false, error: "collaborator shares add up to more than 100%" };
  return { ok: true, value: out };
}

interface FileState {
  name: string;
  progress: number;
  stage: string;
  error?: string;
  /** what ingest warned about (e.g. the audio is mostly silent); the file is still published */
  warnings?: string[];
  /** the server's upload job (lib/catalog/uploads): its progress survives a server instance dying */
  job?: UploadJob;
  registered?: boolean;
  /** an album upload (one item, one job): each track's own progress, in track order */
  tracks?: TrackState[];
}

interface TrackState {
  name: string;
  title: string;
  progress: number;
  stage: string;
  error?: string;
}

/** A failed album job's line when one track caused it (that track's row says why). */
function albumFailure(job: UploadJob, tracks: TrackState[] | undefined): string | undefined {
  const n = tracks ? Number(/track (\d+) \(/.exec(job.error ?? "")?.[1]) : NaN;
  const track = tracks?.[n - 1];
  return track ? `track ${n} (${track.name}) cannot be used, see below: remove or replace it and upload the album again` : undefined;
}

/** Each track of an album job where the job is: sent, encoded one after another ("processing track 2 of 3"), stored together. */
function albumTracksOf(job: UploadJob, tracks: TrackState[]): TrackState[] {
  const current = /processing track (\d+) of/.exec(job.stage);
  const failedTrack = job.state === "failed" ? /track (\d+) \(/.exec(job.error ?? "") : null;
  // Once published, each track is shown under the title it got (its tag when none was typed).
  const titled = tracks.map((t, i) => ({ ...t, title: job.result?.trackTitles?.[i] ?? t.title }));
  return titled.map((t, i) => {
    const n = i + 1;
    if (failedTrack) return Number(failedTrack[1]) === n ? { ...t, stage: "failed", error: job.error ?? "failed" } : { ...t, stage: n < Number(failedTrack[1]) ? "encoded" : "not processed", error: undefined };
    if (job.state === "failed") return { ...t, stage: "failed", error: undefined };
    if (job.state === "published" || job.state === "registered") return { ...t, stage: job.state === "registered" ? "published" : "stored", progress: 1 };
    if (job.stage === "storing") return { ...t, stage: "encoded, storing", progress: 0.9 };
    if (current) {
      const at = Number(current[1]);
      return { ...t, stage: n < at ? "encoded" : n === at ? "processing" : "waiting", progress: n < at ? 0.9 : n === at ? 0.6 : SENT };
    }
    return { ...t, stage: job.state === "running" ? "processing" : "sent, queued", progress: SENT };
  });
}

/** The bar: hashing 0-5 %, sending 5-30 %, the job's own progress (processing, storing) 30-100 %. */
const HASHED = 0.05;
const SENT = 0.3;

function Upload({ creator, onRegistered }: { creator: Address; onRegistered: () => void }) {
  const wagmi = useConfig();
  const { signMessageAsync } = useSignMessage();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const [files, setFiles] = useState<File[]>([]);
  const [states, setStates] = useState<FileState[]>([]);
  const [tier, setTier] = useState("premium");
  /** The creator's explicit choice to give the standard (192k) stream away; off: only the preview is free. */
  const [freeStandard, setFreeStandard] = useState(false);
  /** Seconds into the track the free 30 s preview starts ("" or 0: the beginning). */
  const [previewStart, setPreviewStart] = useState("");
  const [rules, setRules] = useState<RulesForm>(DEFAULT_RULES_FORM);
  const [collaborators, setCollaborators] = useState("");
  const [details, setDetails] = useState<ReleaseDetailsForm>(EMPTY_DETAILS);
  const [formError, setFormError] = useState("");
  /** "album": the files are ONE release (an album/EP) of several tracks, in the order listed */
  const [mode, setMode] = useState<"tracks" | "album">("tracks");
  const [albumTitle, setAlbumTitle] = useState("");
  /** the creator's title of each file as an album track ("": the file's title tag, else its name) */
  const [trackTitles, setTrackTitles] = useState<string[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const tx = useTx(onRegistered);

  const add = useCallback((list: FileList | null) => {
    if (!list) return;
    const added = Array.from(list);
    setFiles((f) => [...f, ...added]);
    setTrackTitles((t) => [...t, ...added.map(() => "")]);
  }, []);
  /** Moves album track `i` by `by` (-1 up, +1 down), its title with it. */
  const move = (i: number, by: number) => {
    const j = i + by;
    if (j < 0 || j >= files.length) return;
    const swap = <T,>(list: T[]) => list.map((x, k) => (k === i ? list[j]! : k === j ? list[i]! : x));
    setFiles(swap);
    setTrackTitles(swap);
  };
  const removeFile = (i: number) => {
    setFiles((f) => f.filter((_, k) => k !== i));
    setTrackTitles((t) => t.filter((_, k) => k !== i));
  };

  const update = (name: string, patch: Partial<FileState>) => setStates((s) => s.map((f) => (f.name === name ? { ...f, ...patch } : f)));
  const fromJob = (job: UploadJob, tracks?: TrackState[]): Partial<FileState> => ({
    job,
    ...(tracks ? { tracks: albumTracksOf(job, tracks) } : {}),
    stage: job.state === "failed" ? "failed" : job.state === "published" ? "stored" : job.state === "registered" ? "published" : job.stage,
    progress: SENT + (1 - SENT) * job.progress,
    error: job.state === "failed" ? (albumFailure(job, tracks) ?? job.error ?? "failed") : undefined,
    warnings: job.result?.warnings.map((w) => w.message),
    registered: job.state === "registered",
  });

  /** The wallet registers a published job's item (unless the chain already has it), then the server is told. */
  async function register(name: string, job: UploadJob, settings: { rules: ReturnType<typeof rulesFromForm> & { ok: true }; perMinute: ReturnType<typeof streamPriceFromForm> & { ok: true }; collaborators: { account: Address; shareBps: number }[]; tier: string; details: ReleaseDetailsForm }): Promise<void> {
    if (!job.result) return;
    let title = job.result.title;
    // Nothing is registered twice: a job finished earlier (another tab, a resumed job) may be on chain already.
    const onChain = await readContract(wagmi, { ...contract("ContentAccess"), functionName: "contentInfo", args: [job.contentId as Hex], chainId }).then(() => true, () => false);
    let txHash: Hex | undefined;
    if (!onChain) {
      // The creator's details go in an edited manifest over the job's media, registered instead of the job's own.
      let manifestCid = job.result.manifestCid;
      if (hasDetails(settings.details)) {
        try {
          update(name, { stage: "saving details" });
          manifestCid = (await saveReleaseDetails(wagmi, creator, chainId, job.contentId as Hex, settings.details, true)).manifestCid;
          title = settings.details.title.trim() || title;
        } catch (err) {
          update(name, { stage: "failed", error: (err as Error).message });
          return;
        }
      }
      const tierIndex = (TIER_NAMES as readonly string[]).indexOf(settings.tier);
      const ok = await tx.run(`Register “${title}”`, async () => {
        txHash = await writeContract(wagmi, {
          ...contract("ContentAccess"),
          functionName: "registerContent",
          args: [job.externalId as Hex, cidToBytes(manifestCid), tierIndex, settings.rules.rules, settings.collaborators],
          chainId,
        });
        return txHash;
      });
      if (!ok) return;
      // Pay per minute, when asked for: the creator prices the new item on PaymentChannels.
      if (settings.perMinute.ratePerMinute > 0n) {
        await tx.run(`Set price per minute of “${title}”`, () =>
          writeContract(wagmi, {
            ...contract("PaymentChannels"),
            functionName: "setStreamPrice",
            args: [job.contentId as Hex, settings.perMinute.token, settings.perMinute.ratePerMinute],
            chainId,
          }),
        );
      }
    }
    await reportRegistered(job.id, txHash);
    // Registered: the release (and every track of an album) is published.
    setStates((all) => all.map((f) => (f.name === name ? { ...f, registered: true, stage: "published", progress: 1, tracks: f.tracks?.map((t) => ({ ...t, stage: "published", progress: 1 })) } : f)));
  }

  /** The wallet signs the upload of `files` (each its size and SHA-256); undefined (and the form says why) when it will not. */
  async function signFiles(files: File[], hashes: string[]): Promise<{ message: string; signature: string } | undefined> {
    const message = uploadMessage(creator, files.map((f, i) => ({ size: f.size, sha256: hashes[i]! })));
    try {
      return { message, signature: await signMessageAsync({ message }) };
    } catch {
      setStates([]);
      setFormError("The upload needs your wallet's signature.");
      return undefined;
    }
  }

  /** The files as ONE album: hashed, signed together, sent in one request, one job, one registration. */
  async function startAlbum(settings: Parameters<typeof register>[2]) {
    const batch = files;
    const titles = batch.map((_, i) => trackTitles[i]?.trim() ?? "");
    const title = albumTitle.trim();
    const name = `Album “${title}”`;
    const tracks = (): TrackState[] => batch.map((f, i) => ({ name: f.name, title: titles[i] || f.name.replace(/\.[^.]+$/, ""), progress: 0, stage: "hashing" }));
    let trackStates = tracks();
    const setTracks = (next: TrackState[]) => {
      trackStates = next;
      update(name, { tracks: next });
    };
    setLastSettings(settings);
    setStates([{ name, progress: 0, stage: "hashing", tracks: trackStates }]);
    const hashes: string[] = [];
    for (const [i, f] of batch.entries()) {
      hashes.push(await sha256OfFile(f, (p) => setTracks(trackStates.map((t, k) => (k === i ? { ...t, progress: HASHED * p } : t)))));
    }
    // One signature covers every track (each its own size and SHA-256): one wallet prompt for the album.
    const signed = await signFiles(batch, hashes);
    if (!signed) return;
    const { message, signature } = signed;
    setFiles([]);
    setTrackTitles([]);
    setAlbumTitle("");
    try {
      // The same tracks in the same order are the same album: its job, if the server has one, is not sent again.
      let job = await findJob(creator, contentIdOf(creator, albumSha256Of(hashes)));
      if (!job) {
        update(name, { stage: "uploading", progress: HASHED });
        setTracks(trackStates.map((t) => ({ ...t, stage: "uploading", progress: HASHED })));
        job = await sendAlbum({
          files: batch, titles, albumTitle: title, creator, tier, freeStandard, sha256s: hashes, message, signature,
          onProgress: (i, p) => setTracks(trackStates.map((t, k) => (k === i ? { ...t, stage: p >= 1 ? "sent" : "uploading", progress: HASHED + (SENT - HASHED) * p } : t))),
        });
      }
      update(name, fromJob(job, trackStates));
      const done = await followJob(job.id, (j) => update(name, fromJob(j, trackStates)));
      if (done.state === "published" || done.state === "registered") await register(name, done, settings);
    } catch (err) {
      update(name, { stage: "failed", error: (err as Error).message });
    }
  }

  async function start() {
    const r = rulesFromForm(rules, c.MockStablecoin);
    const perMinute = streamPriceFromForm(rules, c.MockStablecoin);
    const col = parseCollaborators(collaborators);
    if (!r.ok) return setFormError(r.error);
    if (!perMinute.ok) return setFormError(perMinute.error);
    if (!col.ok) return setFormError(col.error);
    if (files.length === 0) return setFormError(mode === "album" ? "add the album's tracks: at least 2 audio files" : "add at least one file");
    const detailsProblem = detailsError(details);
    if (detailsProblem) return setFormError(detailsProblem);
    if (mode === "album") {
      if (files.length < 2) return setFormError(`an album needs at least 2 tracks, you added ${files.length}: add another audio file, or upload it as a single track`);
      const notAudio = files.findIndex((f) => f.type !== "" && !f.type.startsWith("audio/"));
      if (notAudio >= 0) return setFormError(`track ${notAudio + 1} (${files[notAudio]!.name}) is not an audio file (${files[notAudio]!.type}): an album's tracks are audio files; remove it`);
      if (!albumTitle.trim()) return setFormError("give the album a title");
      if (albumTitle.trim().length > 200 || trackTitles.some((t) => t.trim().length > 200)) return setFormError("album and track titles are at most 200 characters");
      const tooLong = albumQueryProblem({ files, titles: trackTitles.map((t) => t.trim()), albumTitle: albumTitle.trim(), creator, tier, freeStandard });
      if (tooLong) return setFormError(tooLong);
      setFormError("");
      // The album title is the release's title; the shared details (artist, description, cover) apply to the whole album.
      const albumDetails = { ...details, title: "", album: "", trackNumber: "" };
      setDetails(EMPTY_DETAILS);
      return startAlbum({ rules: r, perMinute, collaborators: col.value, tier, details: albumDetails });
    }
    if (previewStart.trim() && !/^\d{1,6}(\.\d{1,3})?$/.test(previewStart.trim())) return setFormError("the preview start must be seconds from 0, e.g. 45");
    setFormError("");
    const batch = files;
    // A title and track number name one file: with several files only the shared details apply.
    const batchDetails = batch.length === 1 ? details : { ...details, title: "", trackNumber: "" };
    const settings = { rules: r, perMinute, collaborators: col.value, tier, details: batchDetails };
    setDetails(EMPTY_DETAILS);
    setLastSettings(settings);
    setStates(batch.map((f) => ({ name: f.name, progress: 0, stage: "hashing" })));
    // 1. Hash every file: the signature covers each file's size and SHA-256 (one wallet prompt for the batch).
    const hashes: string[] = [];
    for (const f of batch) hashes.push(await sha256OfFile(f, (p) => update(f.name, { progress: HASHED * p })));
    const signed = await signFiles(batch, hashes);
    if (!signed) return;
    let { message, signature } = signed;
    let signedAt = Date.now();
    setFiles([]);
    // 2. Send each file (or find the job it already has), then follow every job to its end.
    const follows: Promise<void>[] = [];
    let registering: Promise<void> = Promise.resolve();
    for (const [i, f] of batch.entries()) {
      try {
        let job = await findJob(creator, contentIdOf(creator, hashes[i]!));
        if (!job) {
          if (Date.now() - signedAt > 8 * 60_000) {
            // The signature is valid 10 minutes: sign the files still to send again.
            message = uploadMessage(creator, batch.slice(i).map((g, k) => ({ size: g.size, sha256: hashes[i + k]! })));
            signature = await signMessageAsync({ message });
            signedAt = Date.now();
          }
          update(f.name, { stage: "uploading", progress: HASHED });
          job = await sendFile({ file: f, creator, tier, freeStandard, previewStart: previewStart.trim(), sha256: hashes[i]!, message, signature, onProgress: (p) => update(f.name, { progress: HASHED + (SENT - HASHED) * p }) });
        }
        update(f.name, fromJob(job));
        follows.push(
          followJob(job.id, (j) => update(f.name, fromJob(j))).then((done) => {
            // One wallet transaction at a time (one nonce sequence), in the order the jobs finish.
            if (done.state === "published" || done.state === "registered") registering = registering.then(() => register(f.name, done, settings));
            return registering;
          }),
        );
      } catch (err) {
        update(f.name, { stage: "failed", error: (err as Error).message });
      }
    }
    await Promise.all(follows);
  }

  const [lastSettings, setLastSettings] = useState<Parameters<typeof register>[2] | undefined>(undefined);

  async function resume(s: FileState) {
    if (!s.job) return;
    try {
      const job = await resumeJob(s.job, (message) => signMessageAsync({ message }));
      update(s.name, fromJob(job, s.tracks));
      const done = await followJob(job.id, (j) => update(s.name, fromJob(j, s.tracks)));
      const settings = lastSettings;
      if (settings && (done.state === "published" || done.state === "registered")) await register(s.name, done, settings);
    } catch (err) {
      update(s.name, { error: (err as Error).message });
    }
  }

  return (
    <section aria-labelledby="upload-h">
      <h2 id="upload-h">Upload</h2>
      <div className="upload-mode" role="radiogroup" aria-label="What the files are">
        <label>
          <input type="radio" name="upload-mode" checked={mode === "tracks"} onChange={() => setMode("tracks")} data-testid="upload-mode-tracks" />
          Single tracks (one release per file)
        </label>
        <label>
          <input type="radio" name="upload-mode" checked={mode === "album"} onChange={() => setMode("album")} data-testid="upload-mode-album" />
          Album / EP (one release of several tracks, one price)
        </label>
      </div>
      <div
        className={`drop ${over ? "over" : ""}`}
        role="button"
        tabIndex={0}
        aria-label="Add audio or video files: drop them here or press Enter to choose"
        onClick={() => input.current?.click()}
        onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && input.current?.click()}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          add(e.dataTransfer.files);
        }}
        data-testid="dropzone"
      >
        {mode === "album" ? "Drop the album's audio files here (in track order), or choose files" : "Drop audio or video files here, or choose files"}
        <input ref={input} type="file" multiple accept={mode === "album" ? "audio/*" : "audio/*,video/*"} hidden onChange={(e) => { add(e.target.files); e.target.value = ""; }} data-testid="file-input" />
      </div>
      {mode === "tracks" && files.length > 0 && <p className="small">{files.map((f) => f.name).join(", ")}</p>}
      {mode === "album" && (
        <fieldset className="album-form" data-testid="album-form">
          <legend>Album / EP</legend>
          <label>
            Album title
            <input value={albumTitle} onChange={(e) => setAlbumTitle(e.target.value)} name="albumTitle" placeholder="e.g. Night Drive" data-testid="album-title" />
          </label>
          {files.length === 0 ? (
            <p className="muted small">Add at least 2 audio files; they play in the order listed.</p>
          ) : (
            <ol className="album-files">
              {files.map((f, i) => (
                <li key={`${f.name}-${i}`} data-testid="album-file">
                  <input value={trackTitles[i] ?? ""} onChange={(e) => setTrackTitles((t) => t.map((x, k) => (k === i ? e.target.value : x)))} aria-label={`Title of track ${i + 1}`} placeholder={`from the file's tags, else “${f.name.replace(/\.[^.]+$/, "")}”`} data-testid="album-track-title" />
                  <span className="muted small album-file-name">{f.name}</span>
                  <span className="album-file-actions">
                    <button type="button" className="btn" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move track ${i + 1} up`}>↑</button>
                    <button type="button" className="btn" onClick={() => move(i, 1)} disabled={i === files.length - 1} aria-label={`Move track ${i + 1} down`}>↓</button>
                    <button type="button" className="btn" onClick={() => removeFile(i)} aria-label={`Remove track ${i + 1}`}>✕</button>
                  </span>
                </li>
              ))}
            </ol>
          )}
        </fieldset>
      )}
      <div className="form" style={{ marginTop: 12 }}>
        <label>
          Tier
          <select value={tier} onChange={(e) => setTier(e.target.value)}>
            <option value="free">Free</option>
            <option value="premium">Premium (full track sold, 30 s preview free)</option>
            <option value="exclusive">Exclusive (full track and original sold, 30 s preview free)</option>
          </select>
        </label>
        {tier !== "free" && (
          <label style={{ flexDirection: "row", alignItems: "center", gap: 8 }}>
            <input type="checkbox" checked={freeStandard} onChange={(e) => setFreeStandard(e.target.checked)} style={{ minHeight: 0 }} data-testid="free-standard" />
            Give the standard-quality (192 kbps) stream away; sell only high quality
          </label>
        )}
        {tier !== "free" && mode === "tracks" && (
          <label>
            Preview starts at (seconds; the 30 s preview is free)
            <input value={previewStart} onChange={(e) => setPreviewStart(e.target.value)} inputMode="decimal" placeholder="0" name="previewStart" data-testid="preview-start" />
          </label>
        )}
        <label>
          Collaborators (one per line: address share%)
          <textarea rows={2} value={collaborators} onChange={(e) => setCollaborators(e.target.value)} placeholder="0x… 25%" />
        </label>
      </div>
      <ReleaseDetailsFields value={details} onChange={setDetails} single={mode === "tracks" && files.length <= 1} asAlbum={mode === "album"} titleHint={files.length === 1 ? `from the file's tags, else “${files[0]!.name.replace(/\.[^.]+$/, "")}”` : undefined} />
      <RulesEditor value={rules} onChange={setRules} />
      {formError && <p className="field-error" role="alert">{formError}</p>}
      <p>
        <button className="btn primary" onClick={start} data-testid="upload-start">Process and publish</button>
      </p>
      {states.map((s) => (
        <div key={s.name} className="small" style={{ marginBottom: 8 }} data-testid="upload-file" data-job={s.job?.id ?? ""} data-state={s.job?.state ?? s.stage}>
          <span>{s.name}: {s.error ? <span className="field-error">{s.error}</span> : s.stage}</span>
          {s.job && !s.error && s.stage !== "published" && <span className="muted"> ({Math.round(s.progress * 100)} %)</span>}
          {s.job?.state === "failed" && !s.job.permanent && (
            <button className="btn" style={{ marginLeft: 8 }} onClick={() => void resume(s)} data-testid="upload-resume">Resume</button>
          )}
          {s.warnings?.map((w) => (
            <p key={w} className="field-warning" role="status" data-testid="upload-warning">Warning: {w}</p>
          ))}
          <div className="progress" role="progressbar" aria-valuenow={Math.round(s.progress * 100)} aria-valuemin={0} aria-valuemax={100} aria-label={`${s.name} progress`}>
            <div style={{ width: `${Math.round(s.progress * 100)}%` }} />
          </div>
          {s.tracks && (
            <ol className="album-progress">
              {s.tracks.map((t, i) => (
                <li key={i} data-testid="upload-track" data-stage={t.stage}>
                  <span>{t.title} <span className="muted">({t.name})</span>: {t.error ? <span className="field-error">{t.error}</span> : t.stage}</span>
                  <div className="progress" role="progressbar" aria-valuenow={Math.round(t.progress * 100)} aria-valuemin={0} aria-valuemax={100} aria-label={`track ${i + 1} progress`}>
                    <div style={{ width: `${Math.round(t.progress * 100)}%` }} />
                  </div>
                </li>
              ))}
            </ol>
          )}
        </div>
      ))}
      <TxStatus state={tx.state} />
    </section>
  );
}


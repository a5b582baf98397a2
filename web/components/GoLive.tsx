"use client";
/**
 * The studio's "Go live" page: camera + microphone (or the microphone alone) through getUserMedia,
 * a local preview, MediaRecorder webm chunks of ~1 s sent in order (`PUT .../live/<id>/chunks/<seq>`,
 * retried after a network error: the server appends each seq once) into the server's live pipeline,
 * the stream's record polled from `GET /api/live/<id>`, and the creator's wallet putting the live
 * manifest (registerContent, with the tier and rules of the form) and at the end the final manifest
 * (updateManifest) on chain when the server publishes them (web/lib/server/golive.ts), then
 * announcing the stream on LiveStreams (startLive after the registration, endLive after the final
 * manifest): streamOf is read first and only what is missing is sent (lib/chain/live-calls.ts), and
 * a refused announcement leaves the stream as it is, with a button to send it again.
 */
import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConfig } from "wagmi";
import { useQuery } from "@tanstack/react-query";
import { readContract, writeContract } from "wagmi/actions";
import type { Address, Hex } from "viem";
import { LIVE_STATUS_NAMES, TIER_NAMES, cidToBytes, liveCallsTo, type LiveStatusName } from "@streamvault/lib/browser";
import { useAppConfig, useContracts } from "@/lib/client/config";
import { studioFetch } from "@/lib/client/studio-fetch";
import { useTx } from "@/lib/client/useTx";
import { TxStatus } from "./TxStatus";
import { RulesEditor, rulesFromForm, streamPriceFromForm, DEFAULT_RULES_FORM, type RulesForm } from "./RulesEditor";

type Phase = "setup" | "starting" | "live" | "ending" | "ended" | "error";

interface LiveRecord {
  state: "starting" | "live" | "ended" | "interrupted" | "failed";
  chunksStored: number;
  bytesStored: number;
  secondsStored: number;
  failedWrites: number;
  retriedChunks: number;
  viewers: number;
  latestSegmentAt?: string;
  error?: string;
}

/** What the server asks the wallet to send (web/lib/server/golive.ts PendingWalletAction). */
type Pending =
  | { action: "registerContent" | "updateManifest"; manifestCid: string; externalId: Hex; contentId: Hex }
  | { action: "startLive"; contentId: Hex }
  | { action: "endLive"; contentId: Hex; segments: number };

/** LiveStreams.streamOf of the stream's item, or why it cannot be read. */
type OnChainLive = { status: LiveStatusName; segments: number } | { status: "unavailable"; reason: string };

/** MediaRecorder timeslice: one chunk (one request) per second. */
const TIMESLICE_MS = 1000;
const SEND_TRIES = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops recording and releases the camera and microphone. */
function stopCapture(recorder: MediaRecorder | undefined, media: MediaStream | undefined): void {
  if (recorder && recorder.state !== "inactive") recorder.stop();
  media?.getTracks().forEach((t) => t.stop());
}

function bytesLabel(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

function pickMimeType(audioOnly: boolean): string | undefined {
  const options = audioOnly ? ["audio/webm;codecs=opus", "audio/webm"] : ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
  return options.find((t) => MediaRecorder.isTypeSupported(t));
}

/** LiveStreams.streamOf in words. */
function OnChainLabel({ value }: { value: OnChainLive | undefined }) {
  if (!value) return <>–</>;
  if ("reason" in value) return <span className="muted">{value.reason}</span>;
  if (value.status === "live") return <><span className="tag live">● Live</span> on chain</>;
  if (value.status === "ended") return <><span className="tag ended">Ended</span> on chain, {value.segments} segments</>;
  return <>Not announced</>;
}

/**
 * The creator's browser streams on this server (a reloaded page, an announcement refused after the
 * page moved on): record and on-chain state, and "Announce live" / "Announce end" where the chain
 * is behind the record.
 */
function YourStreams({ creator, readOnChain, announce, busy }: { creator: Address; readOnChain: (contentId: Hex) => Promise<OnChainLive>; announce: (target: "live" | "ended", contentId: Hex, segments: number) => Promise<string | undefined>; busy: boolean }) {
  const wagmi = useConfig();
  const { chainId } = useAppConfig();
  const [refused, setRefused] = useState<Record<string, string>>({});
  const list = useQuery({
    queryKey: ["golive-streams", creator],
    queryFn: async () => {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/live`);
      const body = (await res.json().catch(() => ({}))) as { streams?: (LiveRecord & { id: string; title: string; contentId: Hex })[]; message?: string };
      if (!res.ok) throw new Error(body.message ?? `your streams are unavailable (${res.status})`);
      return Promise.all((body.streams ?? []).map(async (r) => ({ ...r, onChain: await readOnChain(r.contentId) })));
    },
    retry: false,
    refetchInterval: 5_000,
  });
  const rows = list.data ?? [];
  if (list.isError) return <p className="status err">{list.error.message}</p>;
  if (rows.length === 0) return null;
  return (
    <section aria-labelledby="golive-streams-h" data-testid="golive-streams">
      <h3 id="golive-streams-h">Your streams on this server</h3>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Stream</th>
              <th scope="col">Record</th>
              <th scope="col">On chain</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const target = r.state === "ended" ? "ended" : r.state === "live" || r.state === "starting" ? "live" : undefined;
              const behind = target && "segments" in r.onChain && liveCallsTo(r.onChain.status, target).length > 0;
              return (
                <tr key={r.id} data-testid="golive-stream-row" data-stream-id={r.id} data-onchain={r.onChain.status}>
                  <td>{r.title} <span className="small muted">{r.chunksStored} segments</span></td>
                  <td><span className={`tag ${r.state === "live" ? "live" : r.state === "ended" ? "ended" : ""}`}>{r.state}</span></td>
                  <td><OnChainLabel value={r.onChain} /></td>
                  <td>
                    {behind && (
                      <button className="btn" disabled={busy} data-testid="golive-stream-announce"
                        onClick={() => void announce(target, r.contentId, r.chunksStored).then((why) => {
                          setRefused((m) => ({ ...m, [r.id]: why ?? "" }));
                          void list.refetch();
                        })}>
                        {target === "live" ? "Announce live" : "Announce end"}
                      </button>
                    )}
                    {refused[r.id] && <span className="field-error small" role="alert"> {refused[r.id]}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function GoLive({ creator }: { creator: Address }) {
  const wagmi = useConfig();
  const { contracts: c, chainId } = useAppConfig();
  const contract = useContracts();
  const [title, setTitle] = useState("");
  const [tier, setTier] = useState("premium");
  const [audioOnly, setAudioOnly] = useState(false);
  const [rules, setRules] = useState<RulesForm>(DEFAULT_RULES_FORM);
  const [phase, setPhase] = useState<Phase>("setup");
  const [error, setError] = useState("");
  const [stream, setStream] = useState<{ id: string; contentId: Hex } | undefined>(undefined);
  const [record, setRecord] = useState<LiveRecord | undefined>(undefined);
  const [sent, setSent] = useState({ chunks: 0, bytes: 0, retries: 0 });
  const [onChain, setOnChain] = useState<OnChainLive | undefined>(undefined);
  /** an announcement the wallet did not send (refused, failed): offered again with a button */
  const [unannounced, setUnannounced] = useState<{ target: "live" | "ended"; segments: number; message: string } | undefined>(undefined);
  const tx = useTx();

  const preview = useRef<HTMLVideoElement>(null);
  const media = useRef<MediaStream | undefined>(undefined);
  const recorder = useRef<MediaRecorder | undefined>(undefined);
  const queue = useRef<Blob[]>([]);
  const nextSeq = useRef(0);
  const sending = useRef<Promise<void> | undefined>(undefined);
  const failed = useRef(false);
  const handled = useRef(new Set<string>());
  const settings = useRef<{ rules: ReturnType<typeof rulesFromForm> & { ok: true }; perMinute: ReturnType<typeof streamPriceFromForm> & { ok: true }; tier: string } | undefined>(undefined);

  const base = stream ? `/api/studio/${creator}/live/${stream.id}` : "";

  /** Sends the queued chunks one at a time, in order; a chunk that fails is sent again (same seq) before the next. */
  const pump = useCallback(
    (id: string) => {
      sending.current ??= (async () => {
        while (queue.current.length > 0 && !failed.current) {
          const blob = queue.current[0]!;
          const seq = nextSeq.current;
          let done = false;
          for (let attempt = 0; attempt < SEND_TRIES && !done; attempt++) {
            if (attempt > 0) {
              setSent((s) => ({ ...s, retries: s.retries + 1 }));
              await sleep(400 * 2 ** (attempt - 1));
            }
            try {
              const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/live/${id}/chunks/${seq}`, { method: "PUT", body: blob, headers: { "content-type": "application/octet-stream" } });
              const body = (await res.json().catch(() => ({}))) as { appended?: boolean; message?: string };
              if (res.ok) {
                done = true;
                if (body.appended) setSent((s) => ({ ...s, chunks: s.chunks + 1, bytes: s.bytes + blob.size }));
              } else if (res.status < 500) {
                // refused (ended, too large, not yours): sending again would not help
                failed.current = true;
                stopCapture(recorder.current, media.current);
                setError(body.message ?? `chunk ${seq} was refused (${res.status})`);
                setPhase("error");
                return;
              }
            } catch {
              // network error: the same chunk goes again
            }
          }
          if (!done) {
            failed.current = true;
            stopCapture(recorder.current, media.current);
            setError(`chunk ${seq} could not be sent after ${SEND_TRIES} tries: check the connection and go live again`);
            setPhase("error");
            return;
          }
          queue.current.shift();
          nextSeq.current = seq + 1;
        }
      })().finally(() => {
        sending.current = undefined;
        if (queue.current.length > 0 && !failed.current) pump(id);
      });
      return sending.current;
    },
    [wagmi, creator, chainId],
  );

  async function goLive() {
    const r = rulesFromForm(rules, c.MockStablecoin);
    if (!r.ok) return setError(r.error);
    const perMinute = streamPriceFromForm(rules, c.MockStablecoin);
    if (!perMinute.ok) return setError(perMinute.error);
    if (!title.trim()) return setError("give the stream a title");
    if (typeof MediaRecorder === "undefined" || !navigator.mediaDevices?.getUserMedia) return setError("this browser cannot record: use a current Chrome, Edge or Firefox, or stream from OBS over RTMP");
    const mimeType = pickMimeType(audioOnly);
    if (!mimeType) return setError("this browser cannot record webm: use a current Chrome, Edge or Firefox, or stream from OBS over RTMP");
    setError("");
    settings.current = { rules: r, perMinute, tier };
    setPhase("starting");
    try {
      media.current = await navigator.mediaDevices.getUserMedia(audioOnly ? { audio: true } : { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    } catch (err) {
      setPhase("setup");
      return setError(`the ${audioOnly ? "microphone" : "camera and microphone"} could not be opened (${(err as Error).name}): allow access in the browser's address bar and try again`);
    }
    let started: { id: string; contentId: Hex; message?: string };
    try {
      const res = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/live`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: title.trim(), tier }) });
      started = (await res.json()) as typeof started;
      if (!res.ok) throw new Error(started.message ?? `the server refused to start the stream (${res.status})`);
    } catch (err) {
      media.current.getTracks().forEach((t) => t.stop());
      setPhase("setup");
      return setError((err as Error).message);
    }
    setStream({ id: started.id, contentId: started.contentId });
    queue.current = [];
    nextSeq.current = 0;
    failed.current = false;
    const rec = new MediaRecorder(media.current, { mimeType, audioBitsPerSecond: 128_000, ...(audioOnly ? {} : { videoBitsPerSecond: 1_500_000 }) });
    rec.ondataavailable = (e) => {
      if (e.data.size === 0) return;
      queue.current.push(e.data);
      void pump(started.id);
    };
    recorder.current = rec;
    rec.start(TIMESLICE_MS);
    setPhase("live");
  }

  async function endStream() {
    if (!stream) return;
    setPhase("ending");
    const rec = recorder.current;
    if (rec && rec.state !== "inactive") {
      // stop() hands over the last chunk, then fires "stop"
      await new Promise<void>((resolve) => {
        rec.addEventListener("stop", () => resolve(), { once: true });
        rec.stop();
      });
    }
    media.current?.getTracks().forEach((t) => t.stop());
    while (sending.current || (queue.current.length > 0 && !failed.current)) await (sending.current ?? sleep(100));
    const res = await studioFetch(wagmi, creator, chainId, `${base}/end`, { method: "POST" }).catch(() => undefined);
    if (!res?.ok) setError("the server did not take the end of the stream: it ends by itself when no chunk comes for a while");
  }

  // The record and what the wallet must put on chain, every second while the stream runs.
  useEffect(() => {
    if (!stream) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const res = await fetch(`/api/live/${stream.id}`, { cache: "no-store" });
        if (res.ok && !stop) {
          const body = (await res.json()) as LiveRecord;
          setRecord(body);
          if (body.state === "ended" || body.state === "failed") {
            setPhase(body.state === "ended" ? "ended" : "error");
            if (body.state === "failed") setError(body.error ?? "the stream failed");
          }
        }
        if (!stop) setOnChain(await readOnChain(stream.contentId));
        const control = await studioFetch(wagmi, creator, chainId, `/api/studio/${creator}/live/${stream.id}`);
        if (control.ok && !stop) {
          const { pending, finished } = (await control.json()) as { pending: Pending | null; finished: boolean };
          // Each action once: a refused registration is asked again at the next poll, a refused announcement waits for its button.
          const key = pending && ("manifestCid" in pending ? pending.manifestCid : pending.action);
          if (pending && key && !handled.current.has(key)) {
            handled.current.add(key);
            await putOnChain(pending);
            if (!stop) setOnChain(await readOnChain(stream.contentId));
          }
          // The archiver is done (the end announced or given up): nothing more to send.
          if (finished && !pending) return;
        }
      } catch {
        // the next poll tries again
      }
      if (!stop) timer = setTimeout(poll, 1000);
    };
    timer = setTimeout(poll, 0);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stream?.id]);

  async function readOnChain(contentId: Hex): Promise<OnChainLive> {
    if (!c.LiveStreams) return { status: "unavailable", reason: "this chain has no LiveStreams: streams are not announced on it" };
    try {
      const s = await readContract(wagmi, { ...contract("LiveStreams"), functionName: "streamOf", args: [contentId], chainId });
      return { status: LIVE_STATUS_NAMES[s.status]!, segments: s.segments };
    } catch (err) {
      return { status: "unavailable", reason: `LiveStreams could not be read (${(err as Error).message.split("\n")[0]})` };
    }
  }

  /**
   * Takes the item to `target` on LiveStreams with the creator's wallet, sending only what streamOf
   * shows missing; resolves with why it is not there when the wallet did not send it.
   */
  async function announce(target: "live" | "ended", contentId: Hex, segments: number): Promise<string | undefined> {
    const current = await readOnChain(contentId);
    if ("reason" in current) return current.reason;
    for (const call of liveCallsTo(current.status, target)) {
      const ok =
        call === "startLive"
          ? await tx.run("Announce the stream live on chain", () => writeContract(wagmi, { ...contract("LiveStreams"), functionName: "startLive", args: [contentId], chainId }))
          : await tx.run("Announce the end of the stream on chain", () => writeContract(wagmi, { ...contract("LiveStreams"), functionName: "endLive", args: [contentId, segments], chainId }));
      if (!ok) return `The wallet did not send ${call}: the stream is as it was, but not announced ${call === "startLive" ? "live" : "ended"} on chain.`;
    }
    return undefined;
  }

  /** The open stream's announcement; a refusal is kept with its button. */
  async function announceStream(target: "live" | "ended", contentId: Hex, segments: number): Promise<void> {
    const refused = await announce(target, contentId, segments);
    setUnannounced(refused === undefined ? undefined : { target, segments, message: refused });
    setOnChain(await readOnChain(contentId));
  }

  async function putOnChain(p: Pending) {
    if (p.action === "startLive") return announceStream("live", p.contentId, 0);
    if (p.action === "endLive") return announceStream("ended", p.contentId, p.segments);
    const s = settings.current!;
    if (p.action === "registerContent") {
      const ok = await tx.run(`Go live: register “${title.trim()}”`, () =>
        writeContract(wagmi, { ...contract("ContentAccess"), functionName: "registerContent", args: [p.externalId, cidToBytes(p.manifestCid), (TIER_NAMES as readonly string[]).indexOf(s.tier), s.rules.rules, []], chainId }),
      );
      if (!ok) {
        handled.current.delete(p.manifestCid); // asked again at the next poll
        return;
      }
      if (s.perMinute.ratePerMinute > 0n) {
        await tx.run("Set price per minute", () => writeContract(wagmi, { ...contract("PaymentChannels"), functionName: "setStreamPrice", args: [p.contentId, s.perMinute.token, s.perMinute.ratePerMinute], chainId }));
      }
    } else {
      const ok = await tx.run("End stream: publish the recording", () => writeContract(wagmi, { ...contract("ContentAccess"), functionName: "updateManifest", args: [p.contentId, cidToBytes(p.manifestCid)], chainId }));
      if (!ok) handled.current.delete(p.manifestCid);
    }
  }

  // The preview mounts with the first render after "Go live": it shows the camera once both exist.
  useEffect(() => {
    const v = preview.current;
    if (v && media.current && v.srcObject !== media.current) {
      v.srcObject = media.current;
      void v.play().catch(() => undefined);
    }
  });

  // Leaving the page stops the camera and the recorder (the stream then ends after the server's idle timeout).
  useEffect(
    () => () => stopCapture(recorder.current, media.current),
    [],
  );

  function again() {
    setStream(undefined);
    setRecord(undefined);
    setSent({ chunks: 0, bytes: 0, retries: 0 });
    setOnChain(undefined);
    setUnannounced(undefined);
    setError("");
    setTitle("");
    handled.current.clear();
    setPhase("setup");
  }

  const running = phase === "live" || phase === "ending";
  return (
    <section aria-labelledby="golive-h" data-testid="golive" data-phase={phase} data-stream-id={stream?.id ?? ""} data-content-id={stream?.contentId ?? ""} data-sent-chunks={sent.chunks} data-sent-bytes={sent.bytes}>
      <h2 id="golive-h">Go live</h2>
      {phase === "setup" || (phase === "error" && !stream) ? (
        <>
          <div className="form">
            <label>
              Title
              <input value={title} onChange={(e) => setTitle(e.target.value)} name="title" maxLength={200} placeholder="Friday session" data-testid="golive-title" />
            </label>
            <label>
              Tier
              <select value={tier} onChange={(e) => setTier(e.target.value)} data-testid="golive-tier">
                <option value="free">Free</option>
                <option value="premium">Premium (sold; pay per minute if priced)</option>
                <option value="exclusive">Exclusive (sold; pay per minute if priced)</option>
              </select>
            </label>
            <label style={{ flexDirection: "row", alignItems: "center", gap: 8 }}>
              <input type="checkbox" checked={audioOnly} onChange={(e) => setAudioOnly(e.target.checked)} style={{ minHeight: 0 }} data-testid="golive-audio-only" />
              Microphone only (an audio stream)
            </label>
          </div>
          <RulesEditor value={rules} onChange={setRules} />
          {error && <p className="field-error" role="alert">{error}</p>}
          <p>
            <button className="btn primary" onClick={() => void goLive()} data-testid="golive-start">Go live</button>
          </p>
          <YourStreams creator={creator} readOnChain={readOnChain} announce={announce} busy={tx.state.status === "wallet" || tx.state.status === "pending"} />
        </>
      ) : (
        <div style={{ display: "flex", flexWrap: "wrap", gap: 16, alignItems: "flex-start" }}>
          <div style={{ flex: "1 1 360px", maxWidth: 640 }}>
            {phase === "ended" ? (
              <div className="panel" data-testid="golive-ended">
                <strong>The stream has ended.</strong>
                <p className="small">Its playlist is closed and the recording, the same pieces fans watched live, is on chain: its page plays it from the start.</p>
              </div>
            ) : audioOnly ? (
              <div className="panel" data-testid="golive-audio">Microphone only: fans hear an audio stream</div>
            ) : (
              <video ref={preview} muted playsInline autoPlay data-testid="golive-preview" style={{ width: "100%", aspectRatio: "16 / 9", background: "#000", borderRadius: 12 }} />
            )}
            <p>
              {running && (
                <button className="btn primary" onClick={() => void endStream()} disabled={phase === "ending"} data-testid="golive-end">
                  {phase === "ending" ? "Ending…" : "End stream"}
                </button>
              )}{" "}
              {stream && (
                <Link className="btn" href={`/content/${stream.contentId}`} target="_blank" data-testid="golive-fan-link">
                  {phase === "ended" ? "Watch the recording" : "Open the fan page"}
                </Link>
              )}{" "}
              {phase === "ended" && (
                <button className="btn" onClick={again} data-testid="golive-again">Go live again</button>
              )}
            </p>
            {error && <p className="field-error" role="alert">{error}</p>}
          </div>
          <div className="panel" style={{ flex: "1 1 260px" }} data-testid="golive-status" data-state={record?.state ?? "starting"}>
            <strong>{title.trim()}</strong>{" "}
            <span className={`tag ${record?.state === "live" ? "live" : record?.state === "ended" ? "ended" : ""}`}>
              {record?.state === "live" ? "● Live" : (record?.state ?? phase)}
            </span>
            <dl className="small" style={{ display: "grid", gridTemplateColumns: "auto 1fr", gap: "4px 12px", marginTop: 12 }}>
              <dt>Viewers</dt>
              <dd data-testid="golive-viewers">{record?.viewers ?? 0}</dd>
              <dt>Segments stored</dt>
              <dd data-testid="golive-chunks">{record?.chunksStored ?? 0} ({record ? record.secondsStored.toFixed(0) : 0} s)</dd>
              <dt>Bytes stored</dt>
              <dd>{bytesLabel(record?.bytesStored ?? 0)}</dd>
              <dt>Failed / retried writes</dt>
              <dd>{record?.failedWrites ?? 0} / {record?.retriedChunks ?? 0}</dd>
              <dt>Latest segment</dt>
              <dd>{record?.latestSegmentAt ? new Date(record.latestSegmentAt).toLocaleTimeString() : "–"}</dd>
              <dt>Sent from here</dt>
              <dd>{sent.chunks} chunks, {bytesLabel(sent.bytes)}{sent.retries > 0 ? `, ${sent.retries} re-sent` : ""}</dd>
              <dt>On chain</dt>
              <dd data-testid="golive-onchain" data-onchain={onChain?.status ?? ""}>
                <OnChainLabel value={onChain} />
              </dd>
            </dl>
            {unannounced && stream && (
              <div className="small" data-testid="golive-unannounced" style={{ display: "grid", gap: 8, justifyItems: "start", marginTop: 12 }}>
                <span className="field-error" role="alert">{unannounced.message}</span>
                <button className="btn" disabled={tx.state.status === "wallet" || tx.state.status === "pending"} onClick={() => void announceStream(unannounced.target, stream.contentId, unannounced.segments)} data-testid="golive-announce-retry">
                  {unannounced.target === "live" ? "Announce live" : "Announce end"}
                </button>
              </div>
            )}
          </div>
        </div>
      )}
      <TxStatus state={tx.state} />
    </section>
  );
}

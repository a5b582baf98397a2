"use client";
/** "LIVE · n watching" on a live item's page, following the stream's record (`GET /api/live/<id>`) until it ends. */
import { useEffect, useState } from "react";

type Phase = "starting" | "live" | "ended" | "interrupted" | "failed";

export function LiveBadge({ id, initial }: { id: string; initial: Phase }) {
  const [phase, setPhase] = useState<Phase>(initial);
  const [viewers, setViewers] = useState<number | undefined>(undefined);
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const res = await fetch(`/api/live/${encodeURIComponent(id)}`, { cache: "no-store" });
        if (res.ok && !stop) {
          const body = (await res.json()) as { state: Phase; viewers: number };
          setPhase(body.state);
          setViewers(body.viewers);
          if (body.state === "ended" || body.state === "failed") return; // nothing changes any more
        }
      } catch {
        // the next poll tries again
      }
      if (!stop) timer = setTimeout(poll, 3000);
    };
    let timer = setTimeout(poll, 0);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [id]);
  if (phase === "live" || phase === "starting") {
    return (
      <span className="tag live" data-testid="live-badge" data-state={phase} role="status">
        ● Live{phase === "starting" ? " (starting)" : ""}
        {viewers !== undefined ? ` · ${viewers} watching` : ""}{" "}
      </span>
    );
  }
  return (
    <span className="tag ended" data-testid="live-badge" data-state={phase} role="status">
      {phase === "ended" ? "Live stream ended: playing the recording" : phase === "interrupted" ? "Stream interrupted: the creator may resume it" : "Stream failed"}
    </span>
  );
}

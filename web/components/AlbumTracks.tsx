"use client";
/**
 * An album's track list on its content page: number, title, duration and a play button per track,
 * and "Play all", which queues every track in order in the app-wide player (PlayerProvider). The
 * player opens each track with what the wallet may open: in full with access to the album (one
 * purchase unlocks every track), else each track's free preview.
 */
import { formatDuration } from "@/lib/client/format";
import { toTracks, trackKey, type AlbumTrack, type PlayerTrack } from "@/lib/client/track";
import { Icon, PlayButton, TrackList, usePlayer } from "@/components/Player";

/** `streaming`: a pay-per-minute channel on the album is open (its tracks play in full on it). */
export function AlbumTracks({ album, tracks, hasAccess, streaming = false }: { album: PlayerTrack; tracks: AlbumTrack[]; hasAccess: boolean; streaming?: boolean }) {
  const player = usePlayer();
  const queue = toTracks({ ...album, tracks });
  const current = player.current ? trackKey(player.current) : undefined;
  return (
    <section className="panel album" aria-labelledby="album-tracks" data-testid="album-tracks">
      <div className="toolbar">
        <h2 id="album-tracks" style={{ margin: 0, marginRight: "auto" }}>
          Album · {tracks.length} tracks
        </h2>
        <button className="btn primary" onClick={() => player.play(queue[0]!, queue)} data-testid="album-play-all">
          <Icon name="play" /> Play all
        </button>
      </div>
      <p className="small muted" data-testid="album-access">
        {hasAccess
          ? "You own this album: every track plays in full."
          : streaming
          ? "Streaming on your pay-per-minute channel: every track plays in full, each minute of the album paid once."
          : "Without access each track plays its 30-second preview: unlock the album below to hear every track in full."}
      </p>
      <TrackList tracks={queue}>
        <ol className="track-list">
          {queue.map((t, i) => (
            <li key={t.track} className={`track-row${current === trackKey(t) ? " current" : ""}`} data-testid="album-track" data-track={t.track}>
              <PlayButton track={t} />
              <span className="track-no muted">{t.track}</span>
              <span className="track-title">
                {t.title}
                {t.artist && t.artist !== album.artist ? <span className="muted small"> · {t.artist}</span> : null}
              </span>
              <span className="muted small">{formatDuration(tracks[i]!.duration)}</span>
            </li>
          ))}
        </ol>
      </TrackList>
    </section>
  );
}

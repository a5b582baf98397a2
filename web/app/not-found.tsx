import Link from "next/link";

export const metadata = { title: "Not found" };

/**
 * The 404 page: an unknown path, a content id that is not registered on this chain, a creator who
 * has not launched. Says which of those it may be and where to go next.
 */
export default function NotFound() {
  return (
    <section className="not-found" aria-labelledby="nf-h" data-testid="not-found">
      <p className="not-found-code" aria-hidden>
        404
      </p>
      <h1 id="nf-h">Nothing plays here</h1>
      <p className="muted">
        This page does not exist, or what it points to is not on this chain: a content id that was never registered, a creator who has not
        launched yet, or a link from another StreamVault deployment.
      </p>
      <p className="not-found-actions">
        <Link className="btn primary" href="/">
          Discover music and video
        </Link>
        <Link className="btn" href="/library">
          Your library
        </Link>
        <Link className="btn" href="/studio">
          Studio
        </Link>
      </p>
    </section>
  );
}

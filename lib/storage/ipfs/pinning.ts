/**
 * Client of the IPFS Pinning Service API (https://ipfs.github.io/pinning-services-api-spec/),
 * as Pinata, Filebase and others speak it: ask a remote service to keep a CID, give it our
 * multiaddrs as `origins` so it can fetch the blocks from us, and poll the pin's status.
 * Plain fetch, no Helia: safe to import on any Node.
 */
import { StreamVaultError } from "../../errors.ts";

export type PinStatusValue = "queued" | "pinning" | "pinned" | "failed";

export interface Pin {
  cid: string;
  name?: string;
  /** Multiaddrs of peers that have the data (ours), so the service need not search for it. */
  origins?: string[];
  meta?: Record<string, string>;
}

export interface PinStatus {
  requestid: string;
  status: PinStatusValue;
  created: string;
  pin: Pin;
  /** Multiaddrs of the service's nodes that will fetch the data: worth dialing. */
  delegates: string[];
  info?: Record<string, string>;
}

export interface PinResults {
  count: number;
  results: PinStatus[];
}

export interface ListPinsOptions {
  cid?: string[];
  name?: string;
  status?: PinStatusValue[];
  limit?: number;
}

/** An error answer of the service (`{error: {reason, details}}`) or a transport failure. */
export class PinningServiceError extends StreamVaultError {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(message: string, status?: number, reason?: string) {
    super("unavailable", message);
    this.name = "PinningServiceError";
    this.status = status;
    this.reason = reason;
  }
}

export interface PinningServiceClientOptions {
  /** Base URL of the API, e.g. "https://api.pinata.cloud/psa" (the /pins routes are under it). */
  endpoint: string;
  /** Access token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Per-request timeout in ms. Default 30 s. */
  timeoutMs?: number;
}

export class PinningServiceClient {
  readonly endpoint: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: PinningServiceClientOptions) {
    if (!options.endpoint) throw new Error("pinning service: endpoint is required (IPFS_PINNING_ENDPOINT)");
    if (!options.token) throw new Error("pinning service: token is required (IPFS_PINNING_TOKEN)");
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** POST /pins: ask the service to pin a CID. Resolves with the (usually queued) status. */
  add(pin: Pin): Promise<PinStatus> {
    return this.#request<PinStatus>("POST", "/pins", pin, [202, 200]);
  }

  /** GET /pins/:requestid. */
  get(requestid: string): Promise<PinStatus> {
    return this.#request<PinStatus>("GET", `/pins/${encodeURIComponent(requestid)}`);
  }

  /** GET /pins with filters (cid is a comma-separated list in the query, at most 10 per spec). */
  list(options: ListPinsOptions = {}): Promise<PinResults> {
    const q = new URLSearchParams();
    if (options.cid?.length) q.set("cid", options.cid.join(","));
    if (options.name) q.set("name", options.name);
    if (options.status?.length) q.set("status", options.status.join(","));
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    const qs = q.toString();
    return this.#request<PinResults>("GET", `/pins${qs ? `?${qs}` : ""}`);
  }

  /** POST /pins/:requestid: replace a pin (for example with new origins). */
  replace(requestid: string, pin: Pin): Promise<PinStatus> {
    return this.#request<PinStatus>("POST", `/pins/${encodeURIComponent(requestid)}`, pin, [202, 200]);
  }

  /** DELETE /pins/:requestid. */
  async remove(requestid: string): Promise<void> {
    await this.#request<void>("DELETE", `/pins/${encodeURIComponent(requestid)}`, undefined, [202, 200, 204]);
  }

  /**
   * Poll GET /pins/:requestid until the pin is `pinned`; throws on `failed` or once `timeoutMs`
   * has passed, naming the last status seen.
   */
  async waitForPinned(requestid: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<PinStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const interval = options.intervalMs ?? 200;
    for (;;) {
      const status = await this.get(requestid);
      if (status.status === "pinned") return status;
      if (status.status === "failed") {
        throw new PinningServiceError(`pin ${requestid} of ${status.pin.cid} failed on ${this.endpoint}${status.info?.reason ? `: ${status.info.reason}` : ""}`);
      }
      if (Date.now() >= deadline) {
        throw new PinningServiceError(`pin ${requestid} of ${status.pin.cid} still "${status.status}" on ${this.endpoint} after ${options.timeoutMs ?? 60_000} ms`);
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  async #request<T>(method: string, path: string, body?: unknown, ok: number[] = [200]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.endpoint + path, {
        method,
        headers: {
          Authorization: `Bearer ${this.#token}`,
          Accept: "application/json",
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new PinningServiceError(`pinning service ${this.endpoint} unreachable (${method} ${path}): ${(err as Error).message}; check IPFS_PINNING_ENDPOINT`);
    }
    const text = await res.text();
    if (!ok.includes(res.status)) {
      let reason: string | undefined;
      let details: string | undefined;
      try {
        const parsed = JSON.parse(text) as { error?: { reason?: string; details?: string } };
        reason = parsed.error?.reason;
        details = parsed.error?.details;
      } catch {
        details = text.slice(0, 200);
      }
      const hint = res.status === 401 || res.status === 403 ? "; check IPFS_PINNING_TOKEN" : "";
      throw new PinningServiceError(
        `pinning service ${method} ${path} answered ${res.status}${reason ? ` ${reason}` : ""}${details ? `: ${details}` : ""}${hint}`,
        res.status,
        reason,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

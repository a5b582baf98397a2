/**
 * One load run in a worker thread (autocannon, or evenly spread open-loop arrivals), so the load
 * generator does not share the event loop of a server the benchmark runs in the same process; used
 * by bench-keyrelease, bench-scale and bench-live.
 * Connection i sends header set i (mod length) and rotates through the bodies from offset i
 * (or through body set i mod length, when the bodies belong to that connection's headers).
 */
import { isMainThread, parentPort, workerData, Worker } from "node:worker_threads";

export interface LoadJob {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  /** One header set per connection (connection i uses entry i mod length). */
  headers: Record<string, string>[];
  /** POST bodies to rotate through (per connection, starting at a different offset); [""] for GET. */
  bodies: string[];
  /** Per header set, the bodies that go with it (connection i rotates through bodySets[i mod length]); overrides `bodies`. */
  bodySets?: string[][];
  /** default POST */
  method?: "GET" | "POST";
  /** Requests per second over all connections (open loop, as viewers poll); default: as fast as answers come (closed loop). */
  overallRate?: number;
  /**
   * With overallRate, when the requests go out. "autocannon" (default): autocannon's rate limit,
   * which cuts the connections to overallRate and lets each send once a second on a timer started
   * with the others: every second all of them at once (a synchronized crowd). "spread": each
   * connection is a viewer polling on its own phase, so requests arrive evenly, one every
   * 1/overallRate s round-robin over the viewers; latency counts from the planned send time, so a
   * slow answer cannot delay the requests after it out of the measurement (coordinated omission).
   */
  arrivals?: "autocannon" | "spread";
}

export interface LoadResult {
  connections: number;
  seconds: number;
  /** Completed requests, whatever their status. */
  requests: number;
  requestsPerSecond: number;
  /** Completed with a 2xx. */
  ok: number;
  okPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

interface JobMessage {
  benchLoad: LoadJob;
}

/** Open-loop load with evenly spread arrivals over `job.connections` keep-alive viewers (see LoadJob.arrivals). */
async function runSpreadLoad(job: LoadJob & { overallRate: number }): Promise<LoadResult> {
  const { request, Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const target = new URL(job.path, job.url);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const sent = new Array<number>(job.connections).fill(0);
  const send = (viewer: number, plannedAt: number) =>
    new Promise<void>((resolve) => {
      const headers = job.headers[viewer % job.headers.length]!;
      const bodies = job.bodySets ? job.bodySets[viewer % job.bodySets.length]! : job.bodies;
      const body = job.method === "GET" ? undefined : bodies[(viewer + sent[viewer]!++) % bodies.length]!;
      const req = request(target, { method: job.method ?? "POST", agent, headers: body === undefined ? headers : { ...headers, "content-type": "application/json" }, timeout: 10_000 }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - plannedAt);
          if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => (errors++, resolve()));
      req.end(body);
    });
  const intervalMs = 1000 / job.overallRate;
  const start = performance.now() + 50;
  const total = Math.round(job.seconds * job.overallRate);
  const inFlight: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const plannedAt = start + k * intervalMs;
    const wait = plannedAt - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send(k % job.connections, plannedAt));
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? NaN);
  const ok = latencies.length - non2xx;
  return {
    connections: job.connections,
    seconds: job.seconds,
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / seconds),
    ok,
    okPerSecond: Math.round(ok / seconds),
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: Math.round(latencies.at(-1) ?? NaN),
    non2xx,
    errors,
  };
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  if (job.arrivals === "spread" && job.overallRate) return runSpreadLoad({ ...job, overallRate: job.overallRate });
  interface Summary {
    latency: { p50: number; p90: number; p99: number; max: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  const autocannon = (await import("autocannon")).default as unknown as ((opts: Record<string, unknown>) => Promise<unknown>) & {
    aggregateResult(results: unknown[], opts: Record<string, unknown>): Summary;
  };
  let nextConnection = 0;
  const opts = { url: job.url, connections: job.connections, duration: job.seconds, ...(job.overallRate ? { overallRate: job.overallRate } : {}) };
  // Off the main thread autocannon returns raw histograms; aggregate them into the usual summary.
  const raw = (await autocannon({
    ...opts,
    requests: [
      {
        method: job.method ?? "POST",
        path: job.path,
        setupRequest: (req: Record<string, unknown>, context: { index?: number; n?: number }) => {
          if (context.index === undefined) context.n = context.index = nextConnection++;
          const headers = job.headers[context.index % job.headers.length]!;
          if (job.method === "GET") return { ...req, headers };
          const bodies = job.bodySets ? job.bodySets[context.index % job.bodySets.length]! : job.bodies;
          const body = bodies[context.n! % bodies.length]!;
          context.n = context.n! + 1;
          return { ...req, headers: { ...headers, "content-type": "application/json" }, body };
        },
      },
    ],
  })) as { totalCompletedRequests: number; duration: number };
  const result = autocannon.aggregateResult([raw], opts);
  const ok = raw.totalCompletedRequests - result.non2xx;
  return {
    connections: job.connections,
    seconds: job.seconds,
    requests: raw.totalCompletedRequests,
    requestsPerSecond: Math.round(raw.totalCompletedRequests / raw.duration),
    ok,
    okPerSecond: Math.round(ok / raw.duration),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Runs `job` in a worker thread and resolves to its summary. */
export function loadInWorker(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { benchLoad: job } satisfies JobMessage });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

if (!isMainThread && (workerData as Partial<JobMessage> | null)?.benchLoad) {
  parentPort!.postMessage(await runLoad((workerData as JobMessage).benchLoad));
}

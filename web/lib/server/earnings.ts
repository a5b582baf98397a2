/**
 * A creator's earnings as the revenue ledgers split them, per day and per release: gross, platform
 * fee, collaborators' shares and the creator's net, built from the indexer's `credit` rows (one per
 * `Credited` event of ContentAccess and PaymentChannels) so that the nets add up to what was credited,
 * and credited minus withdrawn is the withdrawable balance on chain (`balanceOf` of both ledgers).
 *
 * A payment is every credit of one transaction, ledger, content id and token: RevenueLedger
 * `_distribute` credits the platform fee to the treasury, each collaborator's share and the
 * creator's remainder in the same transaction, so the payment's gross is their sum. Refund credits
 * (a payment channel's unspent deposit back to its viewer) are not part of any payment's gross.
 */
import { formatUnits, type Address } from "viem";
import { ROLE } from "@streamvault/lib/deployments/contract-types.ts";
import { csvField } from "@streamvault/lib/csv.ts";

export { csvField };

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ZERO_ID = `0x${"0".repeat(64)}`;

/** A `credit` row of the indexer (ponder.schema.ts), uint256 as decimal strings. */
export interface CreditRow {
  ledger: string;
  payee: string;
  token: string;
  contentId: string;
  /** RevenueLedger.Role (generated `ROLE`): platform, creator, collaborator, refund. */
  role: number;
  amount: string;
  timestamp: string;
  tx: string;
}

/** One payment as it reached `payee`. `collaborators` is what went to others than the platform and the payee. */
export interface Payment {
  day: string;
  contentId: string;
  token: string;
  ledger: string;
  tx: string;
  kind: "sale" | "refund";
  gross: bigint;
  platformFee: bigint;
  collaborators: bigint;
  net: bigint;
}

export interface EarningsLine {
  token: string;
  payments: number;
  gross: string;
  platformFee: string;
  collaborators: string;
  net: string;
}

export interface EarningsBreakdown {
  /** The platform fee now in force (ContentAccess.platformFeeBps as indexed); null when unknown. */
  platformFeeBps: number | null;
  /** The explanation line shown beside the figures. */
  explanation: string;
  byDay: (EarningsLine & { day: string })[];
  byRelease: (EarningsLine & { contentId: string; title: string })[];
  /** Per token: the sums of the lines, what was withdrawn and what is left to withdraw. */
  totals: (EarningsLine & { withdrawn: string; withdrawable: string })[];
}

export function utcDay(timestamp: string | number | bigint): string {
  return new Date(Number(timestamp) * 1000).toISOString().slice(0, 10);
}

/** Groups credits into payments and keeps those that credited `payee`, with the payee's part as net. */
export function paymentsOf(payee: string, credits: CreditRow[]): Payment[] {
  const me = payee.toLowerCase();
  const groups = new Map<string, CreditRow[]>();
  const payments: Payment[] = [];
  for (const c of credits) {
    if (c.role === ROLE.refund) {
      if (c.payee.toLowerCase() === me) {
        const amount = BigInt(c.amount);
        payments.push({ day: utcDay(c.timestamp), contentId: c.contentId.toLowerCase(), token: c.token.toLowerCase(), ledger: c.ledger, tx: c.tx, kind: "refund", gross: amount, platformFee: 0n, collaborators: 0n, net: amount });
      }
      continue;
    }
    const key = `${c.ledger}:${c.tx}:${c.contentId}:${c.token}`.toLowerCase();
    const group = groups.get(key) ?? [];
    group.push(c);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    const mine = group.filter((c) => c.payee.toLowerCase() === me);
    if (mine.length === 0) continue;
    const sum = (rows: CreditRow[]) => rows.reduce((n, c) => n + BigInt(c.amount), 0n);
    const gross = sum(group);
    const platformFee = sum(group.filter((c) => c.role === ROLE.platform && c.payee.toLowerCase() !== me));
    const net = sum(mine);
    const first = group[0]!;
    payments.push({
      day: utcDay(first.timestamp),
      contentId: first.contentId.toLowerCase(),
      token: first.token.toLowerCase(),
      ledger: first.ledger,
      tx: first.tx,
      kind: "sale",
      gross,
      platformFee,
      collaborators: gross - platformFee - net,
      net,
    });
  }
  return payments.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

interface Sum {
  token: string;
  payments: number;
  gross: bigint;
  platformFee: bigint;
  collaborators: bigint;
  net: bigint;
}

function add(map: Map<string, Sum>, key: string, p: Payment): void {
  const s = map.get(key) ?? { token: p.token, payments: 0, gross: 0n, platformFee: 0n, collaborators: 0n, net: 0n };
  s.payments += 1;
  s.gross += p.gross;
  s.platformFee += p.platformFee;
  s.collaborators += p.collaborators;
  s.net += p.net;
  map.set(key, s);
}

const line = (s: Sum): EarningsLine => ({
  token: s.token,
  payments: s.payments,
  gross: s.gross.toString(),
  platformFee: s.platformFee.toString(),
  collaborators: s.collaborators.toString(),
  net: s.net.toString(),
});

/** "3% platform fee": basis points as a percentage without trailing zeros (250 -> "2.5%"). */
export function percentOf(bps: number): string {
  return `${Number((bps / 100).toFixed(2))}%`;
}

export function explain(platformFeeBps: number | null): string {
  const fee = platformFeeBps === null ? "The platform fee" : `${percentOf(platformFeeBps)} platform fee`;
  return `${fee} comes off each payment, collaborators' shares come out of the rest, and you keep the remainder (net).`;
}

/**
 * Per day and per release lines of `creator`'s payments. `titles` names the creator's releases;
 * `withdrawn` is the indexer's withdrawn amount per token (both ledgers).
 */
export function earningsBreakdown(input: {
  creator: Address | string;
  credits: CreditRow[];
  titles: Map<string, string>;
  withdrawn: Map<string, bigint>;
  platformFeeBps: number | null;
}): EarningsBreakdown {
  const payments = paymentsOf(input.creator, input.credits);
  const days = new Map<string, Sum>();
  const releases = new Map<string, Sum>();
  const totals = new Map<string, Sum>();
  for (const p of payments) {
    add(days, `${p.day}|${p.token}`, p);
    add(releases, `${p.kind === "refund" ? "refund" : p.contentId}|${p.token}`, p);
    add(totals, p.token, p);
  }
  const titleOf = (id: string) =>
    id === "refund" ? "Refunds of your own payment channels" : id === ZERO_ID ? "Pass mints" : (input.titles.get(id) ?? `Release ${id.slice(0, 10)}… (as collaborator)`);
  const tokens = new Set([...totals.keys(), ...input.withdrawn.keys()]);
  return {
    platformFeeBps: input.platformFeeBps,
    explanation: explain(input.platformFeeBps),
    byDay: [...days.entries()].map(([key, s]) => ({ day: key.split("|")[0]!, ...line(s) })),
    byRelease: [...releases.entries()]
      .map(([key, s]) => {
        const id = key.split("|")[0]!;
        return { contentId: id === "refund" ? "" : id, title: titleOf(id), ...line(s) };
      })
      .sort((a, b) => (BigInt(b.net) > BigInt(a.net) ? 1 : BigInt(b.net) < BigInt(a.net) ? -1 : 0)),
    totals: [...tokens].sort().map((token) => {
      const s = totals.get(token) ?? { token, payments: 0, gross: 0n, platformFee: 0n, collaborators: 0n, net: 0n };
      const out = input.withdrawn.get(token) ?? 0n;
      return { ...line(s), withdrawn: out.toString(), withdrawable: (s.net - out).toString() };
    }),
  };
}

/**
 * The breakdown as CSV, one row per day (or release) and token, amounts in whole token units written
 * exactly (no rounding), so the rows add up to the totals. No total row: a spreadsheet sums them.
 */
export function earningsCsv(b: EarningsBreakdown, by: "day" | "release", decimalsOf: (token: string) => number, symbolOf: (token: string) => string): string {
  const amounts = (l: EarningsLine) => [l.gross, l.platformFee, l.collaborators, l.net].map((v) => formatUnits(BigInt(v), decimalsOf(l.token)));
  const head = ["currency", "token", "payments", "gross", "platform_fee", "collaborators", "net"];
  const rows =
    by === "day"
      ? [["day", ...head], ...b.byDay.map((l) => [l.day, symbolOf(l.token), l.token, l.payments, ...amounts(l)])]
      : [["release_id", "title", ...head], ...b.byRelease.map((l) => [l.contentId, l.title, symbolOf(l.token), l.token, l.payments, ...amounts(l)])];
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** `streamvault-earnings-0x1234abcd-per-day-2026-12-03.csv`: whose, which table and when, in safe characters. */
export function earningsCsvFilename(creator: string, by: "day" | "release", at: Date): string {
  return `streamvault-earnings-${creator.toLowerCase().slice(0, 10)}-per-${by}-${at.toISOString().slice(0, 10)}.csv`;
}

// ------------------------------------------------------------------ from the indexer

const CREDIT_FIELDS = "ledger payee token contentId role amount timestamp tx";
/** Transactions per `tx_in` query: the list travels as a variable, so only the page size bounds it. */
const TX_CHUNK = 200;

/**
 * Reads `creator`'s payments from the indexer: the creator's own credits name the transactions,
 * and every credit of those transactions (treasury, collaborators) gives each payment's whole split.
 */
export async function loadEarnings(
  creator: Address,
  titles: Map<string, string>,
  read: {
    pages: <T>(query: string, field: string, variables: Record<string, unknown>) => Promise<T[]>;
    graphql: <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
  },
): Promise<EarningsBreakdown> {
  const payee = creator.toLowerCase();
  const [own, state] = await Promise.all([
    read.pages<{ tx: string }>(
      `query($payee: String!, $after: String) { credits(where: { payee: $payee }, orderBy: "block", orderDirection: "asc", limit: 1000, after: $after) { items { tx } pageInfo { hasNextPage endCursor } } }`,
      "credits",
      { payee },
    ),
    read.graphql<{ platform: { platformFeeBps: number | null } | null; earnings: { items: { token: string; withdrawn: string }[] } }>(
      `query($payee: String!) { platform(id: "ContentAccess") { platformFeeBps } earnings(where: { payee: $payee }, limit: 100) { items { token withdrawn } } }`,
      { payee },
    ),
  ]);
  const txs = [...new Set(own.map((c) => c.tx))];
  const credits: CreditRow[] = [];
  for (let i = 0; i < txs.length; i += TX_CHUNK) {
    credits.push(
      ...(await read.pages<CreditRow>(
        `query($txs: [String!], $after: String) { credits(where: { tx_in: $txs }, limit: 1000, after: $after) { items { ${CREDIT_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
        "credits",
        { txs: txs.slice(i, i + TX_CHUNK) },
      )),
    );
  }
  return earningsBreakdown({
    creator,
    credits,
    titles,
    withdrawn: new Map(state.earnings.items.map((e) => [e.token.toLowerCase(), BigInt(e.withdrawn)])),
    platformFeeBps: state.platform?.platformFeeBps ?? null,
  });
}

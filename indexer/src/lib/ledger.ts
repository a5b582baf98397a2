/** Credited / Withdrawn of both revenue ledgers (ContentAccess and PaymentChannels share RevenueLedger). */
import type { Context } from "ponder:registry";
import { credit, earning, withdrawal } from "ponder:schema";
import { addVolume, countDaily } from "./daily";
import { lc, nameOf, ROLE_NAMES, type Hex } from "./util";

type Ledger = "ContentAccess" | "PaymentChannels";
type Meta = { id: string; block: { number: bigint; timestamp: bigint }; transaction: { hash: Hex } };

const ROLE_COLUMN = ["platformFee", "creatorShare", "collaboratorShare", "refund"] as const;
const ROLE_VOLUME = ["platformFees", "creatorEarnings", "collaboratorEarnings", "refunds"] as const;

function emptyEarning(payee: Hex, token: Hex, block: bigint) {
  return {
    payee,
    token,
    creatorShare: 0n,
    platformFee: 0n,
    collaboratorShare: 0n,
    refund: 0n,
    totalCredited: 0n,
    withdrawn: 0n,
    contentAccessBalance: 0n,
    paymentChannelsBalance: 0n,
    updatedBlock: block,
  };
}

const balanceColumn = (ledger: Ledger) => (ledger === "ContentAccess" ? "contentAccessBalance" : "paymentChannelsBalance");

export async function recordCredit(
  db: Context["db"],
  ledger: Ledger,
  event: Meta & { args: { payee: string; token: string; contentId: string; role: number; amount: bigint } },
) {
  const payee = lc(event.args.payee);
  const token = lc(event.args.token);
  const { role, amount } = event.args;
  const block = event.block.number;
  await db.insert(credit).values({
    id: event.id,
    ledger,
    payee,
    token,
    contentId: lc(event.args.contentId),
    role,
    roleName: nameOf(ROLE_NAMES, role),
    amount,
    block,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  const roleColumn = ROLE_COLUMN[role];
  const balance = balanceColumn(ledger);
  await db
    .insert(earning)
    .values({
      ...emptyEarning(payee, token, block),
      ...(roleColumn ? { [roleColumn]: amount } : {}),
      totalCredited: amount,
      [balance]: amount,
    })
    .onConflictDoUpdate((row) => ({
      ...(roleColumn ? { [roleColumn]: row[roleColumn] + amount } : {}),
      totalCredited: row.totalCredited + amount,
      [balance]: row[balance] + amount,
      updatedBlock: block,
    }));
  const volume = ROLE_VOLUME[role];
  if (volume) await addVolume(db, event.block.timestamp, token, volume, amount);
}

export async function recordWithdrawal(
  db: Context["db"],
  ledger: Ledger,
  event: Meta & { args: { payee: string; token: string; amount: bigint } },
) {
  const payee = lc(event.args.payee);
  const token = lc(event.args.token);
  const { amount } = event.args;
  const block = event.block.number;
  await db.insert(withdrawal).values({
    id: event.id,
    ledger,
    payee,
    token,
    amount,
    block,
    timestamp: event.block.timestamp,
    tx: event.transaction.hash,
  });
  const balance = balanceColumn(ledger);
  await db
    .update(earning, { payee, token })
    .set((row) => ({ withdrawn: row.withdrawn + amount, [balance]: row[balance] - amount, updatedBlock: block }));
  await countDaily(db, event.block.timestamp, "withdrawals");
  await addVolume(db, event.block.timestamp, token, "withdrawn", amount);
}

/**
 * Reading the live placement, and carrying out a plan through a PlacementTarget, journaling every
 * move. Idempotent: each move is re-checked against the live state just before it is done (a copy
 * already there, or already gone, is skipped), and a plan made from the state after an apply is
 * empty, so `optimize --apply` run twice changes nothing the second time.
 */
import type { PlacementJournal, JournalEntry } from "./journal.ts";
import { decideItem, planPlacement } from "./policy.ts";
import type { CurrentPlacement, ItemDecision, PlacementConfig, PlacementItem, PlacementMove } from "./policy.ts";
import type { PlacementTarget } from "./target.ts";

/** Where every piece of `items` lives now and which items are on the CDN, asked from the target. */
export async function readCurrentPlacement(items: readonly PlacementItem[], target: PlacementTarget): Promise<CurrentPlacement> {
  const copies: Record<string, string[]> = {};
  const cdn: Record<string, boolean> = {};
  for (const item of items) {
    for (const piece of item.pieces) copies[piece.pieceCid] ??= await target.copiesOf(piece.pieceCid);
    cdn[item.id] = await target.cdnOf(item.id);
  }
  return { copies, cdn };
}

export interface ApplyOutcome {
  applied: JournalEntry[];
  /** Moves the live state made unnecessary (done meanwhile) or unsafe (would go below the target). */
  skipped: { move: PlacementMove; why: string }[];
  failed: { move: PlacementMove; error: string }[];
}

/**
 * Carry out `moves` in order (planPlacement puts a piece's added copies before its dropped ones),
 * journaling each one after it succeeded. A failed move is reported and the others go on.
 */
export async function applyPlacement(moves: readonly PlacementMove[], target: PlacementTarget, journal: PlacementJournal, options: { by: string; now?: () => Date }): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { applied: [], skipped: [], failed: [] };
  const now = options.now ?? (() => new Date());
  for (const move of moves) {
    try {
      if (move.kind === "add-copy" || move.kind === "drop-copy") {
        const held = await target.copiesOf(move.pieceCid!);
        if (move.kind === "add-copy") {
          if (held.includes(move.backend!)) {
            outcome.skipped.push({ move, why: `already on ${move.backend}` });
            continue;
          }
          if (held.length === 0) throw new Error(`piece ${move.pieceCid} is on no backend: nothing to copy from`);
          await target.addCopy(move.pieceCid!, move.backend!, held.includes(move.source ?? "") ? move.source : held[0]);
        } else {
          if (!held.includes(move.backend!)) {
            outcome.skipped.push({ move, why: `already gone from ${move.backend}` });
            continue;
          }
          // Checked live: never drop below the copies the policy keeps, whatever the plan assumed.
          if (held.length - 1 < (move.targetCopies ?? 1) || held.length <= 1) {
            outcome.skipped.push({ move, why: `only ${held.length} cop${held.length === 1 ? "y" : "ies"} left` });
            continue;
          }
          await target.dropCopy(move.pieceCid!, move.backend!);
        }
      } else {
        const on = move.kind === "cdn-on";
        if ((await target.cdnOf(move.itemId)) === on) {
          outcome.skipped.push({ move, why: `CDN already ${on ? "on" : "off"}` });
          continue;
        }
        await target.setCdn(move.itemId, on);
      }
      outcome.applied.push(journal.append(move, options.by, now()));
    } catch (err) {
      outcome.failed.push({ move, error: (err as Error).message });
    }
  }
  return outcome;
}

export interface OptimizeResult {
  decisions: ItemDecision[];
  moves: PlacementMove[];
  /** Monthly saving of the whole plan (negative: the plan costs more, e.g. CDN for hot items). */
  monthlySaving: number;
  /** Present when the plan was applied. */
  outcome?: ApplyOutcome;
}

/** Plan from the live state and, with `apply`, carry the plan out. */
export async function optimizePlacement(
  items: readonly PlacementItem[],
  plays: Readonly<Record<string, number>>,
  target: PlacementTarget,
  config: PlacementConfig,
  options: { apply: false } | { apply: true; journal: PlacementJournal; by: string; now?: () => Date },
): Promise<OptimizeResult> {
  const current = await readCurrentPlacement(items, target);
  const moves = planPlacement(items, plays, current, config);
  const decisions = items.map((item) => decideItem(item, plays[item.id] ?? 0, config));
  const monthlySaving = moves.reduce((n, m) => n + m.monthlySaving, 0);
  if (!options.apply) return { decisions, moves, monthlySaving };
  const outcome = await applyPlacement(moves, target, options.journal, { by: options.by, now: options.now });
  return { decisions, moves, monthlySaving, outcome };
}

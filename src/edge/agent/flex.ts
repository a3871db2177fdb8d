import type { Logger } from 'pino';
import { createClient } from '../../api/client.js';
import { coreRoutes } from '../../api/routes.js';
import { signTx, type Msg } from '../../codec/tx.js';
import { FLEX_MSG, flexRoutes, slotsOf } from '../../modules/flex/index.js';
import { LedgerError } from '../../util/errors.js';
import { commitInterval, FlexCommitments, proveInterval, type PublicEvent } from '../flex.js';
import type { SampleStore } from '../store.js';
import type { MeterSigner } from './submitter.js';

/**
 * The edge agent's part in demand-response events (issue 14, docs/flex.md "The edge agent"): for each
 * active event a configured meter is enrolled in, it commits every ended interval (Poseidon(value,
 * salt) and the slots' sample fingerprints, from its own store) and then proves the deviation of every
 * committed interval, signing both with the meter key — what `gridledger flex commit` and `flex prove`
 * do by hand. Values and salts stay in the store (FlexCommitments keeps the first salt of an interval,
 * so a retry after a crash commits the same value). Nothing is lost by a restart: the ledger's event
 * says which intervals still need a commitment or a proof, and a repeated one is refused by the chain
 * (FLEX_ALREADY_*), never applied twice.
 */

export interface FlexAutomationOptions {
  node: string;
  store: SampleStore;
  signers: ReadonlyMap<string, MeterSigner>;
  logger: Logger;
  /** An interval is committed this long after it ended (the samples of its last slot are in by then). */
  closeAfterMs: number;
  /**
   * The meter's last sealed slot (the agent has closed it: its samples are all in). An interval is
   * committed only once every slot of it is sealed: a replay or a meter catching up delivers samples
   * of past slots later, and a commitment made before they arrived would fix a wrong value for good.
   */
  sealedThrough: (meterId: string) => number;
  expiresInBlocks: number;
  /** Proofs made per round (proving takes a second or more each; readings must not wait for all of them). */
  maxProofsPerRound: number;
  /** A submitted commitment or proof is not sent again before this long has passed (it is being committed). */
  retryAfterMs: number;
}

export interface FlexRoundResult {
  committed: number;
  proved: number;
}

const INTERVAL_MS = (e: PublicEvent['event']) => (e.intervalPeriod.duration === 'PT1H' ? 3_600_000 : 900_000);

/**
 * The intervals of an event the agent may commit now: pending, without a commitment, ended at least
 * `closeAfterMs` ago, before their deadline, and every slot of them sealed by the agent (its samples
 * are all in: a replay or a meter catching up delivers samples of past slots late, and a commitment
 * made before they arrived would fix a wrong value for good).
 */
export function intervalsDueForCommit(event: PublicEvent, o: { sealedThrough: number; closeAfterMs: number; nowMs: number }): PublicEvent['intervals'] {
  const length = INTERVAL_MS(event.event);
  const intervalMinutes = length === 3_600_000 ? 60 : 15;
  return event.intervals.filter((i) => {
    const { first, count } = slotsOf({ start: event.event.intervalPeriod.start, intervalMinutes }, i.id);
    return i.status === 'pending' && i.commitment === undefined && i.intervalPeriod.start + length + o.closeAfterMs <= o.nowMs && first + count - 1 <= o.sealedThrough && i.deadline > o.nowMs;
  });
}

export class FlexAutomation {
  readonly commitments: FlexCommitments;
  private readonly core;
  private readonly flex;
  /** `event/interval/commit|prove` → not before (ms): what was sent and is presumably on its way into a block. */
  private readonly sent = new Map<string, number>();
  readonly totals: FlexRoundResult = { committed: 0, proved: 0 };
  /** Per meter, slot → event/interval: the slots of the events it is enrolled in, as of the last round. */
  private readonly privateSlots = new Map<string, Map<number, string>>();

  constructor(private readonly o: FlexAutomationOptions) {
    this.commitments = new FlexCommitments(o.store.db);
    this.core = createClient(o.node, coreRoutes);
    this.flex = createClient(o.node, flexRoutes);
  }

  /** One pass over the active events of the given meters; errors of one event are logged, not thrown. */
  async round(meterIds: readonly string[], nowMs: number): Promise<FlexRoundResult> {
    const result: FlexRoundResult = { committed: 0, proved: 0 };
    let proofBudget = this.o.maxProofsPerRound;
    for (const meterId of meterIds) {
      const signer = this.o.signers.get(meterId);
      if (!signer) continue;
      const { events } = await this.flex.events({ query: { meter: meterId, status: 'active' } });
      const slots = this.privateSlots.get(meterId) ?? new Map<number, string>();
      this.privateSlots.set(meterId, slots);
      for (const summary of events) {
        try {
          const event = await this.flex.event({ params: { id: summary.id } });
          if (event.event.meterId !== meterId) continue;
          for (const i of event.intervals) {
            const { first, count } = slotsOf({ start: event.event.intervalPeriod.start, intervalMinutes: INTERVAL_MS(event.event) === 3_600_000 ? 60 : 15 }, i.id);
            for (let slot = first; slot < first + count; slot++) slots.set(slot, `${event.event.id}/${i.id}`);
          }
          result.committed += await this.commitDue(event, meterId, signer, nowMs);
          const proved = await this.proveDue(event, signer, nowMs, proofBudget);
          result.proved += proved;
          proofBudget -= proved;
        } catch (err) {
          this.o.logger.warn({ event: summary.id, meter: meterId, code: err instanceof LedgerError ? err.code : undefined, err: (err as Error).message }, 'flex: event round failed; retried next round');
        }
      }
    }
    this.totals.committed += result.committed;
    this.totals.proved += result.proved;
    return result;
  }

  /** The event/interval a slot of the meter is committed to privately, or undefined (Submitter's privateSlot). */
  privateSlot(meterId: string, slot: number): string | undefined {
    return this.privateSlots.get(meterId)?.get(slot);
  }

  private due(key: string, nowMs: number): boolean {
    return (this.sent.get(key) ?? 0) <= nowMs;
  }

  /** Commits every pending interval that ended (plus the close delay) and is still before its deadline, in one transaction. */
  private async commitDue(event: PublicEvent, meterId: string, signer: MeterSigner, nowMs: number): Promise<number> {
    const due = intervalsDueForCommit(event, { sealedThrough: this.o.sealedThrough(meterId), closeAfterMs: this.o.closeAfterMs, nowMs }).filter((i) => this.due(`${event.event.id}/${i.id}/commit`, nowMs));
    if (due.length === 0) return 0;
    const msgs = due.map((i) => commitInterval(this.o.store, this.commitments, meterId, event.event, i.id, nowMs).msg);
    await this.send(signer, [msgs], () => {
      for (const i of due) this.sent.set(`${event.event.id}/${i.id}/commit`, nowMs + this.o.retryAfterMs);
    });
    this.o.logger.info({ event: event.event.id, meter: meterId, intervals: due.map((i) => i.id) }, 'flex: commitments submitted');
    return due.length;
  }

  /** Proves committed intervals whose commitment is the edge's own, at most `budget` of them, one transaction each. */
  private async proveDue(event: PublicEvent, signer: MeterSigner, nowMs: number, budget: number): Promise<number> {
    if (budget <= 0) return 0;
    const due = event.intervals
      .filter((i) => i.status === 'committed' && i.deadline > nowMs && this.due(`${event.event.id}/${i.id}/prove`, nowMs))
      .filter((i) => this.commitments.get(event.event.id, i.id)?.commitment === i.commitment)
      .slice(0, budget);
    if (due.length === 0) return 0;
    const { chainId } = await this.core.status({});
    const groups: Msg[][] = [];
    for (const i of due) {
      const { deviation, proof } = await proveInterval(this.commitments, chainId, event, i.id);
      groups.push([{ type: FLEX_MSG.prove, value: { event: event.event.id, interval: i.id, deviation, proof } }]);
    }
    await this.send(signer, groups, (g) => this.sent.set(`${event.event.id}/${due[g]!.id}/prove`, nowMs + this.o.retryAfterMs));
    this.o.logger.info({ event: event.event.id, intervals: due.map((i) => i.id) }, 'flex: proofs submitted');
    return due.length;
  }

  /** Signs one transaction per group with consecutive nonces and submits them; `admitted(g)` marks each admitted one; a refusal is an error. */
  private async send(signer: MeterSigner, groups: Msg[][], admitted: (group: number) => void): Promise<void> {
    const status = await this.core.status({});
    let nonce = (await this.core.accountNonce({ params: { address: signer.address } })).next;
    const txs = groups.map((msgs) => signTx({ chainId: status.chainId, sender: signer.address, nonce: nonce++, expiresAtHeight: status.height + this.o.expiresInBlocks, msgs, memo: '' }, signer.signer));
    const { results } = await this.core.submitTxBatch({ body: { txs } });
    results.forEach((r, g) => r.code === 'OK' && admitted(g));
    const refused = results.find((r) => r.code !== 'OK');
    if (refused) throw new LedgerError(refused.code, `flex transaction refused at admission: ${refused.message ?? refused.code}`, 400);
  }
}

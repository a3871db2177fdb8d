import type { Logger } from 'pino';
import { signTx, txHash, type SignedTx } from '../../codec/tx.js';
import { EDGE_ERRORS as E } from '../errors.js';
import type { Signer } from '../../crypto/ed25519.js';
import { LedgerError } from '../../util/errors.js';
import type { ReadingMsg } from '../../modules/metering/messages.js';
import { PRIVATE_PARK_REASON, type Spool, type SpoolEntry, type SpoolKey } from '../spool.js';
import { isTransient, type LedgerLink, type OnChainReading, type TxStatus } from './ledger.js';
import type { ReadingPayload } from './readings.js';
import type { AgentState, InflightTx } from './state.js';

/**
 * Delivers queued readings to the node, each as its own transaction signed with the meter's key.
 *
 * The reading (not a signed transaction) is what waits in the spool: a transaction is signed when it
 * is sent, with the meter account's next nonce and an expiry, and its hash is written down
 * (edge_agent_inflight) *before* it leaves. Each round then asks the node about it:
 *
 *   committed OK                       → delivered (confirm 'committed')
 *   committed METER_READING_DUPLICATE  → the ledger has this slot already: the same reading (an earlier
 *                                        attempt went through, e.g. before a crash) → delivered ('duplicate');
 *                                        a different one → parked as a conflict
 *   committed METER_SLOT_NOT_ENDED     → the ledger's block time is behind: retried with backoff
 *   committed, any other code          → refused by rule: parked (kept, not retried; the code is logged)
 *   pending                            → asked again after pollMs; expired unsent → signed anew
 *   unknown to the node                → signed anew (lost with a restarted node's mempool, or never arrived)
 *   node unreachable / 5xx / 429       → retried with the spool's exponential backoff
 *
 * The slot and seq never change between attempts, and the ledger keeps one reading per meter and slot,
 * so a reading sent twice is on the ledger once; the duplicate check proves the one there is ours.
 */

export interface MeterSigner {
  address: string;
  signer: Signer;
}

export interface SubmitterStats {
  sent: number;
  committed: number;
  duplicates: number;
  parked: number;
  conflicts: number;
  failures: number;
  resigned: number;
}

export interface SubmitterOptions {
  spool: Spool;
  state: AgentState;
  ledger: LedgerLink;
  logger: Logger;
  signers: ReadonlyMap<string, MeterSigner>;
  /** Whether the agent may submit for the meter now (bootstrapped, key matches the ledger). */
  ready(meterId: string): boolean;
  expiresInBlocks: number;
  pollMs: number;
  /** At most this many readings per round. */
  batch?: number;
  /**
   * Why a slot's reading must stay private (it belongs to a demand-response interval the meter commits
   * to instead, flex.ts), or undefined. Such a reading is parked unsent: published, it would make the
   * interval's commitment impossible (FLEX_READING_PUBLIC).
   */
  privateSlot?(meterId: string, slot: number): string | undefined;
}

/** Codes of the node's admission that mean "this transaction (nonce, expiry) is stale: sign anew". */
const RESIGN = new Set(['TX_NONCE_USED', 'TX_NONCE_TOO_HIGH', 'TX_NONCE_PENDING', 'TX_EXPIRED']);
/** Admission codes meaning the node already has exactly this transaction. */
const KNOWN = new Set(['TX_DUPLICATE', 'TX_ALREADY_COMMITTED']);

/** How long readings of a meter that is not ready wait before they are looked at again. */
const UNREADY_RETRY_MS = 10_000;

const keyOf = (e: SpoolEntry | InflightTx): SpoolKey => ({ meterId: e.meterId, slot: e.slot, seq: e.seq });

export class Submitter {
  private readonly stats: SubmitterStats = { sent: 0, committed: 0, duplicates: 0, parked: 0, conflicts: 0, failures: 0, resigned: 0 };
  private chainId: string | undefined;

  constructor(private readonly o: SubmitterOptions) {}

  counters(): SubmitterStats {
    return { ...this.stats };
  }

  /** One round over the due readings; returns how many were due. */
  async round(nowMs: number): Promise<number> {
    const all = this.o.spool.due(nowMs, this.o.batch ?? 500);
    const due = all.filter((e) => this.o.ready(e.meterId) && this.o.signers.has(e.meterId));
    // Readings of a meter that cannot submit now (key problem) step aside, so they do not fill every page.
    for (const e of all) if (!due.includes(e)) this.o.spool.postpone(keyOf(e), nowMs + UNREADY_RETRY_MS);
    this.parkPrivate(due, nowMs);
    if (due.length === 0) return 0;
    let chain: { chainId: string; height: number };
    try {
      chain = await this.o.ledger.chain();
      this.chainId = chain.chainId;
    } catch (err) {
      this.failAll(due, nowMs, err);
      return due.length;
    }
    const toSend: SpoolEntry[] = [];
    await forEachLimited(due, 8, async (entry) => {
      const inflight = this.o.state.inflight(entry.meterId, entry.slot);
      if (!inflight || inflight.seq !== entry.seq) return void toSend.push(entry);
      let status: TxStatus | undefined;
      try {
        status = await this.o.ledger.tx(inflight.txHash);
      } catch (err) {
        return this.fail(entry, nowMs, err);
      }
      if (status === undefined || (status.status === 'pending' && chain.height >= inflight.expiresAtHeight)) {
        this.o.state.transaction(() => this.o.state.dropInflight(entry.meterId, entry.slot));
        this.stats.resigned++;
        return void toSend.push(entry);
      }
      if (status.status === 'pending' || !status.result) return this.o.spool.postpone(keyOf(entry), nowMs + this.o.pollMs);
      await this.settle(entry, status, nowMs);
    });
    if (toSend.length > 0) await this.send(toSend, chain.height, nowMs);
    return due.length;
  }

  /** Parks (and removes from `due`) the unsent readings of slots that must stay private. */
  private parkPrivate(due: SpoolEntry[], nowMs: number): void {
    if (!this.o.privateSlot) return;
    for (let i = due.length - 1; i >= 0; i--) {
      const e = due[i]!;
      const reason = this.o.privateSlot(e.meterId, e.slot);
      if (reason === undefined || this.o.state.inflight(e.meterId, e.slot)) continue;
      this.o.spool.park(keyOf(e), nowMs, `${PRIVATE_PARK_REASON} ${reason}`);
      this.stats.parked++;
      this.o.logger.info({ meter: e.meterId, slot: e.slot, reason }, 'reading kept private (flex event): parked unsent');
      due.splice(i, 1);
    }
  }

  /** Signs and sends readings (one transaction each, consecutive nonces per meter). */
  private async send(entries: SpoolEntry[], height: number, nowMs: number): Promise<void> {
    const signed: Array<{ entry: SpoolEntry; tx: SignedTx; inflight: InflightTx }> = [];
    const byMeter = new Map<string, SpoolEntry[]>();
    for (const e of entries) byMeter.set(e.meterId, [...(byMeter.get(e.meterId) ?? []), e]);
    const nonces = new Map<string, number>();
    await forEachLimited([...byMeter.keys()], 8, async (meterId) => {
      try {
        nonces.set(meterId, await this.o.ledger.nextNonce(this.o.signers.get(meterId)!.address));
      } catch (err) {
        for (const e of byMeter.get(meterId)!) this.fail(e, nowMs, err);
      }
    });
    for (const [meterId, list] of byMeter) {
      const { address, signer } = this.o.signers.get(meterId)!;
      let nonce = nonces.get(meterId);
      if (nonce === undefined) continue;
      for (const entry of list.sort((a, b) => a.slot - b.slot)) {
        const payload = entry.payload as ReadingPayload;
        const tx = signTx({ chainId: this.chainId!, sender: address, nonce, expiresAtHeight: height + this.o.expiresInBlocks, msgs: [payload], memo: '' }, signer);
        signed.push({ entry, tx, inflight: { meterId, slot: entry.slot, seq: entry.seq, txHash: '', nonce, expiresAtHeight: height + this.o.expiresInBlocks, submittedAtMs: nowMs } });
        nonce++;
      }
    }
    if (signed.length === 0) return;
    for (const s of signed) s.inflight.txHash = txHash(s.tx.body);
    // Written down before anything leaves: after a crash the agent asks about these hashes.
    this.o.state.transaction(() => {
      for (const s of signed) this.o.state.putInflight(s.inflight);
    });
    let results;
    try {
      results = await this.o.ledger.submit(signed.map((s) => s.tx));
    } catch (err) {
      for (const s of signed) this.fail(s.entry, nowMs, err);
      return;
    }
    this.stats.sent += signed.length;
    results.forEach((r, i) => {
      const { entry } = signed[i]!;
      if (r.code === 'OK' || KNOWN.has(r.code)) return this.o.spool.postpone(keyOf(entry), nowMs + this.o.pollMs);
      this.o.state.transaction(() => this.o.state.dropInflight(entry.meterId, entry.slot));
      if (r.code === 'MSG_INVALID' || r.code === 'TX_TOO_LARGE' || r.code === 'TX_UNKNOWN_MSG_TYPE') return this.park(entry, nowMs, r.code, r.message);
      if (RESIGN.has(r.code)) this.stats.resigned++;
      this.fail(entry, nowMs, new LedgerError(r.code, r.message));
    });
  }

  /** A committed transaction's result decides the reading's fate. */
  private async settle(entry: SpoolEntry, status: TxStatus, nowMs: number): Promise<void> {
    const result = status.result!;
    const key = keyOf(entry);
    if (result.code === 'OK') {
      this.o.state.transaction(() => {
        this.o.spool.confirm(key, 'committed', nowMs);
        this.o.state.dropInflight(entry.meterId, entry.slot);
      });
      this.stats.committed++;
      return;
    }
    if (result.code === 'METER_READING_DUPLICATE') {
      let onChain: OnChainReading | undefined;
      try {
        onChain = await this.o.ledger.readingAt(entry.meterId, entry.slot);
      } catch (err) {
        return this.fail(entry, nowMs, err);
      }
      const mine = (entry.payload as ReadingPayload).value;
      if (onChain && sameReading(onChain, mine)) {
        this.o.state.transaction(() => {
          this.o.spool.confirm(key, 'duplicate', nowMs);
          this.o.state.dropInflight(entry.meterId, entry.slot);
        });
        this.stats.duplicates++;
        return;
      }
      this.stats.conflicts++;
      const conflict = E.EDGE_READING_CONFLICT(`the ledger holds a different reading for slot ${entry.slot}: ${JSON.stringify(onChain ?? null)}`);
      return this.park(entry, nowMs, conflict.code, conflict.message);
    }
    if (result.code === 'METER_SLOT_NOT_ENDED') {
      this.o.state.transaction(() => this.o.state.dropInflight(entry.meterId, entry.slot));
      return this.fail(entry, nowMs, new LedgerError(result.code, result.message));
    }
    this.park(entry, nowMs, result.code, `${result.message} (tx ${status.hash} at height ${status.height})`);
  }

  private park(entry: SpoolEntry, nowMs: number, code: string, message: string): void {
    this.o.state.transaction(() => {
      this.o.spool.park(keyOf(entry), nowMs, `${code}: ${message}`);
      this.o.state.dropInflight(entry.meterId, entry.slot);
    });
    this.stats.parked++;
    this.o.logger.error({ meter: entry.meterId, slot: entry.slot, seq: entry.seq, code }, `reading parked (refused by the ledger, not retried): ${message}`);
  }

  private fail(entry: SpoolEntry, nowMs: number, err: unknown): void {
    const e = err instanceof LedgerError ? err : E.EDGE_SUBMIT_FAILED((err as Error)?.message ?? String(err));
    const updated = this.o.spool.recordFailure(keyOf(entry), nowMs, `${e.code}: ${e.message}`);
    this.stats.failures++;
    const level = isTransient(e) ? 'info' : 'warn';
    this.o.logger[level]({ meter: entry.meterId, slot: entry.slot, code: e.code, attempts: updated.attempts, retryAtMs: updated.nextAttemptMs }, `reading not delivered yet: ${e.message}`);
  }

  private failAll(entries: SpoolEntry[], nowMs: number, err: unknown): void {
    for (const e of entries) this.fail(e, nowMs, err);
  }
}

/** The reading on the ledger is the one the agent derived (every field the agent sets). */
export function sameReading(onChain: OnChainReading, mine: ReadingMsg): boolean {
  return (
    onChain.meterId === mine.meterId &&
    onChain.slot === mine.slot &&
    onChain.importWh === mine.importWh &&
    onChain.exportWh === mine.exportWh &&
    onChain.importRegisterWh === mine.importRegisterWh &&
    onChain.exportRegisterWh === mine.exportRegisterWh &&
    onChain.seq === mine.seq &&
    onChain.fingerprint === mine.fingerprint &&
    onChain.sampleCount === mine.sampleCount
  );
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

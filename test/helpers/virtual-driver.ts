import type { Block } from '../../src/codec/block.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { ConsensusDriver, type DriverOptions, type TimerHandle, type Timers, type WalPort } from '../../src/runtime/driver.js';
import { account } from './chain.js';
import type { LedgerNodes } from './ledger-node.js';

/**
 * A virtual clock: timers run when the test advances it; `fired` counts the timers that ran. With
 * `earlyMs`, a timer runs that much before its time (as libuv's millisecond timers can), never sooner
 * than 1 ms after it was set.
 */
export class VirtualClock implements Timers {
  at = 1_000_000;
  constructor(private readonly earlyMs = 0) {}
  private readonly due = new Map<number, { when: number; run: () => void }>();
  private next = 0;
  fired = 0;
  now(): number {
    return this.at;
  }
  setTimeout(run: () => void, ms: number): TimerHandle {
    this.due.set(++this.next, { when: this.at + Math.max(1, ms - this.earlyMs), run });
    return this.next;
  }
  clearTimeout(handle: TimerHandle): void {
    this.due.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.at + ms;
    for (;;) {
      const first = [...this.due].filter(([, t]) => t.when <= end).sort((a, b) => a[1].when - b[1].when || a[0] - b[0])[0];
      if (!first) break;
      this.due.delete(first[0]);
      this.at = Math.max(this.at, first[1].when);
      this.fired++;
      first[1].run();
    }
    this.at = end;
  }
}

const memoryWal: WalPort<Block> = { read: () => ({ records: [], droppedTail: false }), append: () => undefined, sync: () => undefined, reset: () => undefined, close: () => undefined };

/**
 * The production driver of a fresh one-validator node on a virtual clock, and `admit(count)`: signed
 * admissions submitted to the node and announced to the driver as the node service wires it (`nonceSkip`
 * leaves a gap before them, so they cannot go into a block yet).
 */
export function driverOn(nodes: LedgerNodes, chainId: string, options: Pick<DriverOptions<Block>, 'timing' | 'observer'> & { wal?: WalPort<Block>; stateTreeWorker?: boolean }, clock = new VirtualClock()) {
  const node = nodes.make({ maxTxs: 100, nonceWindow: 100 }, { stateTreeWorker: options.stateTreeWorker ?? false });
  const driver = new ConsensusDriver<Block>({
    ledger: node,
    timers: clock,
    sign: (bytes) => nodes.validator.signer.sign(bytes),
    ...options,
    wal: options.wal ?? memoryWal,
    onFatal: (err) => {
      throw err;
    },
  });
  let nonce = 0;
  const admit = (count: number, nonceSkip = 0) => {
    nonce += nonceSkip;
    for (let i = 0; i < count; i++) {
      const tx: SignedTx = signTx({ chainId, sender: nodes.operator.address, nonce: nonce++, expiresAtHeight: 1000, msgs: [{ type: 'registry/admit', value: { address: account(`${chainId}-${nonce}`).address, roles: ['consumer'] } }], memo: '' }, nodes.operator.signer);
      node.submitTx(JSON.parse(JSON.stringify(tx)));
    }
    driver.onTxsAdmitted();
  };
  return { node, clock, driver, admit };
}

import { describe, expect, it } from 'vitest';
import { PhaseMeter, threadCpuClock, threadCpuSeconds } from '../../src/util/phase-meter.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { nodeCpu, parseMetrics } from '../../bench/cpu-report.js';
import { gcPauses } from '../../src/util/gc-pauses.js';
import { NodeMetrics } from '../../src/ledger/metrics.js';

/** A CPU clock the test moves by hand (ms). */
function fakeClock() {
  let now = 0;
  return { read: () => now, spend: (ms: number) => void (now += ms) };
}

describe('PhaseMeter', () => {
  it('counts a nested phase once: the outer phase keeps only its own (exclusive) CPU', () => {
    const clock = fakeClock();
    const meter = new PhaseMeter(clock.read);
    meter.time('outer', () => {
      clock.spend(3);
      meter.time('inner', () => clock.spend(5));
      clock.spend(2);
    });
    const s = meter.snapshot();
    expect(s.outer!.seconds).toBeCloseTo(0.005, 9);
    expect(s.inner!.seconds).toBeCloseTo(0.005, 9);
    expect(s.outer!.calls).toBe(1);
  });

  it('divides a phase’s CPU among its shares by their wall time and keeps the rest', () => {
    const clock = fakeClock();
    const meter = new PhaseMeter(clock.read);
    const busyWall = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    meter.time('block', () => {
      meter.share('a', () => busyWall(30));
      meter.share('b', () => busyWall(10));
      meter.share('a', () => busyWall(30));
      clock.spend(100);
    });
    const s = meter.snapshot();
    // a ≈ 60/70 and b ≈ 10/70 of the wall time; together with the rest exactly the phase's 100 ms.
    expect(s.a!.seconds + s.b!.seconds + s.block!.seconds).toBeCloseTo(0.1, 9);
    expect(s.a!.seconds).toBeGreaterThan(3 * s.b!.seconds);
    expect(s.a!.calls).toBe(2);
    expect(s.b!.calls).toBe(1);
  });

  it('a share outside any phase is timed as a phase of its own', () => {
    const clock = fakeClock();
    const meter = new PhaseMeter(clock.read);
    meter.share('alone', () => clock.spend(7));
    expect(meter.snapshot().alone!.seconds).toBeCloseTo(0.007, 9);
  });

  it('still records a phase whose section throws', () => {
    const clock = fakeClock();
    const meter = new PhaseMeter(clock.read);
    expect(() =>
      meter.time('fails', () => {
        clock.spend(4);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(meter.snapshot().fails!.seconds).toBeCloseTo(0.004, 9);
  });

  it.runIf(process.platform === 'linux')('reads this thread’s CPU clock and the process threads from /proc', () => {
    const read = threadCpuClock();
    const t0 = read();
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i;
    expect(x).toBeGreaterThan(0);
    expect(read()).toBeGreaterThan(t0);
    const threads = threadCpuSeconds()!;
    expect(threads.main).toBeGreaterThan(0);
    expect(threads.other).toBeGreaterThanOrEqual(0);
    expect(threads.workers).toBe(0);
  });
});

describe('CPU report of a node (bench)', () => {
  const scrape = (s: string) => ({ url: 'http://n0', values: parseMetrics(s) });
  it('turns two scrapes into CPU per committed transaction, by phase, group and kind', () => {
    const before = scrape(
      [
        '# HELP x',
        'process_cpu_seconds_total 10',
        'gridledger_thread_cpu_seconds{thread="main"} 6',
        'gridledger_thread_cpu_seconds{thread="other"} 4',
        'gridledger_thread_cpu_seconds{thread="verify"} 1',
        'gridledger_txs_committed_total{code="OK"} 100',
        'gridledger_phase_seconds{phase="execute.tx.registry/admit"} 1',
        'gridledger_phase_seconds{phase="state.root"} 1',
        'gridledger_phase_seconds{phase="workers.verify"} 1',
        'gridledger_txs_committed_by_kind_total{kind="registry/admit"} 100',
        'gridledger_blocks_total 10',
        'gridledger_gossip_proposal_copies_total{outcome="sent"} 30',
        'gridledger_gossip_proposal_copies_total{outcome="skipped"} 5',
        'gridledger_consensus_commit_round_bucket{le="0"} 10',
        'gridledger_consensus_commit_round_count 10',
        'gridledger_consensus_timeouts_total{step="propose"} 1',
        'gridledger_gc_pause_seconds{kind="minor"} 3',
        'gridledger_gc_pauses{kind="minor"} 100',
        'gridledger_gc_pause_seconds{kind="major"} 1',
        'gridledger_gc_pauses{kind="major"} 4',
      ].join('\n'),
    );
    const after = scrape(
      [
        'process_cpu_seconds_total 12',
        'gridledger_thread_cpu_seconds{thread="main"} 7.5',
        'gridledger_thread_cpu_seconds{thread="other"} 4.3',
        'gridledger_thread_cpu_seconds{thread="verify"} 1.2',
        'gridledger_txs_committed_total{code="OK"} 1090',
        'gridledger_txs_committed_total{code="TX_X"} 10',
        'gridledger_phase_seconds{phase="execute.tx.registry/admit"} 1.5',
        'gridledger_phase_seconds{phase="state.root"} 1.5',
        'gridledger_phase_seconds{phase="workers.verify"} 1.4',
        'gridledger_txs_committed_by_kind_total{kind="registry/admit"} 1100',
        'gridledger_blocks_total 14',
        'gridledger_gossip_proposal_copies_total{outcome="sent"} 36',
        'gridledger_gossip_proposal_copies_total{outcome="skipped"} 14',
        'gridledger_compact_block_txs_total{source="local"} 1500',
        'gridledger_compact_block_txs_total{source="asked"} 30',
        'gridledger_compact_block_fill_seconds_sum 0.05',
        'gridledger_compact_block_fill_seconds_count 4',
        'gridledger_consensus_commit_round_bucket{le="0"} 13',
        'gridledger_consensus_commit_round_count 14',
        'gridledger_consensus_timeouts_total{step="propose"} 2',
        'gridledger_consensus_timeouts_total{step="prevote"} 1',
        'gridledger_gc_pause_seconds{kind="minor"} 3.032',
        'gridledger_gc_pauses{kind="minor"} 102',
        'gridledger_gc_pause_seconds{kind="major"} 1.015',
        'gridledger_gc_pauses{kind="major"} 5',
      ].join('\n'),
    );
    const r = nodeCpu(before, after);
    expect(r.committedTxs).toBe(1000);
    expect(r.usPerTx.process).toBe(2000);
    expect(r.usPerTx.mainThread).toBe(1500);
    expect(r.usPerTx.otherThreads).toBe(500);
    expect(r.usPerTx.verifyThreads).toBe(200);
    expect(r.usPerTx.phases['state.root']).toBe(500);
    expect(r.usPerTx.groups.admission).toBe(400);
    expect(r.usPerTx.groups.blockExecute).toBe(500);
    // main thread 1.5 s, of which 1 s in main-thread phases (workers.verify runs elsewhere).
    expect(r.usPerTx.groups.mainUnmeasured).toBe(500);
    expect(r.byKind['registry/admit']).toEqual({ txs: 1000, executeUsPerTx: 500 });
    // 2 s of process CPU against 0.4 s of signature checks.
    expect(r.verifyCheckSeconds).toBe(0.4);
    expect(r.ratioToOwnVerify).toBe(5);
    // 4 blocks: 6 copies of their proposals sent, 9 skipped
    expect(r.wire.proposalCopiesPerBlock).toEqual({ sent: 1.5, skipped: 2.25 });
    // of 1,000 committed transactions, 1,500 filled from this node's pools (several rounds or peers) and 30 asked for
    expect(r.wire.compactFilledPerTx).toEqual({ local: 1.5, asked: 0.03 });
    // 4 compact proposals waited, 50 ms in all
    expect(r.wire.compactDelayed).toEqual({ proposals: 4, meanMs: 12.5 });
    // 4 heights decided, one of them after round 0; one propose and one prevote timeout fired
    expect(r.consensus).toEqual({ heights: 4, afterRound0: 1, timeouts: { propose: 1, prevote: 1 } });
    // main-thread GC pauses in the window: 32 ms in 2 scavenges, 15 ms in one mark-compact
    expect(r.gc).toEqual({ pauseUsPerTx: { minor: 32, major: 15 }, pauses: { minor: 2, major: 1 } });
  });
});

describe('garbage-collection pauses (/metrics)', () => {
  it('counts every pause, as an observer of all GC entries sees them, and NodeMetrics reports them by kind', async () => {
    const metrics = new NodeMetrics();
    const total = () => [...gcPauses().values()].reduce((n, t) => n + t.count, 0);
    let seen = 0;
    const reference = new PerformanceObserver((list) => void (seen += list.getEntries().length));
    reference.observe({ entryTypes: ['gc'] });
    const before = total();
    // Garbage in bursts, yielding rarely: the observers are then handed several entries at a time.
    const keep: object[] = [];
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 20_000; i++) {
        keep.push({ text: `value ${i} ${round}`, numbers: [i, round] });
        if (keep.length > 40_000) keep.splice(0, 10_000);
      }
      if (round % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    reference.disconnect();
    expect(seen).toBeGreaterThan(5);
    expect(total() - before).toBe(seen);
    const text = await metrics.registry.metrics();
    const minor = parseMetrics(text).get('gridledger_gc_pauses{kind="minor"}');
    expect(minor).toBeGreaterThanOrEqual(gcPauses().get('minor')!.count - 1);
    expect(parseMetrics(text).get('gridledger_gc_pause_seconds{kind="minor"}')).toBeGreaterThan(0);
  });
});

import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreRoutes } from '../api/routes.js';
import { call, commandGroup, customCommand, globals, opt, print, submit } from '../cli/kit.js';
import { resolveHome } from '../home/home.js';
import { fetchEvent, FLEX_MSG } from '../modules/flex/index.js';
import { closeProver } from '../zk/prove.js';
import { EDGE_ERRORS as E } from './errors.js';
import { commitInterval, FlexCommitments, privateView, proveInterval, type PublicEvent } from './flex.js';
import { SampleStore } from './store.js';

/**
 * `gridledger flex commit|prove|private`: the edge side of a demand-response event (docs/flex.md).
 * Each reads the meter's edge store (--db, default HOME/edge/METER.db), where the measured values and
 * salts stay; only commitments, sample fingerprints, deviations and proofs leave it.
 */

const common = {
  event: opt.text('event id, e.g. ev1', { required: true, arg: 'id' }),
  db: opt.text("the meter's edge store (default HOME/edge/METER.db)", { arg: 'file' }),
};

function openStores(cmd: Command, event: PublicEvent, db: string | undefined): { store: SampleStore; commitments: FlexCommitments; meterId: string } {
  const meterId = event.event.meterId;
  if (meterId === undefined) throw E.EDGE_BAD_OPTION(`event ${event.event.id} has no enrolled meter yet`);
  const store = new SampleStore(db ?? join(resolveHome(globals(cmd).home), 'edge', `${meterId}.db`));
  return { store, commitments: new FlexCommitments(store.db), meterId };
}

async function runCommit(o: { event: string; db?: string; interval?: number }, cmd: Command): Promise<void> {
  const event = await fetchEvent(cmd, o.event);
  const { store, commitments, meterId } = openStores(cmd, event, o.db);
  try {
    const now = Date.now();
    const due = event.intervals.filter((i) => (o.interval === undefined ? i.status === 'pending' && i.deadline > now && i.intervalPeriod.start + (event.event.intervalPeriod.duration === 'PT1H' ? 3_600_000 : 900_000) <= now : i.id === o.interval));
    if (due.length === 0) throw E.EDGE_BAD_OPTION(`event ${o.event} has no ended, uncommitted interval${o.interval !== undefined ? ` ${o.interval}` : ''} to commit`);
    const msgs = due.map((i) => commitInterval(store, commitments, meterId, event.event, i.id, now).msg);
    await submit(cmd, msgs);
  } finally {
    store.close();
  }
}

/** The intervals `flex prove` works on: the one asked for, or every committed one whose commitment is this edge's. */
function intervalsToProve(event: PublicEvent, commitments: FlexCommitments, interval: number | undefined): number[] {
  if (interval !== undefined) return [interval];
  const ids = event.intervals.filter((i) => i.status === 'committed' && commitments.get(event.event.id, i.id)?.commitment === i.commitment).map((i) => i.id);
  if (ids.length === 0) throw E.EDGE_BAD_OPTION(`event ${event.event.id} has no committed interval of this edge store left to prove`);
  return ids;
}

async function runProve(o: { event: string; db?: string; interval?: number; out?: string; offline?: boolean }, cmd: Command): Promise<void> {
  if (o.interval === undefined && (o.out !== undefined || o.offline)) throw E.EDGE_BAD_OPTION('--out and --offline prove one interval: give --interval');
  const event = await fetchEvent(cmd, o.event);
  const { store, commitments } = openStores(cmd, event, o.db);
  try {
    const { chainId } = await call(cmd, coreRoutes.status, {});
    // One process proves them all: the prover (snarkjs, the circuit and its key) is loaded once.
    for (const interval of intervalsToProve(event, commitments, o.interval)) {
      const { deviation, proof } = await proveInterval(commitments, chainId, event, interval);
      const msg = { type: FLEX_MSG.prove, value: { event: o.event, interval, deviation, proof } };
      if (o.out !== undefined) writeFileSync(o.out, JSON.stringify(msg.value, null, 2) + '\n');
      if (o.offline) print(cmd, msg.value, (v) => `interval ${v.interval}: deviation ${v.deviation} Wh, proof ${o.out ? `written to ${o.out}` : 'made'}`);
      else await submit(cmd, [msg]);
    }
  } finally {
    store.close();
    await closeProver();
  }
}

async function runPrivate(o: { event: string; db?: string }, cmd: Command): Promise<void> {
  const event = await fetchEvent(cmd, o.event);
  const { store, commitments } = openStores(cmd, event, o.db);
  try {
    const view = privateView(store, commitments, event, Date.now());
    print(cmd, view, (v) =>
      [
        `event ${v.event} (meter ${v.meterId}) — private: measured values from the local edge store`,
        ...v.intervals.map(
          (i) =>
            `  #${String(i.interval).padStart(2)} requested ${String(i.requestedWh).padStart(8)} Wh  measured ${i.measuredWh === null ? '       -' : String(i.measuredWh).padStart(8)} Wh  ${i.status.padEnd(13)}${i.penalty !== null ? ` penalty ${i.penalty} µ` : ''}${i.flagged ? `  FLAGGED: ${i.problems.join('; ')}` : ''}`,
        ),
        v.flagged > 0 ? `${v.flagged} interval(s) no longer match the ledger` : 'every committed interval matches the ledger',
      ].join('\n'),
    );
    if (view.flagged > 0) throw E.EDGE_FLEX_DATA_MISMATCH(`intervals ${view.intervals.filter((i) => i.flagged).map((i) => i.interval).join(', ')} of ${view.event} no longer match the ledger`);
  } finally {
    store.close();
  }
}

/** Adds `flex commit`, `flex prove` and `flex private` to the program. */
export function registerFlexEdgeCli(program: Command): void {
  const flex = commandGroup(program, 'flex', "demand response at the meter's edge: commitments, proofs, the private view");
  customCommand(flex, 'commit', {
    description: 'commit the ended intervals of an event from the edge store (signed with the meter key, --from): Poseidon(value, salt) and the sample fingerprints',
    options: { ...common, interval: opt.int('only this interval', { arg: 'i' }) },
    run: (o, cmd) => runCommit(o, cmd),
  });
  customCommand(flex, 'prove', {
    description: 'prove the deviation of an interval (default: of every committed one) from the edge store and submit it, one transaction each (--from: the prosumer or the meter key)',
    options: { ...common, interval: opt.int('only this interval', { arg: 'i' }), out: opt.text('also write the proof message here', { arg: 'file' }), offline: opt.flag('only make (and write) the proof; do not submit it') },
    run: (o, cmd) => runProve(o, cmd),
  });
  customCommand(flex, 'private', {
    description: "the prosumer's private view: requested vs measured per interval from the local edge store; flags intervals whose stored data no longer matches the ledger (exit 1)",
    options: common,
    run: (o, cmd) => runPrivate(o, cmd),
  });
}

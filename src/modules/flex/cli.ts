import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { call, CLI_ERRORS, opt, pageText, parseTime, queryCommand, signerAddress, txCommand } from '../../cli/kit.js';
import { loadVerifyingKey } from '../../zk/artifacts.js';
import { verifyingKeyFromSnarkjs, verifyingKeyId, type Groth16VerifyingKey } from '../../zk/encoding.js';
import { MAX_WH, MSG, PROOF_SYSTEM } from './messages.js';
import { flexRoutes } from './routes.js';

/**
 * CLI of the flex module: `tx flex register-key|program|event|enrol|withdraw|prove` and
 * `query flex keys|programs|events|event`. The edge side (commitments from the sample store,
 * proving, the prosumer's private view) is `gridledger flex …` in src/edge/flex-cli.ts.
 */

function amount(value: string, flag: string): string {
  if (!/^(0|[1-9][0-9]{0,23})$/.test(value)) throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects whole micro-units, got ${JSON.stringify(value)}`);
  return value;
}


/** "500,400,0" → [500, 400, 0] (Wh per interval). */
function requested(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) > MAX_WH)) throw CLI_ERRORS.CLI_INVALID_OPTION(`--requested expects comma-separated whole Wh below 2^40, got ${JSON.stringify(value)}`);
  return parts.map(Number);
}

/** JSON text, @FILE or - (stdin). */
export function readJsonArg(value: string, flag: string): unknown {
  const text = value === '-' ? readFileSync(0, 'utf8') : value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects JSON, @FILE or - (stdin)`);
  }
}

/** A verifying key file in snarkjs's form (vkey.json) or the registered form; default: the versioned deviation key. */
function keyFrom(file: string | undefined): Groth16VerifyingKey {
  if (file === undefined) return loadVerifyingKey('deviation');
  const json = readJsonArg(`@${file}`, '--file') as { protocol?: string; curve?: string };
  return json.curve === 'bn128' ? verifyingKeyFromSnarkjs(json) : (json as Groth16VerifyingKey);
}

const eventOpt = opt.text('event id, e.g. ev1', { required: true, arg: 'id' });

function registerTx(tx: Command): void {
  const flex = tx.command('flex').description('demand-response flexibility: verifying keys, programs, events, enrolment, proofs');
  txCommand(flex, 'register-key', {
    description: 'register a Groth16 verifying key of the deviation circuit (operator); default: the versioned zk/artifacts/deviation/vkey.json',
    options: { file: opt.text("vkey.json (snarkjs) or the registered form", { arg: 'file' }) },
    msgs: (o) => [{ type: MSG.registerKey, value: { circuit: 'deviation', key: keyFrom(o.file) } }],
  });
  txCommand(flex, 'program', {
    description: 'create a program (aggregator): interval length, asset, reward per interval, penalty per Wh of deviation, verifying key',
    options: {
      name: opt.text('program name', { required: true }),
      intervalMinutes: opt.choice(['15', '60'] as const)('interval length in minutes', { default: '60' }),
      asset: opt.text('payments asset, e.g. NOK@microgrid', { required: true, arg: 'asset' }),
      rewardPerInterval: opt.text('reward per interval in micro-units', { required: true, arg: 'µ' }),
      penaltyPerWh: opt.text('penalty per Wh of deviation in micro-units (capped at the reward per interval)', { required: true, arg: 'µ' }),
      verifyingKey: opt.text('verifying key id (default: the id of the versioned deviation key)', { arg: 'id' }),
    },
    msgs: (o) => [
      {
        type: MSG.program,
        value: {
          name: o.name,
          intervalMinutes: Number(o.intervalMinutes),
          asset: o.asset,
          rewardPerInterval: amount(o.rewardPerInterval, '--reward-per-interval'),
          penaltyPerWh: amount(o.penaltyPerWh, '--penalty-per-wh'),
          proofSystem: PROOF_SYSTEM,
          verifyingKey: o.verifyingKey ?? verifyingKeyId(loadVerifyingKey('deviation')),
        },
      },
    ],
  });
  txCommand(flex, 'event', {
    description: "offer an event to a prosumer (aggregator): the requested profile per interval; the whole reward goes into escrow (see the flex.event_created event for the id)",
    options: {
      program: opt.text('program id, e.g. p1', { required: true, arg: 'id' }),
      prosumer: opt.address('the prosumer', { required: true }),
      payloadType: opt.choice(['IMPORT_ENERGY', 'EXPORT_ENERGY'] as const)('what the requested values are', { default: 'IMPORT_ENERGY' }),
      start: opt.text('start of the first interval: ISO time or ms since the epoch', { required: true, arg: 'time' }),
      requested: opt.text('requested Wh per interval, comma-separated', { required: true, arg: 'Wh,Wh,…' }),
      name: opt.text('event name (OpenADR eventName)'),
    },
    msgs: (o) => [{ type: MSG.event, value: { program: o.program, prosumer: o.prosumer, payloadType: o.payloadType, start: parseTime(o.start, '--start'), requestedWh: requested(o.requested), ...(o.name ? { memo: o.name } : {}) } }],
  });
  txCommand(flex, 'enrol', {
    description: 'accept an event (the prosumer) and name the meter that measures it',
    options: { event: eventOpt, meter: opt.text('meter id', { required: true, arg: 'id' }) },
    msgs: (o) => [{ type: MSG.enrol, value: { event: o.event, meterId: o.meter } }],
  });
  txCommand(flex, 'withdraw', {
    description: 'withdraw an event before the prosumer enrols (aggregator): the deposit returns',
    options: { event: eventOpt },
    msgs: (o) => [{ type: MSG.withdraw, value: { event: o.event } }],
  });
  txCommand(flex, 'prove', {
    description: 'submit the deviation of an interval with its proof (prosumer or meter); `gridledger flex prove` makes both from the edge store',
    options: {
      event: eventOpt,
      interval: opt.int('interval index', { required: true, arg: 'i' }),
      deviation: opt.int('|requested − measured| Wh', { required: true, arg: 'Wh' }),
      proof: opt.text('the proof: JSON, @FILE or - (stdin); a file written by `gridledger flex prove --out` also carries the deviation', { required: true, arg: 'json' }),
    },
    msgs: (o) => {
      const given = readJsonArg(o.proof, '--proof') as { proof?: unknown };
      return [{ type: MSG.prove, value: { event: o.event, interval: o.interval, deviation: o.deviation, proof: given.proof ?? given } }];
    },
  });
}

const statusChoices = ['offered', 'active', 'completed', 'forfeited', 'withdrawn', 'expired', 'open', 'closed', 'all'] as const;

function registerQueries(query: Command): void {
  const flex = query.command('flex').description('demand-response programs, events, verifying keys');
  queryCommand(flex, 'keys', { description: 'registered verifying keys', route: flexRoutes.keys, input: () => ({}), text: (v) => v.keys.map((k) => `${k.id}  ${k.circuit}  by ${k.registeredBy} at height ${k.at.height}`).join('\n') || '(none)' });
  queryCommand(flex, 'programs', {
    description: 'programs, newest first',
    options: { limit: opt.int('at most', { default: '100' }) },
    route: flexRoutes.programs,
    input: (o) => ({ query: { limit: o.limit } }),
    text: (v) => v.programs.map((p) => `${p.id.padEnd(5)} ${p.name}  ${p.intervalMinutes} min  reward ${p.rewardPerInterval} µ/interval  penalty ${p.penaltyPerWh} µ/Wh  ${p.asset}`).join('\n') || '(none)',
  });
  queryCommand(flex, 'program', { description: 'one program', args: ['id'], route: flexRoutes.program, input: (_o, [id]) => ({ params: { id: id! } }) });
  queryCommand(flex, 'events', {
    description: 'events, newest first (of a party, or a meter)',
    options: {
      party: opt.address('aggregator or prosumer'),
      mine: opt.flag('events of the --from key'),
      meter: opt.text('enrolled meter', { arg: 'id' }),
      status: opt.choice(statusChoices)('which', { default: 'all' }),
      after: opt.text("all events: continue after this cursor (the previous answer's next)", { arg: 'cursor' }),
      limit: opt.int('at most', { default: '100' }),
    },
    route: flexRoutes.events,
    input: (o, _a, cmd) => ({ query: { ...(o.party ? { party: o.party } : o.mine ? { party: signerAddress(cmd) } : {}), ...(o.meter ? { meter: o.meter } : {}), status: o.status, ...(o.after ? { after: o.after } : {}), limit: o.limit } }),
    text: (v) => pageText(v.events.map((e) => `${e.id.padEnd(6)} ${e.status.padEnd(10)} ${e.intervalCount} × ${e.intervalPeriod.duration} from ${e.intervalPeriod.start}  deposit ${e.deposit} µ ${e.asset}  remaining ${e.remaining}  ${e.aggregator} → ${e.prosumer}`), v),
  });
  queryCommand(flex, 'event', {
    description: 'one event: intervals with requested values, commitments, proved deviations and penalties; the escrow over the event',
    args: ['id'],
    route: flexRoutes.event,
    input: (_o, [id]) => ({ params: { id: id! } }),
    text: (v) =>
      [
        `${v.event.id} (${v.event.programID}) ${v.event.status}  ${v.event.payloadDescriptors[0]!.payloadType}  deposit ${v.event.deposit} µ, remaining ${v.event.remaining}, to aggregator ${v.event.paidToAggregator}, to prosumer ${v.event.paidToProsumer}`,
        ...v.intervals.map((i) => `  #${String(i.id).padStart(2)} requested ${String(i.payloads[0]!.values[0]).padStart(8)} Wh  ${i.status.padEnd(13)}${i.deviationWh !== undefined ? ` deviation ${i.deviationWh} Wh` : ''}${i.toAggregator !== undefined ? ` → aggregator ${i.toAggregator} µ` : ''}${i.settledAt ? ` tx ${i.settledAt.txHash || '(end of block)'}` : ''}`),
      ].join('\n'),
  });
}

/** The public event with its intervals, as the node serves it (used by the edge commands too). */
export function fetchEvent(cmd: Command, id: string) {
  return call(cmd, flexRoutes.event, { params: { id } });
}

export function registerFlexCli({ tx, query }: { tx: Command; query: Command }): void {
  registerTx(tx);
  registerQueries(query);
}

import type { Command } from 'commander';
import { CLI_ERRORS, opt, pageText, queryCommand, resolveAddress, txCommand } from '../../cli/kit.js';
import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { E } from './errors.js';
import { MSG, type ParticipantInput } from './messages.js';
import { dayHoldings, participantHoldings, plantSegmentsQuery } from './queries.js';
import { sharesRoutes } from './routes.js';
import { requirePlant } from './rules.js';
import { getPlant, listPlants, plantsOfMeter, plantsOfUtility, readLog, type Plant } from './state.js';

const routes = [
  queryRoute(sharesRoutes.getPlant, (ctx, { params }) => requirePlant(ctx.store, params.plant)),
  queryRoute(sharesRoutes.listPlants, (ctx, { query }) => {
    if (query.utility && query.meter) throw E.SHARES_FILTERS_EXCLUSIVE('give utility= or meter=, not both');
    if (query.meter) {
      const page = plantsOfMeter(ctx.store, query.meter, query, ctx.stateVersion);
      return { plants: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
    }
    if (query.utility) {
      const ids = plantsOfUtility(ctx.store, query.utility, query);
      return { plants: ids.map((id) => getPlant(ctx.store, id)).filter((p): p is Plant => p !== undefined) };
    }
    return { plants: listPlants(ctx.store, { after: query.after, limit: query.limit }) };
  }),
  queryRoute(sharesRoutes.plantHoldings, (ctx, { params, query }) => dayHoldings(ctx.store, params.plant, query.day)),
  queryRoute(sharesRoutes.participantHoldings, (ctx, { params, query }) => participantHoldings(ctx.store, params.plant, params.address, query.fromSlot, query.toSlot)),
  queryRoute(sharesRoutes.plantSegments, (ctx, { params, query }) => plantSegmentsQuery(ctx.store, params.plant, query.fromSlot, query.toSlot)),
  queryRoute(sharesRoutes.plantTransfers, (ctx, { params, query }) => {
    requirePlant(ctx.store, params.plant);
    return { entries: readLog(ctx.store, params.plant, query) };
  }),
];

/** ADDRESS:UTILITY:PPM[:METER] (addresses or key names) — the meter id may itself contain ":". */
export function parseParticipant(value: string, resolve: (v: string) => string = (v) => v): ParticipantInput {
  const parts = value.split(':');
  const [address, utility, ppmText] = parts;
  const meter = parts.length > 3 ? parts.slice(3).join(':') : undefined;
  const fail = () => CLI_ERRORS.CLI_INVALID_OPTION(`--participant expects ADDRESS:UTILITY:PPM[:METER], got ${JSON.stringify(value)}`);
  if (!address || !utility || ppmText === undefined || !/^-?\d+$/.test(ppmText)) throw fail();
  return { address: resolve(address), utility: resolve(utility), ppm: Number(ppmText), ...(meter ? { meter } : {}) };
}

const plant = opt.text('plant id', { required: true, arg: 'id' });
const participants = opt.list('ADDRESS:UTILITY:PPM[:METER] (addresses or key names), repeat per participant', { required: true, arg: 'spec' });
const participantsOf = (cmd: Command, specs: string[]) => specs.map((p) => parseParticipant(p, (v) => resolveAddress(cmd, v, '--participant')));
const slotRange = { fromSlot: opt.slot('first slot (index or ISO time)', { required: true }), toSlot: opt.slot('end slot, exclusive (index or ISO time)', { required: true }) };
/** Portions change only for slots that have not begun. */
const futureSlotRange = { ...slotRange, fromSlot: opt.slot('first slot, not begun (index or ISO time)', { required: true, future: true }) };

function registerCli({ tx, query }: { tx: Command; query: Command }): void {
  const txPlant = tx.command('plant').description('shared PV plants: registration, distribution keys, portion transfers');
  txCommand(txPlant, 'register', {
    description: 'register a shared plant (utility or grid-operator); shares in ppm must sum to 1,000,000',
    options: {
      plant,
      name: opt.text('display name (default: the id)'),
      peakPower: opt.int('peak power in W', { default: '10000', arg: 'W' }),
      timezone: opt.text('IANA time zone of the plant (local days)', { required: true, arg: 'tz' }),
      productionMeter: opt.text('meter id of the production meter', { required: true, arg: 'id' }),
      participant: participants,
    },
    msgs: (o, cmd) => [
      { type: MSG.registerPlant, value: { plant: o.plant, name: o.name ?? o.plant, peakPowerW: o.peakPower ?? 10000, timezone: o.timezone, productionMeter: o.productionMeter, participants: participantsOf(cmd, o.participant) } },
    ],
  });
  txCommand(txPlant, 'set-key', {
    description: 'change participants and the default key from a future local day on (registering operator only)',
    options: { plant, fromDay: opt.text('first local day of the new key', { required: true, arg: 'YYYY-MM-DD' }), participant: participants },
    msgs: (o, cmd) => [{ type: MSG.setKey, value: { plant: o.plant, fromDay: o.fromDay, participants: participantsOf(cmd, o.participant) } }],
  });
  txCommand(txPlant, 'transfer', {
    description: 'transfer ppm of your portion to another participant for the slots [from, to)',
    options: { plant, to: opt.address('recipient', { required: true }), ppm: opt.int('amount in ppm (1,000,000 = the whole plant)', { required: true, signed: true }), ...futureSlotRange },
    msgs: (o) => [{ type: MSG.transfer, value: { plant: o.plant, to: o.to, ppm: o.ppm, fromSlot: o.fromSlot, toSlot: o.toSlot } }],
  });

  const qPlant = query.command('plant').description('shared PV plants, holdings and transfer history');
  queryCommand(qPlant, 'show', {
    description: 'a plant and its distribution keys',
    options: { plant },
    route: sharesRoutes.getPlant,
    input: (o) => ({ params: { plant: o.plant } }),
    text: (p) =>
      [
        `plant       ${p.id} (${p.name}), ${p.peakPowerW} W peak, ${p.timezone}`,
        `production  ${p.productionMeter}`,
        `operator    ${p.operator}`,
        ...p.keys.flatMap((k) => [`key from ${k.fromDay ?? 'registration'} (slot ${k.fromSlot}):`, ...k.participants.map((x) => `  ${x.address}  ${String(x.ppm).padStart(7)} ppm  utility ${x.utility}${x.meter ? `  meter ${x.meter}` : ''}`)]),
      ].join('\n'),
  });
  queryCommand(qPlant, 'list', {
    description: 'registered plants',
    options: {
      utility: opt.address('only plants where this utility bills someone'),
      meter: opt.text("only plants whose record names this meter (production or a participant's meter)", { arg: 'id' }),
      after: opt.text('page after this plant id', { arg: 'id' }),
      limit: opt.int('page size (1–500)', { default: '100' }),
    },
    route: sharesRoutes.listPlants,
    input: (o) => ({ query: { utility: o.utility, meter: o.meter, after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.plants.map((p) => `${p.id}  ${p.timezone}  ${p.keys[p.keys.length - 1]!.participants.length} participants  ${p.name}`), v),
  });
  queryCommand(qPlant, 'holdings', {
    description: "holdings table of a plant for a local day: each slot and every participant's ppm",
    options: { plant, day: opt.text('local calendar day in the plant timezone', { required: true, arg: 'YYYY-MM-DD' }) },
    route: sharesRoutes.plantHoldings,
    input: (o) => ({ params: { plant: o.plant }, query: { day: o.day } }),
    text: (v) =>
      [
        `${v.plant} ${v.day} (${v.timezone}): ${v.slots} slots from ${v.firstSlot}`,
        ...v.participants.map((a, i) => `  [${i}] ${a}`),
        `slot      local start                ${v.participants.map((_, i) => `[${i}]`.padStart(9)).join('')}`,
        ...v.rows.map((r) => `${r.slot}  ${r.local}  ${r.ppm.map((x) => String(x).padStart(9)).join('')}`),
      ].join('\n'),
  });
  queryCommand(qPlant, 'participant', {
    description: "one participant's holdings over [from, to)",
    options: { plant, address: opt.address('participant', { required: true }), ...slotRange },
    route: sharesRoutes.participantHoldings,
    input: (o) => ({ params: { plant: o.plant, address: o.address }, query: { fromSlot: o.fromSlot, toSlot: o.toSlot } }),
    text: (v) => v.segments.map((s) => `slots ${s.fromSlot}–${s.toSlot - 1} (${s.toSlot - s.fromSlot})  ${s.ppm} ppm`).join('\n'),
  });
  queryCommand(qPlant, 'transfers', {
    description: 'history of a plant: registration, key changes and transfers, newest first',
    options: { plant, address: opt.address('only entries involving this participant'), limit: opt.int('entries (1–500)', { default: '100' }) },
    route: sharesRoutes.plantTransfers,
    input: (o) => ({ params: { plant: o.plant }, query: { address: o.address, limit: o.limit } }),
    text: (v) =>
      v.entries
        .map((e) => (e.kind === 'transfer' ? `#${e.seq} h${e.height}  ${e.from} → ${e.to}  ${e.ppm} ppm  slots [${e.fromSlot}, ${e.toSlot})` : `#${e.seq} h${e.height}  ${e.kind}${e.fromDay ? ` from ${e.fromDay}` : ''} by ${e.by}`))
        .join('\n') || '(none)',
  });
}

export const sharesSurface: ModuleSurface = { routes, cli: registerCli };

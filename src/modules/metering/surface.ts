import type { Command } from 'commander';
import { call, CLI_ERRORS, customCommand, opt, pageText, queryCommand, signerAddress, submit, txCommand } from '../../cli/kit.js';
import { officialRows, readingRows, report, submitRows } from './cli/bulk.js';
import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { slotRange, withIso } from '../../surface/query.js';
import { slotIso } from '../../util/slots.js';
import { E } from './errors.js';
import { MSG } from './messages.js';
import { meteringRoutes } from './routes.js';
import { getMeter, listDifferences, listMeters, listReadings, meterIdByAddress, meters, readSeries, sumDifferences, type Meter } from './state.js';
import { API_ERRORS } from '../../api/errors.js';
import { isValidTimeZone, localDay } from '../../util/localtime.js';
import { parseSlot, slotOfMs } from '../../util/slots.js';
import type { KVStore } from '../../app/state.js';

function requireMeter(store: KVStore, meterId: string): Meter {
  const meter = getMeter(store, meterId);
  if (!meter) throw E.METER_NOT_FOUND(`meter ${meterId} is not registered`);
  return meter;
}

/** The slots of one slot or one local day (a day has 92–100 slots). */
function reportRange(query: { slot?: string; day?: string; timezone?: string }): { fromSlot: number; toSlot: number } {
  if ((query.slot === undefined) === (query.day === undefined)) throw API_ERRORS.REQUEST_INVALID('give either slot or day');
  if (query.slot !== undefined) {
    if (query.timezone !== undefined) throw API_ERRORS.REQUEST_INVALID('timezone goes with day');
    const slot = parseSlot(query.slot);
    return { fromSlot: slot, toSlot: slot + 1 };
  }
  const tz = query.timezone ?? 'UTC';
  if (!isValidTimeZone(tz)) throw API_ERRORS.REQUEST_INVALID(`${JSON.stringify(tz)} is not an IANA time zone`);
  let day;
  try {
    day = localDay(tz, query.day!);
  } catch (e) {
    throw API_ERRORS.REQUEST_INVALID(e instanceof Error ? e.message : 'invalid day');
  }
  return { fromSlot: day.firstSlot, toSlot: day.firstSlot + day.slots };
}

/**
 * Meters lacking readings in a slot range, from the packed day series (one or two rows per meter).
 * Only slots that have ended at the latest block count; bounded by `limit` meters per call.
 */
export function missingReadings(store: KVStore, now: number, query: { slot?: string; day?: string; timezone?: string; after?: string; limit: number }) {
  const { fromSlot, toSlot } = reportRange(query);
  const endedTo = Math.min(toSlot, Math.max(fromSlot, slotOfMs(now)));
  const page = meters.page(store, { after: query.after, limit: query.limit });
  const out = [];
  for (const meter of page.items) {
    const present = new Set(readSeries(store, meter.meterId, fromSlot, endedTo).map((r) => r.slot));
    const missingSlots: number[] = [];
    for (let s = fromSlot; s < endedTo; s++) if (!present.has(s)) missingSlots.push(s);
    if (missingSlots.length > 0) out.push({ meterId: meter.meterId, address: meter.address, missing: missingSlots.length, missingSlots });
  }
  return { fromSlot, toSlot, endedSlots: endedTo - fromSlot, scanned: page.items.length, meters: out, ...(page.next !== undefined ? { next: page.next } : {}) };
}

const routes = [
  queryRoute(meteringRoutes.getMeter, (ctx, { params }) => ({ meter: requireMeter(ctx.store, params.meterId) })),
  queryRoute(meteringRoutes.meterByAddress, (ctx, { params }) => {
    const id = meterIdByAddress(ctx.store, params.address);
    if (id === undefined) throw E.METER_NOT_FOUND(`no meter signs with ${params.address}`);
    return { meter: requireMeter(ctx.store, id) };
  }),
  queryRoute(meteringRoutes.listMeters, (ctx, { query }) => ({ meters: listMeters(ctx.store, query) })),
  queryRoute(meteringRoutes.listReadings, (ctx, { params, query }) => {
    requireMeter(ctx.store, params.meterId);
    const { fromSlot, toSlot } = slotRange(query);
    return { meterId: params.meterId, readings: listReadings(ctx.store, params.meterId, fromSlot, toSlot, query.limit).map(withIso) };
  }),
  queryRoute(meteringRoutes.listFingerprints, (ctx, { params, query }) => {
    requireMeter(ctx.store, params.meterId);
    const { fromSlot, toSlot } = slotRange(query);
    const scanned = listReadings(ctx.store, params.meterId, fromSlot, toSlot, query.limit);
    const fingerprints = scanned.flatMap((r) =>
      r.fingerprint === undefined ? [] : [{ slot: r.slot, slotIso: slotIso(r.slot), fingerprint: r.fingerprint, sampleCount: r.sampleCount!, seq: r.seq, height: r.height, txHash: r.txHash }],
    );
    const last = scanned[scanned.length - 1];
    // A full page may have more behind it: continue after the last scanned slot.
    return { meterId: params.meterId, fingerprints, ...(scanned.length === query.limit && last && last.slot + 1 < toSlot ? { nextSlot: last.slot + 1 } : {}) };
  }),
  queryRoute(meteringRoutes.missingReadings, (ctx, { query }) => missingReadings(ctx.store, ctx.time, query)),
  queryRoute(meteringRoutes.listDifferences, (ctx, { params, query }) => {
    requireMeter(ctx.store, params.meterId);
    const { fromSlot, toSlot } = slotRange(query);
    // one beyond the page tells whether more follow
    const read = listDifferences(ctx.store, params.meterId, fromSlot, toSlot, query.limit + 1);
    const differences = read.slice(0, query.limit).map(withIso);
    const more = read.length > query.limit ? { nextSlot: differences[differences.length - 1]!.slot + 1 } : {};
    return { meterId: params.meterId, differences, totals: sumDifferences(differences), ...more };
  }),
];

/** How far back `tx meter reading` looks for the previous registers when they are not given. */
const READING_LOOKBACK_SLOTS = 5000;

const slotRangeOptions = { fromSlot: opt.slot('first slot (index or ISO)'), toSlot: opt.slot('end slot, exclusive (index or ISO)') };
const slotQuery = (o: { fromSlot?: number; toSlot?: number }) => ({ fromSlot: o.fromSlot?.toString(), toSlot: o.toSlot?.toString() });
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n}`;

/** The previous reading's registers plus this interval: what a meter gateway would send. */
async function defaultRegisters(cmd: Command, meterId: string, slot: number, importWh: number, exportWh: number) {
  const before = await call(cmd, meteringRoutes.listReadings, {
    params: { meterId },
    query: { fromSlot: String(Math.max(0, slot - READING_LOOKBACK_SLOTS)), toSlot: String(slot), limit: READING_LOOKBACK_SLOTS },
  });
  const prev = before.readings[before.readings.length - 1];
  return { importRegisterWh: (prev?.importRegisterWh ?? 0) + importWh, exportRegisterWh: (prev?.exportRegisterWh ?? 0) + exportWh };
}

function registerCli({ tx, query }: { tx: Command; query: Command }): void {
  const txMeter = tx.command('meter').alias('metering').description('meter devices, signed interval readings and official grid-operator values');
  txCommand(txMeter, 'register', {
    description: 'register a meter device outside a community (operator, utility or grid operator)',
    options: {
      meter: opt.text('meter id', { required: true, arg: 'id' }),
      deviceId: opt.text('device id, e.g. the DSMR equipment identifier (default: the meter id)', { arg: 'id' }),
      address: opt.address("the meter's own account (admitted with role meter)", { required: true }),
      pubKey: opt.text("the meter account's public key (checked against the address)", { arg: 'hex' }),
      maxPowerW: opt.int('maximum power of the connection in W', { required: true, arg: 'W' }),
    },
    msgs: (o) => [{ type: MSG.register, value: { meterId: o.meter, ...(o.deviceId ? { deviceId: o.deviceId } : {}), address: o.address, ...(o.pubKey ? { pubKey: o.pubKey } : {}), maxPowerW: o.maxPowerW } }],
  });
  txCommand(txMeter, 'reading', {
    description: "submit a signed interval reading (sign with the meter's key: --from METERKEY)",
    options: {
      meter: opt.text('meter id (default: the meter whose key signs)', { arg: 'id' }),
      community: opt.text('assert the community the meter reports to', { arg: 'id' }),
      slot: opt.slot('slot index (floor(unixSeconds/900)) or ISO time', { required: true }),
      importWh: opt.int('energy imported in the slot', { default: '0', arg: 'Wh' }),
      exportWh: opt.int('energy exported in the slot', { default: '0', arg: 'Wh' }),
      seq: opt.int("the meter's sequence number", { required: true }),
      importRegisterWh: opt.int('cumulative import register at the end of the slot (default: previous reading + import)', { arg: 'Wh' }),
      exportRegisterWh: opt.int('cumulative export register at the end of the slot (default: previous reading + export)', { arg: 'Wh' }),
      fingerprint: opt.text("fingerprint of the slot's off-chain samples (64 hex digits; with --sample-count)", { arg: 'hex' }),
      sampleCount: opt.int('number of samples the fingerprint covers', { arg: 'n' }),
    },
    msgs: async (o, cmd) => {
      const importWh = o.importWh ?? 0;
      const exportWh = o.exportWh ?? 0;
      const meterId = o.meter ?? (await call(cmd, meteringRoutes.meterByAddress, { params: { address: signerAddress(cmd) } })).meter.meterId;
      const registers =
        o.importRegisterWh !== undefined && o.exportRegisterWh !== undefined
          ? { importRegisterWh: o.importRegisterWh, exportRegisterWh: o.exportRegisterWh }
          : { ...(await defaultRegisters(cmd, meterId, o.slot, importWh, exportWh)), ...definedOnly({ importRegisterWh: o.importRegisterWh, exportRegisterWh: o.exportRegisterWh }) };
      const samples = definedOnly({ fingerprint: o.fingerprint, sampleCount: o.sampleCount });
      return [{ type: MSG.reading, value: { meterId, ...(o.community ? { community: o.community } : {}), slot: o.slot, importWh, exportWh, ...registers, seq: o.seq, ...samples } }];
    },
  });
  const results = opt.text('per-row result file (default: FILE.results.csv)', { arg: 'file' });
  customCommand(txMeter, 'official', {
    description: "submit the grid operator's authoritative values for a meter and slot (grid-operator key); --csv FILE sends many (meter,slot,import_wh,export_wh) through the batch endpoint",
    options: {
      meter: opt.text('meter id', { arg: 'id' }),
      slot: opt.slot('slot index or ISO time'),
      importWh: opt.int('official import', { default: '0', arg: 'Wh' }),
      exportWh: opt.int('official export', { default: '0', arg: 'Wh' }),
      csv: opt.text('bulk: a CSV file with columns meter,slot,import_wh,export_wh', { arg: 'file' }),
      results,
    },
    run: async (o, cmd) => {
      if (o.csv !== undefined) {
        if (o.meter !== undefined || o.slot !== undefined) throw CLI_ERRORS.CLI_INVALID_OPTION('--csv takes meters and slots from the file; drop --meter and --slot');
        const out = o.results ?? `${o.csv}.results.csv`;
        report(cmd, await submitRows(cmd, officialRows(cmd, o.csv), out), out);
        return;
      }
      if (o.meter === undefined || o.slot === undefined) throw CLI_ERRORS.CLI_USAGE('give --meter and --slot (or --csv FILE)');
      await submit(cmd, [{ type: MSG.official, value: { meterId: o.meter, slot: o.slot, importWh: o.importWh ?? 0, exportWh: o.exportWh ?? 0 } }]);
    },
  });
  customCommand(txMeter, 'readings', {
    description:
      "bulk interval readings from a CSV file (meter,slot,import_wh,export_wh,seq[,import_register_wh,export_register_wh,fingerprint,sample_count,community]), each signed by its meter's key from the keyring, through the batch endpoint; registers default to the previous reading's plus the interval",
    options: { csv: opt.text('the CSV file', { required: true, arg: 'file' }), results },
    run: async (o, cmd) => {
      const out = o.results ?? `${o.csv}.results.csv`;
      report(cmd, await submitRows(cmd, await readingRows(cmd, o.csv), out), out);
    },
  });
  txCommand(txMeter, 'rotate-key', {
    description: "let the meter sign with a new key (an account admitted with role meter); by the meter's registrant or a grid operator",
    options: {
      meter: opt.text('meter id', { required: true, arg: 'id' }),
      address: opt.address('the new signing account', { required: true }),
      pubKey: opt.text("the new account's public key (checked against the address)", { arg: 'hex' }),
    },
    msgs: (o) => [{ type: MSG.rotateKey, value: { meterId: o.meter, address: o.address, ...(o.pubKey ? { pubKey: o.pubKey } : {}) } }],
  });
  txCommand(txMeter, 'replace-device', {
    description: "a new device at the metering point from a future slot on (new registers and sequence numbers from there); by the meter's registrant or a grid operator",
    options: {
      meter: opt.text('meter id', { required: true, arg: 'id' }),
      deviceId: opt.text('the new device id', { required: true, arg: 'id' }),
      address: opt.address("the new device's signing account (default: keep the key)"),
      pubKey: opt.text("the new account's public key", { arg: 'hex' }),
      maxPowerW: opt.int('maximum power of the new device (default: unchanged)', { arg: 'W' }),
      fromSlot: opt.slot('first slot measured by the new device (default: the next slot)'),
    },
    msgs: (o) => [
      {
        type: MSG.replaceDevice,
        value: {
          meterId: o.meter,
          deviceId: o.deviceId,
          ...(o.address ? { address: o.address } : {}),
          ...(o.pubKey ? { pubKey: o.pubKey } : {}),
          ...(o.maxPowerW !== undefined ? { maxPowerW: o.maxPowerW } : {}),
          ...(o.fromSlot !== undefined ? { fromSlot: o.fromSlot } : {}),
        },
      },
    ],
  });

  const qMeter = query.command('meter').alias('metering').description('meters, readings and reconciliation differences');
  queryCommand(qMeter, 'show', {
    description: 'one meter device',
    args: ['meterId'],
    route: meteringRoutes.getMeter,
    input: (_o, [meterId]) => ({ params: { meterId: meterId! } }),
    text: (v) => [`meter      ${v.meter.meterId}`, `device     ${v.meter.deviceId}`, `address    ${v.meter.address}`, `max power  ${v.meter.maxPowerW} W`, `readings   ${v.meter.readings}`].join('\n'),
  });
  queryCommand(qMeter, 'list', {
    description: 'registered meters',
    options: { after: opt.text('page after this meter id', { arg: 'id' }), limit: opt.int('page size (1–500)', { default: '100' }) },
    route: meteringRoutes.listMeters,
    input: (o) => ({ query: { after: o.after, limit: o.limit } }),
    text: (v) => v.meters.map((m) => `${m.meterId}  ${m.address}  ${m.maxPowerW} W  ${m.readings} readings`).join('\n') || '(none)',
  });
  queryCommand(qMeter, 'readings', {
    description: 'readings of a meter in slot order',
    args: ['meterId'],
    options: { ...slotRangeOptions, limit: opt.int('at most this many (1–5000)', { default: '1000' }) },
    route: meteringRoutes.listReadings,
    input: (o, [meterId]) => ({ params: { meterId: meterId! }, query: { ...slotQuery(o), limit: o.limit } }),
    text: (v) =>
      v.readings.map((r) => `${r.slot} ${slotIso(r.slot)}  import ${r.importWh} Wh  export ${r.exportWh} Wh  registers ${r.importRegisterWh}/${r.exportRegisterWh}  seq ${r.seq}${r.fingerprint ? `  ${r.sampleCount} samples ${r.fingerprint.slice(0, 16)}…` : ''}  tx ${r.txHash}`).join('\n') || '(none)',
  });
  queryCommand(qMeter, 'fingerprints', {
    description: "fingerprints of the meter's off-chain samples, per slot (compare with `gridledger verify samples`)",
    args: ['meterId'],
    options: { ...slotRangeOptions, limit: opt.int('scan at most this many readings (1–5000)', { default: '5000' }) },
    route: meteringRoutes.listFingerprints,
    input: (o, [meterId]) => ({ params: { meterId: meterId! }, query: { ...slotQuery(o), limit: o.limit } }),
    text: (v) =>
      [...v.fingerprints.map((f) => `${f.slot} ${f.slotIso}  ${f.fingerprint}  ${f.sampleCount} samples  seq ${f.seq}`), ...(v.nextSlot !== undefined ? [`(more from slot ${v.nextSlot})`] : [])].join('\n') || '(none)',
  });
  queryCommand(qMeter, 'missing', {
    description: 'meters without a reading for a slot or a local day (grid operators)',
    options: {
      slot: opt.slot('one slot (index or ISO time)'),
      day: opt.text('one local day', { arg: 'YYYY-MM-DD' }),
      timezone: opt.text('time zone of --day (default UTC)', { arg: 'IANA zone' }),
      after: opt.text('continue after this meter id (the previous answer\'s next)', { arg: 'id' }),
      limit: opt.int('meters scanned per call (1–500)', { default: '100' }),
    },
    route: meteringRoutes.missingReadings,
    input: (o) => ({ query: { slot: o.slot?.toString(), day: o.day, timezone: o.timezone, after: o.after, limit: o.limit } }),
    text: (v) =>
      [
        `slots ${v.fromSlot}…${v.toSlot} (${v.endedSlots} ended), ${v.scanned} meters scanned`,
        ...v.meters.map((m) => `${m.meterId}  ${m.address}  ${m.missing} missing${m.missing <= 8 ? `: ${m.missingSlots.join(', ')}` : ''}`),
        ...(v.meters.length === 0 ? ['(none missing)'] : []),
        ...(v.next ? [`more: --after ${v.next}`] : []),
      ].join('\n'),
  });
  queryCommand(qMeter, 'differences', {
    description: "official grid-operator values minus the meter's own readings, per slot",
    args: ['meterId'],
    options: { ...slotRangeOptions, limit: opt.int('at most this many slots (1–5000)', { default: '5000' }) },
    route: meteringRoutes.listDifferences,
    input: (o, [meterId]) => ({ params: { meterId: meterId! }, query: { ...slotQuery(o), limit: o.limit } }),
    text: (v) => pageText([...v.differences.map((d) => `${d.slot} ${d.slotIso}  import ${signed(d.importDiffWh)} Wh  export ${signed(d.exportDiffWh)} Wh`), `total  import ${v.totals.importDiffWh} Wh  export ${v.totals.exportDiffWh} Wh`], v),
  });
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const meteringSurface: ModuleSurface = { routes, cli: registerCli };

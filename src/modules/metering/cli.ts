import { Option, type Command } from 'commander';
import type { CliContext } from '../../cli/context.js';
import { LedgerError } from '../../util/errors.js';
import { slotIso } from '../../util/slots.js';
import { MSG } from './messages.js';
import { meteringRoutes } from './routes.js';

/** Parses a whole number option (Wh, W, sequence numbers); negative only when allowed. */
export function intOption(value: string, name: string, options: { signed?: boolean } = {}): number {
  const re = options.signed ? /^[+-]?\d+$/ : /^\d+$/;
  const n = Number(value);
  if (!re.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new LedgerError('CLI_INVALID_OPTION', `${name} expects a whole number${options.signed ? '' : ' ≥ 0'}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function keyAddress(ctx: CliContext, cmd: Command): string {
  const g = cmd.optsWithGlobals() as { from?: string };
  return ctx.keyring(cmd).show(g.from ?? process.env.GRIDLEDGER_FROM ?? 'admin').address;
}

const READING_LOOKBACK_SLOTS = 5000;

export function registerMeteringCli({ tx, query }: { tx: Command; query: Command }, ctx: CliContext): void {
  const txMeter = tx.command('meter').alias('metering').description('meter devices, signed interval readings and official grid-operator values');
  txMeter
    .command('register')
    .description('register a meter device outside a community (operator, utility or grid operator)')
    .requiredOption('--meter <id>', 'meter id')
    .option('--device-id <id>', 'device id, e.g. the DSMR equipment identifier (default: the meter id)')
    .requiredOption('--address <address>', "the meter's own account (admitted with role meter)")
    .option('--pub-key <hex>', "the meter account's public key (checked against the address)")
    .requiredOption('--max-power-w <W>', 'maximum power of the connection in W')
    .action(async (opts: { meter: string; deviceId?: string; address: string; pubKey?: string; maxPowerW: string }, cmd: Command) => {
      await ctx.submit(cmd, [
        {
          type: MSG.register,
          value: {
            meterId: opts.meter,
            ...(opts.deviceId ? { deviceId: opts.deviceId } : {}),
            address: opts.address,
            ...(opts.pubKey ? { pubKey: opts.pubKey } : {}),
            maxPowerW: intOption(opts.maxPowerW, '--max-power-w'),
          },
        },
      ]);
    });
  txMeter
    .command('reading')
    .description("submit a signed interval reading (sign with the meter's key: --from METERKEY)")
    .option('--meter <id>', 'meter id (default: the meter whose key signs)')
    .option('--community <id>', 'assert the community the meter reports to')
    .requiredOption('--slot <slot>', 'slot index (floor(unixSeconds/900)) or ISO time')
    .option('--import-wh <Wh>', 'energy imported in the slot', '0')
    .option('--export-wh <Wh>', 'energy exported in the slot', '0')
    .requiredOption('--seq <n>', "the meter's sequence number")
    .option('--import-register-wh <Wh>', 'cumulative import register at the end of the slot (default: previous reading + import)')
    .option('--export-register-wh <Wh>', 'cumulative export register at the end of the slot (default: previous reading + export)')
    .action(
      async (
        opts: { meter?: string; community?: string; slot: string; importWh: string; exportWh: string; seq: string; importRegisterWh?: string; exportRegisterWh?: string },
        cmd: Command,
      ) => {
        const slot = ctx.parseSlot(opts.slot);
        const importWh = intOption(opts.importWh, '--import-wh');
        const exportWh = intOption(opts.exportWh, '--export-wh');
        const meterId = opts.meter ?? (await ctx.call(cmd, meteringRoutes.meterByAddress, { params: { address: keyAddress(ctx, cmd) } })).meter.meterId;
        let importRegisterWh = opts.importRegisterWh !== undefined ? intOption(opts.importRegisterWh, '--import-register-wh') : undefined;
        let exportRegisterWh = opts.exportRegisterWh !== undefined ? intOption(opts.exportRegisterWh, '--export-register-wh') : undefined;
        if (importRegisterWh === undefined || exportRegisterWh === undefined) {
          const before = await ctx.call(cmd, meteringRoutes.listReadings, {
            params: { meterId },
            query: { fromSlot: String(Math.max(0, slot - READING_LOOKBACK_SLOTS)), toSlot: String(slot), limit: READING_LOOKBACK_SLOTS },
          });
          const prev = before.readings[before.readings.length - 1];
          importRegisterWh ??= (prev?.importRegisterWh ?? 0) + importWh;
          exportRegisterWh ??= (prev?.exportRegisterWh ?? 0) + exportWh;
        }
        await ctx.submit(cmd, [
          {
            type: MSG.reading,
            value: { meterId, ...(opts.community ? { community: opts.community } : {}), slot, importWh, exportWh, importRegisterWh, exportRegisterWh, seq: intOption(opts.seq, '--seq') },
          },
        ]);
      },
    );
  txMeter
    .command('official')
    .description("submit the grid operator's authoritative values for a meter and slot (grid-operator key)")
    .requiredOption('--meter <id>', 'meter id')
    .requiredOption('--slot <slot>', 'slot index or ISO time')
    .addOption(new Option('--import-wh <Wh>', 'official import').default('0'))
    .addOption(new Option('--export-wh <Wh>', 'official export').default('0'))
    .action(async (opts: { meter: string; slot: string; importWh: string; exportWh: string }, cmd: Command) => {
      await ctx.submit(cmd, [
        { type: MSG.official, value: { meterId: opts.meter, slot: ctx.parseSlot(opts.slot), importWh: intOption(opts.importWh, '--import-wh'), exportWh: intOption(opts.exportWh, '--export-wh') } },
      ]);
    });

  const qMeter = query.command('meter').alias('metering').description('meters, readings and reconciliation differences');
  qMeter
    .command('show <meterId>')
    .description('one meter device')
    .action(async (meterId: string, _o: unknown, cmd: Command) => {
      await ctx.query(cmd, meteringRoutes.getMeter, { params: { meterId } }, (v) =>
        [`meter      ${v.meter.meterId}`, `device     ${v.meter.deviceId}`, `address    ${v.meter.address}`, `max power  ${v.meter.maxPowerW} W`, `readings   ${v.meter.readings}`].join('\n'),
      );
    });
  qMeter
    .command('list')
    .description('registered meters')
    .option('--after <id>', 'page after this meter id')
    .option('--limit <n>', 'page size (1–500)', '100')
    .action(async (opts: { after?: string; limit: string }, cmd: Command) => {
      await ctx.query(cmd, meteringRoutes.listMeters, { query: { after: opts.after, limit: Number(opts.limit) } }, (v) =>
        v.meters.map((m) => `${m.meterId}  ${m.address}  ${m.maxPowerW} W  ${m.readings} readings`).join('\n') || '(none)',
      );
    });
  qMeter
    .command('readings <meterId>')
    .description('readings of a meter in slot order')
    .option('--from-slot <slot>', 'first slot (index or ISO)')
    .option('--to-slot <slot>', 'end slot, exclusive (index or ISO)')
    .option('--limit <n>', 'at most this many (1–5000)', '1000')
    .action(async (meterId: string, opts: { fromSlot?: string; toSlot?: string; limit: string }, cmd: Command) => {
      await ctx.query(cmd, meteringRoutes.listReadings, { params: { meterId }, query: { fromSlot: opts.fromSlot, toSlot: opts.toSlot, limit: Number(opts.limit) } }, (v) =>
        v.readings.map((r) => `${r.slot} ${slotIso(r.slot)}  import ${r.importWh} Wh  export ${r.exportWh} Wh  registers ${r.importRegisterWh}/${r.exportRegisterWh}  seq ${r.seq}  tx ${r.txHash}`).join('\n') || '(none)',
      );
    });
  qMeter
    .command('differences <meterId>')
    .description("official grid-operator values minus the meter's own readings, per slot")
    .option('--from-slot <slot>', 'first slot (index or ISO)')
    .option('--to-slot <slot>', 'end slot, exclusive (index or ISO)')
    .action(async (meterId: string, opts: { fromSlot?: string; toSlot?: string }, cmd: Command) => {
      await ctx.query(cmd, meteringRoutes.listDifferences, { params: { meterId }, query: { fromSlot: opts.fromSlot, toSlot: opts.toSlot } }, (v) =>
        [...v.differences.map((d) => `${d.slot} ${d.slotIso}  import ${d.importDiffWh >= 0 ? '+' : ''}${d.importDiffWh} Wh  export ${d.exportDiffWh >= 0 ? '+' : ''}${d.exportDiffWh} Wh`), `total  import ${v.totals.importDiffWh} Wh  export ${v.totals.exportDiffWh} Wh`].join('\n'),
      );
    });
}

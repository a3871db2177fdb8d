import type { Command } from 'commander';
import type { CliContext } from '../../cli/context.js';
import { isAddress } from '../../crypto/address.js';
import { LedgerError } from '../../util/errors.js';
import { MSG, type ParticipantInput } from './messages.js';
import { sharesRoutes } from './routes.js';

/** ADDRESS:UTILITY:PPM[:METER] — the meter id may itself contain ":". */
export function parseParticipant(value: string): ParticipantInput {
  const parts = value.split(':');
  const [address, utility, ppmText] = parts;
  const meter = parts.length > 3 ? parts.slice(3).join(':') : undefined;
  if (!address || !utility || ppmText === undefined || !isAddress(address) || !isAddress(utility) || !/^-?\d+$/.test(ppmText)) {
    throw new LedgerError('CLI_INVALID_OPTION', `--participant expects ADDRESS:UTILITY:PPM[:METER], got ${JSON.stringify(value)}`);
  }
  return { address, utility, ppm: Number(ppmText), ...(meter ? { meter } : {}) };
}

function intOption(name: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new LedgerError('CLI_INVALID_OPTION', `${name} expects a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Resolves a key name of the local keyring or passes an address through. */
function resolveAddress(ctx: CliContext, cmd: Command, value: string): string {
  if (isAddress(value)) return value;
  return ctx.keyring(cmd).show(value).address;
}

export function registerSharesCli({ tx, query }: { tx: Command; query: Command }, ctx: CliContext): void {
  const txPlant = tx.command('plant').description('shared PV plants: registration, distribution keys, portion transfers');
  txPlant
    .command('register')
    .description('register a shared plant (utility or grid-operator); shares in ppm must sum to 1,000,000')
    .requiredOption('--plant <id>', 'plant id')
    .option('--name <text>', 'display name (default: the id)')
    .option('--peak-power <W>', 'peak power in W', '10000')
    .requiredOption('--timezone <tz>', 'IANA time zone of the plant (local days)')
    .requiredOption('--production-meter <id>', 'meter id of the production meter')
    .requiredOption('--participant <spec...>', 'ADDRESS:UTILITY:PPM[:METER], repeat per participant')
    .action(async (opts: { plant: string; name?: string; peakPower: string; timezone: string; productionMeter: string; participant: string[] }, cmd: Command) => {
      await ctx.submit(cmd, [
        {
          type: MSG.registerPlant,
          value: {
            plant: opts.plant,
            name: opts.name ?? opts.plant,
            peakPowerW: intOption('--peak-power', opts.peakPower),
            timezone: opts.timezone,
            productionMeter: opts.productionMeter,
            participants: opts.participant.map(parseParticipant),
          },
        },
      ]);
    });
  txPlant
    .command('set-key')
    .description('change participants and the default key from a future local day on (registering operator only)')
    .requiredOption('--plant <id>', 'plant id')
    .requiredOption('--from-day <YYYY-MM-DD>', 'first local day of the new key')
    .requiredOption('--participant <spec...>', 'ADDRESS:UTILITY:PPM[:METER], repeat per participant')
    .action(async (opts: { plant: string; fromDay: string; participant: string[] }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.setKey, value: { plant: opts.plant, fromDay: opts.fromDay, participants: opts.participant.map(parseParticipant) } }]);
    });
  txPlant
    .command('transfer')
    .description('transfer ppm of your portion to another participant for the slots [from, to)')
    .requiredOption('--plant <id>', 'plant id')
    .requiredOption('--to <address>', 'recipient (address or key name)')
    .requiredOption('--ppm <n>', 'amount in ppm (1,000,000 = the whole plant)')
    .requiredOption('--from-slot <slot>', 'first slot (index or ISO time)')
    .requiredOption('--to-slot <slot>', 'end slot, exclusive (index or ISO time)')
    .action(async (opts: { plant: string; to: string; ppm: string; fromSlot: string; toSlot: string }, cmd: Command) => {
      await ctx.submit(cmd, [
        {
          type: MSG.transfer,
          value: { plant: opts.plant, to: resolveAddress(ctx, cmd, opts.to), ppm: intOption('--ppm', opts.ppm), fromSlot: ctx.parseSlot(opts.fromSlot), toSlot: ctx.parseSlot(opts.toSlot) },
        },
      ]);
    });

  const qPlant = query.command('plant').description('shared PV plants, holdings and transfer history');
  qPlant
    .command('show')
    .description('a plant and its distribution keys')
    .requiredOption('--plant <id>', 'plant id')
    .action(async (opts: { plant: string }, cmd: Command) => {
      await ctx.query(cmd, sharesRoutes.getPlant, { params: { plant: opts.plant } }, (p) =>
        [
          `plant       ${p.id} (${p.name}), ${p.peakPowerW} W peak, ${p.timezone}`,
          `production  ${p.productionMeter}`,
          `operator    ${p.operator}`,
          ...p.keys.flatMap((k) => [`key from ${k.fromDay ?? 'registration'} (slot ${k.fromSlot}):`, ...k.participants.map((x) => `  ${x.address}  ${String(x.ppm).padStart(7)} ppm  utility ${x.utility}${x.meter ? `  meter ${x.meter}` : ''}`)]),
        ].join('\n'),
      );
    });
  qPlant
    .command('list')
    .description('registered plants')
    .option('--utility <address>', 'only plants where this utility bills someone')
    .option('--after <id>', 'page after this plant id')
    .option('--limit <n>', 'page size (1–500)', '100')
    .action(async (opts: { utility?: string; after?: string; limit: string }, cmd: Command) => {
      await ctx.query(cmd, sharesRoutes.listPlants, { query: { utility: opts.utility, after: opts.after, limit: Number(opts.limit) } }, (v) =>
        v.plants.map((p) => `${p.id}  ${p.timezone}  ${p.keys[p.keys.length - 1]!.participants.length} participants  ${p.name}`).join('\n') || '(none)',
      );
    });
  qPlant
    .command('holdings')
    .description("holdings table of a plant for a local day: each slot and every participant's ppm")
    .requiredOption('--plant <id>', 'plant id')
    .requiredOption('--day <YYYY-MM-DD>', 'local calendar day in the plant timezone')
    .action(async (opts: { plant: string; day: string }, cmd: Command) => {
      await ctx.query(cmd, sharesRoutes.plantHoldings, { params: { plant: opts.plant }, query: { day: opts.day } }, (v) =>
        [
          `${v.plant} ${v.day} (${v.timezone}): ${v.slots} slots from ${v.firstSlot}`,
          ...v.participants.map((a, i) => `  [${i}] ${a}`),
          `slot      local start                ${v.participants.map((_, i) => `[${i}]`.padStart(9)).join('')}`,
          ...v.rows.map((r) => `${r.slot}  ${r.local}  ${r.ppm.map((x) => String(x).padStart(9)).join('')}`),
        ].join('\n'),
      );
    });
  qPlant
    .command('participant')
    .description("one participant's holdings over [from, to)")
    .requiredOption('--plant <id>', 'plant id')
    .requiredOption('--address <address>', 'participant (address or key name)')
    .requiredOption('--from-slot <slot>', 'first slot (index or ISO time)')
    .requiredOption('--to-slot <slot>', 'end slot, exclusive (index or ISO time)')
    .action(async (opts: { plant: string; address: string; fromSlot: string; toSlot: string }, cmd: Command) => {
      const address = resolveAddress(ctx, cmd, opts.address);
      await ctx.query(cmd, sharesRoutes.participantHoldings, { params: { plant: opts.plant, address }, query: { fromSlot: ctx.parseSlot(opts.fromSlot), toSlot: ctx.parseSlot(opts.toSlot) } }, (v) =>
        v.segments.map((s) => `slots ${s.fromSlot}–${s.toSlot - 1} (${s.toSlot - s.fromSlot})  ${s.ppm} ppm`).join('\n'),
      );
    });
  qPlant
    .command('transfers')
    .description('history of a plant: registration, key changes and transfers, newest first')
    .requiredOption('--plant <id>', 'plant id')
    .option('--address <address>', 'only entries involving this participant')
    .option('--limit <n>', 'entries (1–500)', '100')
    .action(async (opts: { plant: string; address?: string; limit: string }, cmd: Command) => {
      const address = opts.address ? resolveAddress(ctx, cmd, opts.address) : undefined;
      await ctx.query(cmd, sharesRoutes.plantTransfers, { params: { plant: opts.plant }, query: { address, limit: Number(opts.limit) } }, (v) =>
        v.entries
          .map((e) => (e.kind === 'transfer' ? `#${e.seq} h${e.height}  ${e.from} → ${e.to}  ${e.ppm} ppm  slots [${e.fromSlot}, ${e.toSlot})` : `#${e.seq} h${e.height}  ${e.kind}${e.fromDay ? ` from ${e.fromDay}` : ''} by ${e.by}`))
          .join('\n') || '(none)',
      );
    });
}

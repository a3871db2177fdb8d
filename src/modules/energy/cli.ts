import { Option, type Command } from 'commander';
import type { CliContext } from '../../cli/context.js';
import { intOption } from '../metering/cli.js';
import { MSG } from './messages.js';
import { energyRoutes } from './routes.js';

/** "solar,local" → ["solar","local"]; "" or "-" → [] (unlabelled). */
function labelsOption(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s !== '-');
}

function showLabels(labels: string[]): string {
  return labels.length === 0 ? '(unlabelled)' : labels.join(',');
}

/** Amounts are passed through signed so the ledger answers with its own code (ENERGY_AMOUNT_NOT_POSITIVE). */
function positiveWh(value: string, name: string): number {
  return intOption(value, name, { signed: true });
}

export function registerEnergyCli({ tx, query }: { tx: Command; query: Command }, ctx: CliContext): void {
  const txC = tx.command('community').description('energy communities: create, traders, meters, settle with the parent');
  txC
    .command('create')
    .description('create a community (operator or utility); the sender owns it')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--timezone <tz>', 'IANA time zone, e.g. Europe/Amsterdam')
    .option('--parent <id>', 'parent community (the sender must be a trader there; it represents this community)')
    .option('--id <id>', 'choose the id (default: assigned c1, c2, …; see the energy.community_created event)')
    .action(async (opts: { name: string; timezone: string; parent?: string; id?: string }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.createCommunity, value: { name: opts.name, timezone: opts.timezone, ...(opts.parent ? { parent: opts.parent } : {}), ...(opts.id ? { id: opts.id } : {}) } }]);
    });
  for (const [name, type, what] of [
    ['add-trader', MSG.addTrader, 'grant the trader role in a community (owner)'],
    ['remove-trader', MSG.removeTrader, 'remove a trader (refused while it has linked meters or non-zero balances)'],
  ] as const) {
    txC
      .command(name)
      .description(what)
      .requiredOption('--community <id>', 'community id')
      .requiredOption('--address <address>', 'trader account')
      .action(async (opts: { community: string; address: string }, cmd: Command) => {
        await ctx.submit(cmd, [{ type, value: { community: opts.community, address: opts.address } }]);
      });
  }
  txC
    .command('add-meter')
    .description('register the meter device (if new) and link it to a trader of the community (owner); re-linking starts in a future slot')
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--meter <id>', 'meter id')
    .addOption(new Option('--kind <kind>', 'producer or consumer').choices(['producer', 'consumer']).makeOptionMandatory())
    .requiredOption('--trader <address>', 'linked trader')
    .option('--labels <list>', 'labels of produced energy, e.g. solar,local (producers only)')
    .option('--address <address>', "the meter's own account (role meter); required for a new meter")
    .option('--max-power-w <W>', 'maximum power in W; required for a new meter')
    .option('--device-id <id>', 'device id, e.g. DSMR equipment identifier (default: the meter id)')
    .option('--from-slot <slot>', 'first slot of the link (must be in the future)')
    .action(
      async (
        opts: { community: string; meter: string; kind: 'producer' | 'consumer'; trader: string; labels?: string; address?: string; maxPowerW?: string; deviceId?: string; fromSlot?: string },
        cmd: Command,
      ) => {
        const labels = labelsOption(opts.labels);
        await ctx.submit(cmd, [
          {
            type: MSG.addMeter,
            value: {
              community: opts.community,
              meterId: opts.meter,
              kind: opts.kind,
              trader: opts.trader,
              ...(labels.length > 0 ? { labels } : {}),
              ...(opts.address ? { address: opts.address } : {}),
              ...(opts.maxPowerW !== undefined ? { maxPowerW: intOption(opts.maxPowerW, '--max-power-w') } : {}),
              ...(opts.deviceId ? { deviceId: opts.deviceId } : {}),
              ...(opts.fromSlot !== undefined ? { fromSlot: ctx.parseSlot(opts.fromSlot) } : {}),
            },
          },
        ]);
      },
    );
  txC
    .command('remove-meter')
    .description('unlink a meter from a future slot on (owner)')
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--meter <id>', 'meter id')
    .option('--from-slot <slot>', 'first unlinked slot (default: the next slot)')
    .action(async (opts: { community: string; meter: string; fromSlot?: string }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.removeMeter, value: { community: opts.community, meterId: opts.meter, ...(opts.fromSlot !== undefined ? { fromSlot: ctx.parseSlot(opts.fromSlot) } : {}) } }]);
    });

  const txE = tx.command('energy').description('labelled energy per slot: transfer, reduce, mutate, settle with the parent');
  txE
    .command('transfer')
    .description('give energy of one slot and label set to another trader of the community')
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--to <address>', 'receiving trader')
    .requiredOption('--slot <slot>', 'slot index or ISO time')
    .option('--labels <list>', 'label set, e.g. solar (default: unlabelled)', '')
    .requiredOption('--wh <Wh>', 'amount in Wh (> 0)')
    .action(async (opts: { community: string; to: string; slot: string; labels: string; wh: string }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.transfer, value: { community: opts.community, to: opts.to, slot: ctx.parseSlot(opts.slot), labels: labelsOption(opts.labels), wh: positiveWh(opts.wh, '--wh') } }]);
    });
  txE
    .command('reduce')
    .description('remove labels from an amount, moving it to the smaller label set')
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--slot <slot>', 'slot index or ISO time')
    .requiredOption('--labels <list>', 'current label set, e.g. solar,local')
    .requiredOption('--remove <list>', 'labels to remove, e.g. solar')
    .requiredOption('--wh <Wh>', 'amount in Wh (> 0)')
    .action(async (opts: { community: string; slot: string; labels: string; remove: string; wh: string }, cmd: Command) => {
      await ctx.submit(cmd, [
        { type: MSG.reduce, value: { community: opts.community, slot: ctx.parseSlot(opts.slot), labels: labelsOption(opts.labels), remove: labelsOption(opts.remove), wh: positiveWh(opts.wh, '--wh') } },
      ]);
    });
  txE
    .command('mutate')
    .description("change any trader's balance (owner), e.g. energy supplied by an external party; recorded as an adjustment")
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--trader <address>', 'trader (or the owner itself)')
    .requiredOption('--slot <slot>', 'slot index or ISO time')
    .option('--labels <list>', 'label set (default: unlabelled)')
    .requiredOption('--wh <Wh>', 'signed amount in Wh (use --wh=-500 or --wh -500)')
    .requiredOption('--description <text>', 'why (required)')
    .action(async (opts: { community: string; trader: string; slot: string; labels?: string; wh: string; description: string }, cmd: Command) => {
      const labels = labelsOption(opts.labels);
      await ctx.submit(cmd, [
        {
          type: MSG.mutate,
          value: { community: opts.community, trader: opts.trader, slot: ctx.parseSlot(opts.slot), ...(labels.length > 0 ? { labels } : {}), wh: intOption(opts.wh, '--wh', { signed: true }), description: opts.description },
        },
      ]);
    });
  for (const parent of [txC, txE]) {
    parent
      .command('settle-to-parent')
      .description("move the community's net position of a slot into its parent community (owner)")
      .requiredOption('--community <id>', 'member community id')
      .requiredOption('--slot <slot>', 'slot index or ISO time')
      .action(async (opts: { community: string; slot: string }, cmd: Command) => {
        await ctx.submit(cmd, [{ type: MSG.settleToParent, value: { community: opts.community, slot: ctx.parseSlot(opts.slot) } }]);
      });
  }

  const qE = query.command('energy').alias('community').description('communities, balances, day positions, history, adjustments, reconciliation');
  qE.command('communities')
    .description('all communities')
    .action(async (_o: unknown, cmd: Command) => {
      await ctx.query(cmd, energyRoutes.listCommunities, {}, (v) => v.communities.map((c) => `${c.id}  ${c.name}  owner ${c.owner}  ${c.timezone}${c.parent ? `  parent ${c.parent}` : ''}`).join('\n') || '(none)');
    });
  qE.command('community <id>')
    .description('a community with its traders, member communities and meters')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await ctx.query(cmd, energyRoutes.getCommunity, { params: { id } }, (v) =>
        [
          `community  ${v.community.id} (${v.community.name})`,
          `owner      ${v.community.owner}`,
          `timezone   ${v.community.timezone}`,
          ...(v.community.parent ? [`parent     ${v.community.parent}`] : []),
          ...(v.children.length ? [`members    ${v.children.join(', ')}`] : []),
          'traders',
          ...v.traders.map((t) => `  ${t.address}  ${t.status}`),
          'meters',
          ...v.meters.flatMap((m) => m.links.filter((l) => l.community === id).map((l) => `  ${m.meterId}  ${l.kind}  from slot ${l.fromSlot}  ${l.trader ?? '(unlinked)'}  ${showLabels(l.labels)}`)),
        ].join('\n'),
      );
    });
  qE.command('balances')
    .description('balances by trader, slot and labels, with totals')
    .requiredOption('--community <id>', 'community id')
    .option('--trader <address>', 'only this trader')
    .option('--slot <slot>', 'only this slot (index or ISO)')
    .option('--from-slot <slot>', 'first slot')
    .option('--to-slot <slot>', 'end slot (exclusive)')
    .option('--labels <list>', 'only this exact label set ("-" = unlabelled)')
    .action(async (opts: { community: string; trader?: string; slot?: string; fromSlot?: string; toSlot?: string; labels?: string }, cmd: Command) => {
      await ctx.query(
        cmd,
        energyRoutes.balances,
        { params: { id: opts.community }, query: { trader: opts.trader, slot: opts.slot, fromSlot: opts.fromSlot, toSlot: opts.toSlot, labels: opts.labels } },
        (v) =>
          [
            ...v.balances.map((b) => `${b.slot} ${b.slotIso}  ${b.trader}  ${showLabels(b.labels).padEnd(14)} ${String(b.wh).padStart(12)} Wh`),
            ...(v.balances.length === 0 ? ['(no non-zero balances)'] : []),
            `total ${v.totals.wh} Wh`,
            ...v.totals.byLabels.map((l) => `  ${showLabels(l.labels).padEnd(14)} ${l.wh} Wh`),
          ].join('\n'),
      );
    });
  qE.command('day')
    .description("a trader's or the community's net position per slot of a local day (96, 92 or 100 slots)")
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--day <YYYY-MM-DD>', 'local calendar day in the community time zone')
    .option('--trader <address>', 'only this trader')
    .action(async (opts: { community: string; day: string; trader?: string }, cmd: Command) => {
      await ctx.query(cmd, energyRoutes.day, { params: { id: opts.community }, query: { day: opts.day, trader: opts.trader } }, (v) =>
        [`${v.day} (${v.timezone}): ${v.slots} slots from ${v.firstSlot}, total ${v.totalWh} Wh`, ...v.positions.filter((p) => p.wh !== 0 || p.byLabels.length > 0).map((p) => `  ${p.slot} ${p.local}  ${p.wh} Wh`)].join('\n'),
      );
    });
  qE.command('history')
    .description("every change of a trader's balance with the transaction behind it")
    .requiredOption('--community <id>', 'community id')
    .requiredOption('--trader <address>', 'trader')
    .option('--slot <slot>', 'only this slot')
    .option('--from-slot <slot>', 'first slot')
    .option('--to-slot <slot>', 'end slot (exclusive)')
    .option('--limit <n>', 'at most this many entries', '1000')
    .action(async (opts: { community: string; trader: string; slot?: string; fromSlot?: string; toSlot?: string; limit: string }, cmd: Command) => {
      await ctx.query(
        cmd,
        energyRoutes.history,
        { params: { id: opts.community }, query: { trader: opts.trader, slot: opts.slot, fromSlot: opts.fromSlot, toSlot: opts.toSlot, limit: Number(opts.limit) } },
        (v) => v.entries.map((e) => `h${e.height}  slot ${e.slot}  ${e.kind.padEnd(17)} ${showLabels(e.labels).padEnd(14)} ${e.deltaWh >= 0 ? '+' : ''}${e.deltaWh} → ${e.balanceWh} Wh  tx ${e.txHash}`).join('\n') || '(none)',
      );
    });
  qE.command('adjustments')
    .description('owner mutations and settlements with the parent')
    .requiredOption('--community <id>', 'community id')
    .option('--from-slot <slot>', 'first slot')
    .option('--to-slot <slot>', 'end slot (exclusive)')
    .action(async (opts: { community: string; fromSlot?: string; toSlot?: string }, cmd: Command) => {
      await ctx.query(cmd, energyRoutes.adjustments, { params: { id: opts.community }, query: { fromSlot: opts.fromSlot, toSlot: opts.toSlot } }, (v) =>
        v.adjustments.map((e) => `h${e.height}  slot ${e.slot}  ${e.kind}  ${e.trader}  ${showLabels(e.labels)}  ${e.deltaWh} Wh  ${e.description ?? ''}`).join('\n') || '(none)',
      );
    });
  qE.command('differences')
    .description("grid-operator reconciliation: official − reported per meter and slot")
    .requiredOption('--community <id>', 'community id')
    .option('--from-slot <slot>', 'first slot')
    .option('--to-slot <slot>', 'end slot (exclusive)')
    .action(async (opts: { community: string; fromSlot?: string; toSlot?: string }, cmd: Command) => {
      await ctx.query(cmd, energyRoutes.differences, { params: { id: opts.community }, query: { fromSlot: opts.fromSlot, toSlot: opts.toSlot } }, (v) =>
        [...v.differences.map((d) => `${d.slot} ${d.slotIso}  meter ${d.meterId}  trader ${d.trader}  import ${d.importDiffWh} Wh  export ${d.exportDiffWh} Wh`), `total  import ${v.totals.importDiffWh} Wh  export ${v.totals.exportDiffWh} Wh`].join('\n'),
      );
    });
}

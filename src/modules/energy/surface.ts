import type { Command } from 'commander';
import { opt, pageText, queryCommand, resolveAddress, txCommand, type ParsedOptions } from '../../cli/kit.js';
import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { E } from './errors.js';
import { MSG } from './messages.js';
import { adjustmentsQuery, balancesQuery, communityOwnersQuery, dayQuery, differencesQuery, historyQuery } from './queries.js';
import { energyRoutes } from './routes.js';
import { childPage, communitiesOfTrader, communityMeterPage, communityPage, COMMUNITY_DETAIL_ROWS, listLinks, listTraderMeters, requireCommunity, traderPage } from './state.js';

const routes = [
  queryRoute(energyRoutes.listCommunities, (ctx, { query }) => {
    const page = communityPage(ctx.store, query);
    return { communities: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(energyRoutes.getCommunity, (ctx, { params }) => {
    const community = requireCommunity(ctx.store, params.id);
    const first = { limit: COMMUNITY_DETAIL_ROWS };
    const traders = traderPage(ctx.store, params.id, first);
    const children = childPage(ctx.store, params.id, first);
    const meters = communityMeterPage(ctx.store, params.id, first);
    return {
      community,
      traders: traders.items,
      ...(traders.next !== undefined ? { tradersNext: traders.next } : {}),
      children: children.items,
      ...(children.next !== undefined ? { childrenNext: children.next } : {}),
      meters: meters.items.map((meterId) => ({ meterId, links: listLinks(ctx.store, meterId) })),
      ...(meters.next !== undefined ? { metersNext: meters.next } : {}),
    };
  }),
  queryRoute(energyRoutes.traders, (ctx, { params, query }) => {
    requireCommunity(ctx.store, params.id);
    const page = traderPage(ctx.store, params.id, query);
    return { community: params.id, traders: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(energyRoutes.children, (ctx, { params, query }) => {
    requireCommunity(ctx.store, params.id);
    const page = childPage(ctx.store, params.id, query);
    return { community: params.id, children: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(energyRoutes.meters, (ctx, { params, query }) => {
    requireCommunity(ctx.store, params.id);
    const page = communityMeterPage(ctx.store, params.id, query);
    const meters = page.items.map((meterId) => ({ meterId, links: listLinks(ctx.store, meterId) }));
    return { community: params.id, meters, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(energyRoutes.traderCommunities, (ctx, { params, query }) => {
    const page = communitiesOfTrader(ctx.store, params.address, query);
    const communities = page.items.map(({ community, trader }) => ({ community, trader, meters: listTraderMeters(ctx.store, community.id, params.address) }));
    return { address: params.address, communities, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(energyRoutes.communityOwners, (ctx, { params }) => communityOwnersQuery(ctx, params.id)),
  queryRoute(energyRoutes.meterLinks, (ctx, { params }) => {
    if (!ctx.keepers.metering.meter(params.meterId)) throw E.ENERGY_METER_NOT_FOUND(`meter ${params.meterId} is not registered`);
    return { meterId: params.meterId, links: listLinks(ctx.store, params.meterId) };
  }),
  queryRoute(energyRoutes.balances, (ctx, { params, query }) => balancesQuery(ctx, params.id, query)),
  queryRoute(energyRoutes.day, (ctx, { params, query }) => dayQuery(ctx, params.id, query)),
  queryRoute(energyRoutes.history, (ctx, { params, query }) => historyQuery(ctx, params.id, query)),
  queryRoute(energyRoutes.adjustments, (ctx, { params, query }) => adjustmentsQuery(ctx, params.id, query)),
  queryRoute(energyRoutes.differences, (ctx, { params, query }) => differencesQuery(ctx, params.id, query)),
];

function traderLine(t: { address: string; status: string }): string {
  return `  ${t.address}  ${t.status}`;
}

/** A meter's link periods in one community, a line each. */
function meterLines(community: string, m: { meterId: string; links: Array<{ community: string; kind: string; fromSlot: number; trader: string | null; labels: string[] }> }): string[] {
  return m.links.filter((l) => l.community === community).map((l) => `  ${m.meterId}  ${l.kind}  from slot ${l.fromSlot}  ${l.trader ?? '(unlinked)'}  ${showLabels(l.labels)}`);
}

function showLabels(labels: string[]): string {
  return labels.length === 0 ? '(unlabelled)' : labels.join(',');
}

const community = opt.text('community id', { required: true, arg: 'id' });
const slot = opt.slot('slot index or ISO time', { required: true });
/** Amounts go through signed so the ledger answers with its own code (ENERGY_AMOUNT_NOT_POSITIVE). */
const amount = opt.int('amount in Wh (> 0)', { required: true, signed: true, arg: 'Wh' });
const range = { fromSlot: opt.slot('first slot'), toSlot: opt.slot('end slot (exclusive)') };
const rangeQuery = (o: ParsedOptions<typeof range> & { slot?: number }) => ({ slot: o.slot?.toString(), fromSlot: o.fromSlot?.toString(), toSlot: o.toSlot?.toString() });

function registerTxCli(tx: Command): void {
  const txC = tx.command('community').description('energy communities: create, traders, meters, settle with the parent');
  txCommand(txC, 'create', {
    description: 'create a community (operator or utility); the sender owns it',
    options: {
      name: opt.text('display name', { required: true, arg: 'name' }),
      timezone: opt.text('IANA time zone, e.g. Europe/Amsterdam', { required: true, arg: 'tz' }),
      parent: opt.text('parent community (the sender must be a trader there; it represents this community)', { arg: 'id' }),
      id: opt.text('choose the id (default: assigned c1, c2, …; see the energy.community_created event)', { arg: 'id' }),
    },
    msgs: (o) => [{ type: MSG.createCommunity, value: { name: o.name, timezone: o.timezone, ...(o.parent ? { parent: o.parent } : {}), ...(o.id ? { id: o.id } : {}) } }],
  });
  for (const [name, type, description] of [
    ['add-trader', MSG.addTrader, 'grant the trader role in a community (owner)'],
    ['remove-trader', MSG.removeTrader, 'remove a trader (refused while it has linked meters or non-zero balances)'],
  ] as const) {
    txCommand(txC, name, {
      description,
      options: { community, address: opt.address('trader account', { required: true }) },
      msgs: (o) => [{ type, value: { community: o.community, address: o.address } }],
    });
  }
  txCommand(txC, 'add-meter', {
    description: 'register the meter device (if new) and link it to a trader of the community (owner); a meter registered before needs its custodian (or a release); links never start before the current slot',
    options: {
      community,
      meter: opt.text('meter id', { required: true, arg: 'id' }),
      kind: opt.choice(['producer', 'consumer'] as const)('producer or consumer', { required: true }),
      trader: opt.address('linked trader', { required: true }),
      labels: opt.labels('labels: of produced energy for a producer (e.g. solar,local), of consumed energy for a consumer (e.g. heatpump)'),
      address: opt.address("the meter's own account (role meter); required for a new meter"),
      maxPowerW: opt.int('maximum power in W; required for a new meter', { arg: 'W' }),
      deviceId: opt.text('device id, e.g. DSMR equipment identifier (default: the meter id)', { arg: 'id' }),
      fromSlot: opt.slot('first slot of the link (must be in the future; default: next slot if linked before, else the current slot)', { future: true }),
    },
    msgs: (o) => [
      {
        type: MSG.addMeter,
        value: {
          community: o.community,
          meterId: o.meter,
          kind: o.kind,
          trader: o.trader,
          ...(o.labels && o.labels.length > 0 ? { labels: o.labels } : {}),
          ...(o.address ? { address: o.address } : {}),
          ...(o.maxPowerW !== undefined ? { maxPowerW: o.maxPowerW } : {}),
          ...(o.deviceId ? { deviceId: o.deviceId } : {}),
          ...(o.fromSlot !== undefined ? { fromSlot: o.fromSlot } : {}),
        },
      },
    ],
  });
  txCommand(txC, 'release-meter', {
    description: "let the owner of another community link a meter in your custody (registrant, or owner of the community where it was last linked); the meter must be unlinked",
    options: { meter: opt.text('meter id', { required: true, arg: 'id' }), community: opt.text('community that may link it', { required: true, arg: 'id' }) },
    msgs: (o) => [{ type: MSG.releaseMeter, value: { meterId: o.meter, community: o.community } }],
  });
  txCommand(txC, 'remove-meter', {
    description: 'unlink a meter from a future slot on (owner)',
    options: { community, meter: opt.text('meter id', { required: true, arg: 'id' }), fromSlot: opt.slot('first unlinked slot, in the future (default: the next slot)', { future: true }) },
    msgs: (o) => [{ type: MSG.removeMeter, value: { community: o.community, meterId: o.meter, ...(o.fromSlot !== undefined ? { fromSlot: o.fromSlot } : {}) } }],
  });

  const txE = tx.command('energy').description('labelled energy per slot: transfer, reduce, mutate, settle with the parent');
  txCommand(txE, 'transfer', {
    description: 'give energy of one slot and label set to another trader of the community',
    options: {
      community,
      to: opt.address('receiving trader', { required: true }),
      slot,
      labels: opt.labels('label set, e.g. solar (default: unlabelled)', { default: '' }),
      wh: amount,
      description: opt.text('a note kept in both traders\' history (at most 256 characters)'),
    },
    msgs: (o) => [{ type: MSG.transfer, value: { community: o.community, to: o.to, slot: o.slot, labels: o.labels ?? [], wh: o.wh, ...(o.description !== undefined ? { description: o.description } : {}) } }],
  });
  txCommand(txE, 'reduce', {
    description: 'remove labels from an amount, moving it to the smaller label set',
    options: { community, slot, labels: opt.labels('current label set, e.g. solar,local', { required: true }), remove: opt.labels('labels to remove, e.g. solar', { required: true }), wh: amount },
    msgs: (o) => [{ type: MSG.reduce, value: { community: o.community, slot: o.slot, labels: o.labels, remove: o.remove, wh: o.wh } }],
  });
  txCommand(txE, 'mutate', {
    description: "change any trader's balance (owner), e.g. energy supplied by an external party; recorded as an adjustment",
    options: {
      community,
      trader: opt.address('trader (or the owner itself)', { required: true }),
      slot,
      labels: opt.labels('label set (default: unlabelled)'),
      wh: opt.int('signed amount in Wh (use --wh=-500 or --wh -500)', { required: true, signed: true, arg: 'Wh' }),
      description: opt.text('why (required)', { required: true }),
    },
    msgs: (o) => [
      { type: MSG.mutate, value: { community: o.community, trader: o.trader, slot: o.slot, ...(o.labels && o.labels.length > 0 ? { labels: o.labels } : {}), wh: o.wh, description: o.description } },
    ],
  });
  for (const parent of [txC, txE]) {
    txCommand(parent, 'settle-to-parent', {
      description: "move the community's net position of a slot into its parent community (owner)",
      options: { community: opt.text('member community id', { required: true, arg: 'id' }), slot },
      msgs: (o) => [{ type: MSG.settleToParent, value: { community: o.community, slot: o.slot } }],
    });
  }
}

function registerQueryCli(query: Command): void {
  const qE = query.command('energy').alias('community').description('communities, balances, day positions, history, adjustments, reconciliation');
  queryCommand(qE, 'communities', {
    description: 'communities in id order, a page at a time',
    options: { after: opt.text("continue after this community id (the previous answer's next)", { arg: 'id' }), limit: opt.int('page size (1–500)', { default: '100' }) },
    route: energyRoutes.listCommunities,
    input: (o) => ({ query: { after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.communities.map((c) => `${c.id}  ${c.name}  owner ${c.owner}  ${c.timezone}${c.parent ? `  parent ${c.parent}` : ''}`), v),
  });
  queryCommand(qE, 'community', {
    description: 'a community with its traders, member communities and meters',
    args: ['id'],
    route: energyRoutes.getCommunity,
    input: (_o, [id]) => ({ params: { id: id! } }),
    text: (v) =>
      [
        `community  ${v.community.id} (${v.community.name})`,
        `owner      ${v.community.owner}`,
        `timezone   ${v.community.timezone}`,
        ...(v.community.parent ? [`parent     ${v.community.parent}`] : []),
        ...(v.children.length ? [`members    ${v.children.join(', ')}${v.childrenNext ? ', …' : ''}`] : []),
        ...(v.childrenNext ? [`more members: query energy children --community ${v.community.id} --after ${v.childrenNext}`] : []),
        'traders',
        ...v.traders.map(traderLine),
        ...(v.tradersNext ? [`more traders: query energy traders --community ${v.community.id} --after ${v.tradersNext}`] : []),
        'meters',
        ...v.meters.flatMap((m) => meterLines(v.community.id, m)),
        ...(v.metersNext ? [`more meters: query energy meters --community ${v.community.id} --after ${v.metersNext}`] : []),
      ].join('\n'),
  });
  const page = { after: opt.text("continue after this id (the previous answer's next)", { arg: 'id' }), limit: opt.int('page size (1–500)', { default: '100' }) };
  queryCommand(qE, 'traders', {
    description: "a community's traders (active and removed) by address, a page at a time",
    options: { community, after: opt.address("continue after this trader (the previous answer's next)"), limit: page.limit },
    route: energyRoutes.traders,
    input: (o) => ({ params: { id: o.community }, query: { after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.traders.map(traderLine), v),
  });
  queryCommand(qE, 'meters', {
    description: 'the meters ever linked in a community, with their links here, a page at a time',
    options: { community, ...page },
    route: energyRoutes.meters,
    input: (o) => ({ params: { id: o.community }, query: { after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.meters.flatMap((m) => meterLines(v.community, m)), v),
  });
  queryCommand(qE, 'children', {
    description: "a community's member communities, a page at a time",
    options: { community, ...page },
    route: energyRoutes.children,
    input: (o) => ({ params: { id: o.community }, query: { after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.children, v),
  });
  queryCommand(qE, 'trader-communities', {
    description: 'the communities where an account is or was a trader, with the meters ever linked to it there',
    args: ['address'],
    options: page,
    route: energyRoutes.traderCommunities,
    input: (o, [address], cmd) => ({ params: { address: resolveAddress(cmd, address!, 'address') }, query: { after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.communities.map((c) => `${c.community.id}  ${c.community.name}  ${c.trader.status}  meters ${c.meters.join(', ') || '-'}`), v),
  });
  queryCommand(qE, 'owners', {
    description: 'the owner of a community and of each community above it, nearest first',
    args: ['id'],
    route: energyRoutes.communityOwners,
    input: (_o, [id]) => ({ params: { id: id! } }),
    text: (v) => v.owners.map((o) => `${o.community}  ${o.owner}`).join('\n'),
  });
  queryCommand(qE, 'meter-links', {
    description: 'the communities and traders a meter was linked to, oldest first',
    args: ['meterId'],
    route: energyRoutes.meterLinks,
    input: (_o, [meterId]) => ({ params: { meterId: meterId! } }),
    text: (v) => v.links.map((l) => `${l.community}  ${l.kind}  from slot ${l.fromSlot}  ${l.trader ?? '(unlinked)'}  ${showLabels(l.labels)}`).join('\n') || '(never linked)',
  });
  queryCommand(qE, 'balances', {
    description: 'balances by trader, slot and labels, with totals',
    options: { community, trader: opt.address('only this trader'), slot: opt.slot('only this slot (index or ISO)'), ...range, labels: opt.text('only this exact label set ("-" = unlabelled)', { arg: 'list' }) },
    route: energyRoutes.balances,
    input: (o) => ({ params: { id: o.community }, query: { trader: o.trader, ...rangeQuery(o), labels: o.labels } }),
    text: (v) =>
      [
        ...v.balances.map((b) => `${b.slot} ${b.slotIso}  ${b.trader}  ${showLabels(b.labels).padEnd(14)} ${String(b.wh).padStart(12)} Wh`),
        ...(v.balances.length === 0 ? ['(no non-zero balances)'] : []),
        `total ${v.totals.wh} Wh`,
        ...v.totals.byLabels.map((l) => `  ${showLabels(l.labels).padEnd(14)} ${l.wh} Wh`),
      ].join('\n'),
  });
  queryCommand(qE, 'day', {
    description: "a trader's or the community's net position per slot of a local day (96, 92 or 100 slots)",
    options: { community, day: opt.text('local calendar day in the community time zone', { required: true, arg: 'YYYY-MM-DD' }), trader: opt.address('only this trader') },
    route: energyRoutes.day,
    input: (o) => ({ params: { id: o.community }, query: { day: o.day, trader: o.trader } }),
    text: (v) => [`${v.day} (${v.timezone}): ${v.slots} slots from ${v.firstSlot}, total ${v.totalWh} Wh`, ...v.positions.filter((p) => p.wh !== 0 || p.byLabels.length > 0).map((p) => `  ${p.slot} ${p.local}  ${p.wh} Wh`)].join('\n'),
  });
  queryCommand(qE, 'history', {
    description: "every change of a trader's balance with the transaction behind it",
    options: {
      community,
      trader: opt.address('trader', { required: true }),
      slot: opt.slot('only this slot'),
      ...range,
      newestFirst: opt.flag('newest entries first (default: oldest first)'),
      after: opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' }),
      limit: opt.int('at most this many entries', { default: '1000' }),
    },
    route: energyRoutes.history,
    input: (o) => ({ params: { id: o.community }, query: { trader: o.trader, ...rangeQuery(o), order: o.newestFirst ? ('desc' as const) : ('asc' as const), after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.entries.map((e) => `h${e.height}  slot ${e.slot}  ${e.kind.padEnd(17)} ${showLabels(e.labels).padEnd(14)} ${e.deltaWh >= 0 ? '+' : ''}${e.deltaWh} → ${e.balanceWh} Wh  tx ${e.txHash}`), v),
  });
  queryCommand(qE, 'adjustments', {
    description: 'owner mutations and settlements with the parent, oldest first',
    options: { community, ...range, after: opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' }), limit: opt.int('page size (1–10000)', { default: '1000' }) },
    route: energyRoutes.adjustments,
    input: (o) => ({ params: { id: o.community }, query: { ...rangeQuery(o), after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.adjustments.map((e) => `h${e.height}  slot ${e.slot}  ${e.kind}  ${e.trader}  ${showLabels(e.labels)}  ${e.deltaWh} Wh  ${e.description ?? ''}`), v),
  });
  queryCommand(qE, 'differences', {
    description: 'grid-operator reconciliation: official − reported per meter and slot, a page at a time with its totals',
    options: { community, ...range, after: opt.text("continue at this cursor (the previous answer's next)", { arg: 'cursor' }), limit: opt.int('page size (1–10000)', { default: '1000' }) },
    route: energyRoutes.differences,
    input: (o) => ({ params: { id: o.community }, query: { ...rangeQuery(o), after: o.after, limit: o.limit } }),
    text: (v) =>
      pageText(
        [
          ...v.differences.map((d) => `${d.slot} ${d.slotIso}  meter ${d.meterId}  trader ${d.trader}  import ${d.importDiffWh} Wh  export ${d.exportDiffWh} Wh`),
          `total${v.next ? ' (this page)' : ''}  import ${v.totals.importDiffWh} Wh  export ${v.totals.exportDiffWh} Wh`,
        ],
        v,
      ),
  });
}

export const energySurface: ModuleSurface = {
  routes,
  cli: ({ tx, query }) => {
    registerTxCli(tx);
    registerQueryCli(query);
  },
};

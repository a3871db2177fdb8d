import type { AppModule } from '../../app/module.js';
import { onMeterReading } from '../metering/rules.js';
import { registerEnergyCli } from './cli.js';
import { addMeterMsg, createCommunityMsg, MSG, mutateMsg, reduceMsg, removeMeterMsg, settleMsg, traderMsg, transferMsg } from './messages.js';
import { adjustmentsQuery, balancesQuery, dayQuery, differencesQuery, historyQuery } from './queries.js';
import { energyRoutes } from './routes.js';
import { addMeter, addTrader, applyReading, createCommunity, mutate, reduce, removeMeter, removeTrader, settleToParent, transfer } from './rules.js';
import { listChildren, listCommunities, listCommunityMeters, listLinks, listTraders, requireCommunity } from './state.js';

// Accepted meter readings book energy to the trader linked to the meter at that slot.
onMeterReading('energy', applyReading);

export const energyModule: AppModule = {
  name: 'energy',
  messages: {
    [MSG.createCommunity]: { schema: createCommunityMsg, execute: createCommunity },
    [MSG.addTrader]: { schema: traderMsg, execute: addTrader },
    [MSG.removeTrader]: { schema: traderMsg, execute: removeTrader },
    [MSG.addMeter]: { schema: addMeterMsg, execute: addMeter },
    [MSG.removeMeter]: { schema: removeMeterMsg, execute: removeMeter },
    [MSG.transfer]: { schema: transferMsg, execute: transfer },
    [MSG.reduce]: { schema: reduceMsg, execute: reduce },
    [MSG.mutate]: { schema: mutateMsg, execute: mutate },
    [MSG.settleToParent]: { schema: settleMsg, execute: settleToParent },
  },
  routes: [
    { route: energyRoutes.listCommunities, handle: (store) => ({ communities: listCommunities(store) }) },
    {
      route: energyRoutes.getCommunity,
      handle: (store, { params }) => ({
        community: requireCommunity(store, params.id),
        traders: listTraders(store, params.id),
        children: listChildren(store, params.id),
        meters: listCommunityMeters(store, params.id).map((meterId) => ({ meterId, links: listLinks(store, meterId) })),
      }),
    },
    { route: energyRoutes.balances, handle: (store, { params, query }) => balancesQuery(store, params.id, query) },
    { route: energyRoutes.day, handle: (store, { params, query }) => dayQuery(store, params.id, query) },
    { route: energyRoutes.history, handle: (store, { params, query }) => historyQuery(store, params.id, query) },
    { route: energyRoutes.adjustments, handle: (store, { params, query }) => adjustmentsQuery(store, params.id, query) },
    { route: energyRoutes.differences, handle: (store, { params, query }) => differencesQuery(store, params.id, query) },
  ],
  cli: registerEnergyCli,
};

export { energyRoutes, MSG as ENERGY_MSG };
export { getBalance, getCommunity, isActiveTrader, linkAt, type Community, type MeterLink } from './state.js';
export { meteringModule } from '../metering/index.js';

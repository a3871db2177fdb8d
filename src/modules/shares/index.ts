import type { AppModule } from '../../app/module.js';
import { MSG, registerPlantMsg, setKeyMsg, transferMsg } from './messages.js';
import { dayHoldings, participantHoldings, plantSegmentsQuery } from './queries.js';
import { sharesRoutes } from './routes.js';
import { registerPlant, requirePlant, setKey, transfer } from './rules.js';
import { getPlant, listPlants, plantsOfUtility, readLog, type Plant } from './state.js';
import { registerSharesCli } from './cli.js';

export const sharesModule: AppModule = {
  name: 'shares',
  messages: {
    [MSG.registerPlant]: { schema: registerPlantMsg, execute: registerPlant },
    [MSG.setKey]: { schema: setKeyMsg, execute: setKey },
    [MSG.transfer]: { schema: transferMsg, execute: transfer },
  },
  routes: [
    { route: sharesRoutes.getPlant, handle: (store, { params }) => requirePlant(store, params.plant) },
    {
      route: sharesRoutes.listPlants,
      handle: (store, { query }) => {
        if (query.utility) {
          const ids = plantsOfUtility(store, query.utility).filter((id) => query.after === undefined || id > query.after);
          return { plants: ids.slice(0, query.limit).map((id) => getPlant(store, id)).filter((p): p is Plant => p !== undefined) };
        }
        return { plants: listPlants(store, { after: query.after, limit: query.limit }) };
      },
    },
    { route: sharesRoutes.plantHoldings, handle: (store, { params, query }) => dayHoldings(store, params.plant, query.day) },
    { route: sharesRoutes.participantHoldings, handle: (store, { params, query }) => participantHoldings(store, params.plant, params.address, query.fromSlot, query.toSlot) },
    { route: sharesRoutes.plantSegments, handle: (store, { params, query }) => plantSegmentsQuery(store, params.plant, query.fromSlot, query.toSlot) },
    {
      route: sharesRoutes.plantTransfers,
      handle: (store, { params, query }) => {
        requirePlant(store, params.plant);
        return { entries: readLog(store, params.plant, query) };
      },
    },
  ],
  cli: registerSharesCli,
};

export { sharesRoutes, MSG as SHARES_MSG };
export { getPlant, plantsOfUtility, PPM_TOTAL, type Plant, type Participant, type KeyVersion } from './state.js';
export { participantSegments, expandSegments, keyAt, keysOverlapping, participantsOverlapping, type Segment } from './holdings.js';
export { plantSegments } from './queries.js';

import { defineModule, handler } from '../../app/module.js';
import { E } from './errors.js';
import { sharesKeeper, type SharesKeeper } from './keeper.js';
import { MSG, registerPlantMsg, setKeyMsg, transferMsg } from './messages.js';
import { registerPlant, REQUIRES, setKey, transfer } from './rules.js';
import { indexPlantMeters } from './state.js';

export const sharesCore = defineModule<SharesKeeper>({
  name: 'shares',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.registerPlant]: handler(registerPlantMsg, registerPlant),
    [MSG.setKey]: handler(setKeyMsg, setKey),
    [MSG.transfer]: handler(transferMsg, transfer),
  },
  keeper: sharesKeeper,
  // 2: the plants of each meter are indexed (shares/by-meter/): the read policy finds a meter's plants without reading every plant (ADR 0029).
  stateVersions: { latest: 2, migrations: { 2: (ctx) => indexPlantMeters(ctx.store) } },
});

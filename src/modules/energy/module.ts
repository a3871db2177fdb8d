import { defineModule, handler, on } from '../../app/module.js';
import { readingAccepted } from '../metering/keeper.js';
import { E } from './errors.js';
import { energyKeeper, type EnergyKeeper } from './keeper.js';
import { addMeterMsg, createCommunityMsg, MSG, mutateMsg, reduceMsg, releaseMeterMsg, removeMeterMsg, settleMsg, traderMsg, transferMsg } from './messages.js';
import { addMeter, addTrader, applyReading, createCommunity, mutate, reduce, releaseMeter, removeMeter, removeTrader, REQUIRES, settleToParent, transfer } from './rules.js';

export const energyCore = defineModule<EnergyKeeper>({
  name: 'energy',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.createCommunity]: handler(createCommunityMsg, createCommunity),
    [MSG.addTrader]: handler(traderMsg, addTrader),
    [MSG.removeTrader]: handler(traderMsg, removeTrader),
    [MSG.addMeter]: handler(addMeterMsg, addMeter),
    [MSG.removeMeter]: handler(removeMeterMsg, removeMeter),
    [MSG.releaseMeter]: handler(releaseMeterMsg, releaseMeter),
    [MSG.transfer]: handler(transferMsg, transfer),
    [MSG.reduce]: handler(reduceMsg, reduce),
    [MSG.mutate]: handler(mutateMsg, mutate),
    [MSG.settleToParent]: handler(settleMsg, settleToParent),
  },
  // Accepted meter readings book energy to the trader linked to the meter at that slot.
  hooks: [on(readingAccepted, applyReading)],
  keeper: energyKeeper,
});

import { z } from 'zod';
import { defineModule, handler } from '../../app/module.js';
import { E } from './errors.js';
import { meteringKeeper, type MeteringKeeper } from './keeper.js';
import { MSG, officialMsg, readingMsg, registerMeterMsg, replaceDeviceMsg, rotateKeyMsg } from './messages.js';
import { registerMeter, replaceDevice, REQUIRES, rotateKey, submitOfficial, submitReading, type MeteringParams } from './rules.js';
import { DEFAULT_READING_WINDOW_SLOTS } from './state.js';

const params = z.object({ readingWindowSlots: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();

export const meteringCore = defineModule<MeteringKeeper, MeteringParams>({
  name: 'metering',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.register]: handler(registerMeterMsg, registerMeter),
    [MSG.reading]: handler(readingMsg, submitReading),
    [MSG.official]: handler(officialMsg, submitOfficial),
    [MSG.rotateKey]: handler(rotateKeyMsg, rotateKey),
    [MSG.replaceDevice]: handler(replaceDeviceMsg, replaceDevice),
  },
  params: { schema: params, defaults: { readingWindowSlots: DEFAULT_READING_WINDOW_SLOTS } },
  keeper: meteringKeeper,
});

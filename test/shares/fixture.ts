import { registryCore } from '../../src/modules/registry/module.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { sharesCore } from '../../src/modules/shares/module.js';
import { settlementCore } from '../../src/modules/settlement/module.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { account, TestChain } from '../helpers/chain.js';

export const util = account('utility');
export const util2 = account('utility2');
export const gridop = account('gridop');
export const A = account('alice');
export const B = account('bob');
export const C = account('carol');
export const D = account('dave');
export const outsider = account('mallory');

/** `stateVersions`: genesis state versions (default the newest, as `init` writes). */
export function newChain(genesisTime = Date.UTC(2026, 2, 1, 0, 0, 0), stateVersions?: Record<string, number>): TestChain {
  return new TestChain({
    modules: [registryCore, meteringCore, sharesCore, settlementCore],
    genesisTime,
    ...(stateVersions ? { stateVersions } : {}),
    accounts: { utility: ['utility'], utility2: ['utility'], gridop: ['grid-operator'], alice: ['prosumer'], bob: ['consumer'], carol: ['prosumer'], dave: ['consumer'], mallory: ['consumer'] },
  });
}

export function registerMsg(plant = 'house-1', timezone = 'Europe/Vienna', key: Array<[string, number]> = [[A.address, 200_000], [B.address, 200_000], [C.address, 600_000]]) {
  return {
    type: 'shares/register-plant',
    value: {
      plant,
      name: 'Building 1',
      peakPowerW: 30_000,
      timezone,
      productionMeter: `${plant}-pv`,
      participants: key.map(([address, ppm], i) => ({ address, utility: i % 2 === 0 ? util.address : util2.address, ppm, meter: `${plant}-m${i}` })),
    },
  };
}

export function transferMsg(to: string, ppm: number, fromSlot: number, toSlot: number, plant = 'house-1') {
  return { type: 'shares/transfer', value: { plant, to, ppm, fromSlot, toSlot } };
}

export const slotAt = (ms: number) => Math.floor(ms / SLOT_MS);

/** Everything the shares and settlement modules hold (a rejected tx moves only the sender's nonce, outside these prefixes). */
export function moduleState(chain: TestChain): Array<[string, unknown]> {
  return [...chain.store.scan('shares/'), ...chain.store.scan('settlement/')];
}

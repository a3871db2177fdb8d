import type { ModuleEntry } from '../../surface/index.js';
import { marketCore } from './module.js';
import { marketSurface } from './surface.js';

export const market: ModuleEntry = { core: marketCore, surface: marketSurface };

export { BILL_KIND, type MarketBill, type BillLine, type BillItem } from './billing.js';
export { clearUniform, type ClearOrder, type Fill, type ProductResult } from './clearing.js';
export type { MarketKeeper } from './keeper.js';

import type { ModuleEntry } from '../../surface/index.js';
import { paymentsCore } from './module.js';
import { paymentsSurface } from './surface.js';

export const payments: ModuleEntry = { core: paymentsCore, surface: paymentsSurface };

export { claimFundsOwner, type FundsOwner, type PaymentsKeeper } from './keeper.js';
export { signVoucher, verifyVoucher, voucherSignBytes, type Voucher, type VoucherBody, type VoucherCheck } from './voucher.js';
export { amountSchema, formatUnits, toAmount, amountString, MAX_AMOUNT, DECIMALS } from './amount.js';

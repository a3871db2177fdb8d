import { z } from 'zod';
import { defineModule, handler } from '../../app/module.js';
import { recordBills } from './bills.js';
import { openMarket, setTariffs } from './config.js';
import { acceptContract, disputeContract, endContract, migrateToActiveByConsumer, proposeContract, resolveContract } from './contracts.js';
import { marketEndBlock, migrateToDueCommunities } from './endblock.js';
import { E } from './errors.js';
import { marketKeeper, type MarketKeeper } from './keeper.js';
import { bidMsg, cancelMsg, contractDisputeMsg, contractIdMsg, contractProposeMsg, contractResolveMsg, MSG, offerMsg, openMarketMsg, recordBillsMsg, setTariffsMsg } from './messages.js';
import { cancelOrder, postBid, postOffer } from './orders.js';
import { DEFAULT_PARAMS, REQUIRES, type MarketParams } from './rules.js';

const count = (max: number) => z.number().int().min(1).max(max);

const params = z
  .object({
    maxOrderWh: count(1_000_000_000_000),
    maxPrice: count(1_000_000_000_000),
    maxFutureSlots: count(366 * 96),
    maxOpenOrdersPerTrader: count(100_000),
    maxOrdersPerSession: count(1_000_000),
    maxScanPerOrder: count(1_000_000),
    endBlockWork: count(10_000_000),
    maxContractSlots: count(366 * 96),
    maxNoticeSlots: count(366 * 96),
    disputeWindowSec: z.number().int().min(0).max(366 * 86_400),
  })
  .strict()
  .refine((p) => 2 * p.maxOrdersPerSession + 1 <= p.endBlockWork, {
    message: 'a gate closure must fit one block: 2 × maxOrdersPerSession + 1 ≤ endBlockWork',
  });

export const marketCore = defineModule<MarketKeeper, MarketParams>({
  name: 'market',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.open]: handler(openMarketMsg, openMarket),
    [MSG.setTariffs]: handler(setTariffsMsg, setTariffs),
    [MSG.offer]: handler(offerMsg, postOffer),
    [MSG.bid]: handler(bidMsg, postBid),
    [MSG.cancel]: handler(cancelMsg, cancelOrder),
    [MSG.contractPropose]: handler(contractProposeMsg, proposeContract),
    [MSG.contractAccept]: handler(contractIdMsg, acceptContract),
    [MSG.contractEnd]: handler(contractIdMsg, endContract),
    [MSG.contractDispute]: handler(contractDisputeMsg, disputeContract),
    [MSG.contractResolve]: handler(contractResolveMsg, resolveContract),
    [MSG.recordBills]: handler(recordBillsMsg, recordBills),
  },
  params: { schema: params, defaults: DEFAULT_PARAMS },
  keeper: marketKeeper,
  endBlock: marketEndBlock,
  // 2: the end of block visits only the communities whose delivery is due (market/due/, ADR 0029).
  // 3: a consumer's active contracts are indexed (market/activeby/): bids and proposals read those alone.
  stateVersions: { latest: 3, migrations: { 2: migrateToDueCommunities, 3: migrateToActiveByConsumer } },
});

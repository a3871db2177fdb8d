import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import type { RouteDef, RouteInput } from '../src/api/route.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { loginWith } from '../src/cli/session.js';
import { openKeyring } from '../src/home/home.js';
import { energyRoutes } from '../src/modules/energy/routes.js';
import { meteringRoutes } from '../src/modules/metering/routes.js';
import { registryRoutes } from '../src/modules/registry/routes.js';
import { slotOfMs } from '../src/util/slots.js';
import { benchSigner, startBenchNetwork, submitBatches, waitCommitted } from './foundation.js';

/**
 * Read-policy benchmark: what a private read of one meter's readings costs when the caller is not a
 * party found without a search (the meter's own account, its registrant, grid operators), so the
 * policy looks up the meter's linked traders, their communities' owners and the plants (issue 10's
 * read policy). A node with `communities` communities of `metersPerCommunity` meters, each linked to
 * its community's one trader; the meter read is in the first. Sequential requests from one client:
 * the linked trader (allowed after the search), a trader of another community (refused after the
 * whole search), and the meter's public record (no policy work) as the reference for the HTTP path.
 * Then one community of `members` traders with a meter each: a member's own balances, as the member
 * (the policy finds the community's owners first) and as an auditor (no search): the difference is
 * what the policy adds to the most common private read of the dashboard. That member also has
 * `historyEntries` balance changes (owner mutations): their history read as the route's default
 * (oldest 1,000) and as the Prosumer page asks for it (newest 25). Last, two public lists whose
 * answer is a page (ADR 0028): the first page of accounts with role trader (about one in five
 * accounts admitted here) and the first page of communities.
 */
export interface ReadPolicyResult {
  communities: number;
  metersPerCommunity: number;
  requests: number;
  /** Requests per second of each kind (one client, one at a time). */
  publicMeterPerSec: number;
  linkedTraderReadingsPerSec: number;
  refusedReadingsPerSec: number;
  /** µs per request above the public reference: what the policy's search adds. */
  linkedTraderPolicyUs: number;
  refusedPolicyUs: number;
  members: number;
  ownBalancesAsMemberPerSec: number;
  ownBalancesAsAuditorPerSec: number;
  /** µs per request the member's read costs above the auditor's. */
  memberPolicyUs: number;
  historyEntries: number;
  historyOldest1000PerSec: number;
  historyNewest25PerSec: number;
  /** Public list routes over the whole registry and community set: the first page (100) of accounts with role trader (~3,500 of ~17,000 accounts), and the first page of communities. */
  accountsByRolePerSec: number;
  communitiesFirstPagePerSec: number;
}

/** Messages per setup transaction: community, trader (admit + add) and, per meter, admit + add-meter. */
const MAX_METERS_PER_COMMUNITY = 30;
/** Members per setup transaction of the large community: admit + add-trader + admit meter + add-meter each. */
const MEMBERS_PER_TX = 15;
const BIG = 'rp-big';

export async function benchReadPolicy(options: { communities: number; metersPerCommunity: number; members: number; historyEntries: number; requests: number }): Promise<ReadPolicyResult> {
  const { communities, metersPerCommunity, members, historyEntries, requests } = options;
  if (metersPerCommunity > MAX_METERS_PER_COMMUNITY) throw new Error(`at most ${MAX_METERS_PER_COMMUNITY} meters per community (one setup transaction each)`);
  const net = await startBenchNetwork(1);
  const url = net.urls[0]!;
  try {
    const { chainId } = await callRoute(url, coreRoutes.status, {});
    const keyring = openKeyring(net.home, 'test');
    const admin = { signer: keyring.signer('admin'), address: keyring.show('admin').address };
    let nonce = (await callRoute(url, coreRoutes.accountNonce, { params: { address: admin.address } })).next;
    const adminTx = (msgs: Msg[]) => signTx({ chainId, sender: admin.address, nonce: nonce++, expiresAtHeight: 1_000_000, msgs, memo: 'bench setup' }, admin.signer);
    const trader = (c: number) => benchSigner('read-policy', `trader-${c}`);
    const setup: SignedTx[] = [];
    for (let c = 0; c < communities; c++) {
      const id = `rp${c}`;
      const t = trader(c);
      const msgs: Msg[] = [
        { type: 'energy/create-community', value: { id, name: `Read policy ${c}`, timezone: 'Europe/Amsterdam' } },
        { type: 'registry/admit', value: { address: t.address, roles: ['trader'] } },
        { type: 'energy/add-trader', value: { community: id, address: t.address } },
      ];
      for (let m = 0; m < metersPerCommunity; m++) {
        const meter = benchSigner('read-policy', `meter-${c}-${m}`);
        msgs.push({ type: 'registry/admit', value: { address: meter.address, roles: ['meter'] } });
        msgs.push({ type: 'energy/add-meter', value: { community: id, meterId: `rp${c}-m${m}`, kind: 'consumer', trader: t.address, address: meter.address, maxPowerW: 10_000 } });
      }
      setup.push(adminTx(msgs));
    }
    const member = (i: number) => benchSigner('read-policy', `member-${i}`);
    const auditor = benchSigner('read-policy', 'auditor');
    setup.push(
      adminTx([
        { type: 'energy/create-community', value: { id: BIG, name: 'Read policy, large', timezone: 'Europe/Amsterdam' } },
        { type: 'registry/admit', value: { address: auditor.address, roles: ['auditor'] } },
      ]),
    );
    for (let b = 0; b < members; b += MEMBERS_PER_TX) {
      const msgs: Msg[] = [];
      for (let i = b; i < Math.min(members, b + MEMBERS_PER_TX); i++) {
        const t = member(i);
        const meter = benchSigner('read-policy', `member-meter-${i}`);
        msgs.push({ type: 'registry/admit', value: { address: t.address, roles: ['trader'] } });
        msgs.push({ type: 'energy/add-trader', value: { community: BIG, address: t.address } });
        msgs.push({ type: 'registry/admit', value: { address: meter.address, roles: ['meter'] } });
        msgs.push({ type: 'energy/add-meter', value: { community: BIG, meterId: `${BIG}-m${i}`, kind: 'consumer', trader: t.address, address: meter.address, maxPowerW: 10_000 } });
      }
      setup.push(adminTx(msgs));
    }
    // the owner's mutations of member 0's balance: one history entry each
    const slot = slotOfMs(Date.now()) - 4;
    for (let b = 0; b < historyEntries; b += 50) {
      const msgs: Msg[] = Array.from({ length: Math.min(50, historyEntries - b) }, () => ({ type: 'energy/mutate', value: { community: BIG, trader: member(0).address, slot, wh: 1, description: 'bench' } }));
      setup.push(adminTx(msgs));
    }
    await waitCommitted(url, await submitBatches(url, setup, 50, 1));

    const linked = (await loginWith(url, trader(0).signer)).token;
    const stranger = (await loginWith(url, trader(1).signer)).token;
    const readings = { params: { meterId: 'rp0-m0' }, query: {} } as RouteInput<typeof meteringRoutes.listReadings>;
    const rate = async <R extends RouteDef>(route: R, input: RouteInput<R>, token: string | undefined, refused: boolean): Promise<number> => {
      const once = () =>
        callRoute(url, route, input, { token }).then(
          () => {
            if (refused) throw new Error(`${route.name} answered a caller the policy should refuse`);
          },
          (err: { code?: string }) => {
            if (!refused || err.code !== 'READ_FORBIDDEN') throw err;
          },
        );
      for (let i = 0; i < Math.min(20, requests); i++) await once(); // warm-up: JIT, caches
      const t0 = performance.now();
      for (let i = 0; i < requests; i++) await once();
      return requests / ((performance.now() - t0) / 1000);
    };
    const publicMeterPerSec = await rate(meteringRoutes.getMeter, { params: { meterId: 'rp0-m0' } }, undefined, false);
    const linkedTraderReadingsPerSec = await rate(meteringRoutes.listReadings, readings, linked, false);
    const refusedReadingsPerSec = await rate(meteringRoutes.listReadings, readings, stranger, true);
    const ownBalances = { params: { id: BIG }, query: { trader: member(0).address } } as RouteInput<typeof energyRoutes.balances>;
    const ownBalancesAsMemberPerSec = await rate(energyRoutes.balances, ownBalances, (await loginWith(url, member(0).signer)).token, false);
    const auditorToken = (await loginWith(url, auditor.signer)).token;
    const ownBalancesAsAuditorPerSec = await rate(energyRoutes.balances, ownBalances, auditorToken, false);
    const history = (query: Record<string, unknown>) => ({ params: { id: BIG }, query: { trader: member(0).address, ...query } }) as RouteInput<typeof energyRoutes.history>;
    const historyOldest1000PerSec = await rate(energyRoutes.history, history({}), auditorToken, false);
    const historyNewest25PerSec = await rate(energyRoutes.history, history({ order: 'desc', limit: 25 }), auditorToken, false);
    const accountsByRolePerSec = await rate(registryRoutes.listAccounts, { query: { role: 'trader' } } as RouteInput<typeof registryRoutes.listAccounts>, undefined, false);
    const communitiesFirstPagePerSec = await rate(energyRoutes.listCommunities, { query: {} } as RouteInput<typeof energyRoutes.listCommunities>, undefined, false);
    const extraUs = (perSec: number, reference = publicMeterPerSec) => Math.round(1e6 / perSec - 1e6 / reference);
    return {
      communities,
      metersPerCommunity,
      requests,
      publicMeterPerSec: Math.round(publicMeterPerSec),
      linkedTraderReadingsPerSec: Math.round(linkedTraderReadingsPerSec),
      refusedReadingsPerSec: Math.round(refusedReadingsPerSec),
      linkedTraderPolicyUs: extraUs(linkedTraderReadingsPerSec),
      refusedPolicyUs: extraUs(refusedReadingsPerSec),
      members,
      ownBalancesAsMemberPerSec: Math.round(ownBalancesAsMemberPerSec),
      ownBalancesAsAuditorPerSec: Math.round(ownBalancesAsAuditorPerSec),
      memberPolicyUs: extraUs(ownBalancesAsMemberPerSec, ownBalancesAsAuditorPerSec),
      historyEntries,
      historyOldest1000PerSec: Math.round(historyOldest1000PerSec),
      historyNewest25PerSec: Math.round(historyNewest25PerSec),
      accountsByRolePerSec: Math.round(accountsByRolePerSec),
      communitiesFirstPagePerSec: Math.round(communitiesFirstPagePerSec),
    };
  } finally {
    await net.stop();
  }
}

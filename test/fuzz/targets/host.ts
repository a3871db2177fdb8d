import fc from 'fast-check';
import { NONCE_PREFIX } from '../../../src/app/nonce.js';
import { ZERO_HASH, type Commit } from '../../../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx } from '../../../src/codec/tx.js';
import { MODULE_CORES } from '../../../src/modules/index.js';
import { SLOT_MS } from '../../../src/util/slots.js';
import { account, TestChain, type TestAccount } from '../../helpers/chain.js';
import { codeOf, expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { declaredCodes } from '../lib/world.js';
import { arbitraryFor, type Dictionary } from '../lib/zod-arb.js';

/**
 * Every module's messages through the host: random message values (generated from each message
 * type's zod schema, biased to values the chain knows) from admitted and unknown senders go through
 * App.checkTx and App.executeBlock on a chain with communities, meters, a plant and a tariff. Each
 * is OK or a declared code (never INTERNAL_ERROR, never a throw, no bug reported by the kernel); a
 * rejected transaction writes nothing but its sender's nonce (compared with an empty block's
 * writes); accepted ones are committed now and then so the state evolves, and the stored state
 * root is recomputed from the state table every so often. After RESET_EVERY_COMMITS commits the
 * target starts again from a fresh chain: the chain's growth (state, slots crossed by end-of-block
 * work) otherwise slowed it from ~3,200 to ~250 inputs/s before 500,000 inputs, which kept 10⁶ out of reach.
 */

const RESET_EVERY_COMMITS = 2_000;

const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
const SLOT = Math.floor(GENESIS_TIME / SLOT_MS);

const ACCOUNTS: Record<string, string[]> = {
  utility: ['utility'],
  utility2: ['utility'],
  alice: ['trader', 'prosumer'],
  bob: ['trader', 'consumer'],
  carol: ['trader'],
  pmeter: ['meter'],
  cmeter: ['meter'],
  gridop: ['grid-operator'],
  auditor: ['auditor'],
};

interface HostInput {
  sender: number;
  msgs: Msg[];
  commit: boolean;
  advanceMs: number;
}

function setupChain(): { chain: TestChain; people: TestAccount[] } {
  const chain = new TestChain({ modules: MODULE_CORES, genesisTime: GENESIS_TIME, accounts: ACCOUNTS });
  const [utility, , alice, bob, , pmeter, cmeter] = Object.keys(ACCOUNTS).map(account);
  const ok = (from: TestAccount, msgs: Msg[]) => {
    const r = chain.send(from, msgs);
    if (r.code !== 'OK') throw new Error(`fuzz world setup: ${r.code} ${r.message}`);
  };
  ok(utility!, [{ type: 'energy/create-community', value: { id: 'hood', name: 'Hood', timezone: 'Europe/Amsterdam' } }]);
  ok(utility!, [
    { type: 'energy/add-trader', value: { community: 'hood', address: alice!.address } },
    { type: 'energy/add-trader', value: { community: 'hood', address: bob!.address } },
  ]);
  ok(utility!, [
    { type: 'energy/add-meter', value: { community: 'hood', meterId: 'P1', address: pmeter!.address, maxPowerW: 100_000, kind: 'producer', trader: alice!.address, labels: ['solar'] } },
    { type: 'energy/add-meter', value: { community: 'hood', meterId: 'C1', address: cmeter!.address, maxPowerW: 100_000, kind: 'consumer', trader: bob!.address } },
  ]);
  ok(utility!, [
    {
      type: 'shares/register-plant',
      value: {
        plant: 'house-1',
        name: 'Building 1',
        peakPowerW: 30_000,
        timezone: 'Europe/Vienna',
        productionMeter: 'house-1-pv',
        participants: [
          { address: alice!.address, utility: utility!.address, ppm: 400_000, meter: 'house-1-m0' },
          { address: bob!.address, utility: utility!.address, ppm: 600_000 },
        ],
      },
    },
  ]);
  ok(utility!, [{ type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 250_000, feedInMicroEurPerKwh: 80_000, fromSlot: SLOT + 200 } }]);
  const people = [chain.operator, ...Object.keys(ACCOUNTS).map(account), account('outsider')];
  return { chain, people };
}

export async function hostTarget(): Promise<FuzzTarget<HostInput>> {
  const codes = await declaredCodes();
  let { chain, people } = setupChain();
  const dict: Dictionary = {
    strings: [
      ...people.map((p) => p.address),
      'grid1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq',
      // Ids that exist come several times (more likely picked) than ids that do not.
      ...['hood', 'P1', 'C1', 'house-1', 'solar'].flatMap((id) => [id, id, id, id]),
      'other', 'c1', 'X9', 'house-2', 'house-1-pv', 'house-1-m0', 'solar', 'wind', 'grid',
      'Europe/Amsterdam', 'Europe/Vienna', 'UTC', 'Asia/Almaty', 'America/Asuncion', 'Mars/Base', '+01:00',
      '2026-06-05', '2026-06-01', '2026-02-30', '2030-01-01',
      'aa'.repeat(32), ...people.map((p) => p.publicKey), 'p1', 'p2', 'energy', 'metering', 'consumer', 'meter', '10', '0', '00', '1',
    ],
    // Message values are JSON integers on the wire (floats are canonical JSON's business: see the canonical target).
    odd: fc.oneof(fc.constantFrom<unknown>(null, true, '', ' ', 'x', -1, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, {}, [], [[]]), fc.string({ maxLength: 8 }), fc.integer()),
    oddEvery: 50,
    integers: [SLOT - 8, SLOT - 4, SLOT - 1, SLOT, SLOT + 1, SLOT + 4, SLOT + 96, SLOT + 200, SLOT + 96 * 30, 1, 2, 100, 1000, 10_000, 15_000, 100_000, 200_000, 400_000, 600_000, 1_000_000, 250_000, 80_000],
  };
  // The dictionary and arbitraries are built once: every fresh chain has the same accounts and types.
  const types = chain.app.messageTypes();
  const msg: fc.Arbitrary<Msg> = fc.oneof(
    ...types.map((type) => arbitraryFor(chain.app.kernel.handlerOf(type)!.handler.schema, dict).map((value) => ({ type, value }))),
    fc.record({ type: fc.constantFrom('energy/unknown', 'registry', 'x/y', 'REGISTRY/ADMIT'), value: fc.jsonValue({ maxDepth: 2 }) }),
  );
  const arbitrary = fc.record({
    // The operator and the utility may do most things: they send more often, so more messages reach the rules.
    sender: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.nat({ max: people.length - 1 }) }),
    msgs: fc.oneof({ weight: 4, arbitrary: msg.map((m) => [m]) }, { weight: 1, arbitrary: fc.array(msg, { minLength: 2, maxLength: 3 }) }),
    commit: fc.boolean(),
    advanceMs: fc.oneof(fc.constant(1000), fc.constant(SLOT_MS), fc.constant(SLOT_MS * 96)),
  });

  let commits = 0;
  let baseline: { height: number; time: number; writes: Map<string, string | null> } | undefined;
  const blockInput = (txs: SignedTx[], time: number) => {
    const height = chain.app.height + 1;
    const prev = chain.storage.getBlock(height - 1);
    return { height, time, proposer: chain.validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs, lastCommit: prev?.commit ?? null, evidence: [], validators: chain.validators };
  };
  /** Writes of an empty block at this height and time (end-of-block work), to compare rejections with. */
  const emptyWrites = (time: number) => {
    const height = chain.app.height + 1;
    if (!baseline || baseline.height !== height || baseline.time !== time) baseline = { height, time, writes: chain.app.executeBlock(blockInput([], time)).writes };
    return baseline.writes;
  };

  return {
    name: 'host',
    description: "every module's message schemas and rules through App.checkTx and App.executeBlock",
    arbitrary,
    check(input) {
      const sender = people[input.sender]!;
      let tx: SignedTx;
      try {
        const body = { chainId: chain.chainId, sender: sender.address, nonce: chain.app.nonceOf(sender.address), expiresAtHeight: chain.app.height + 100, msgs: input.msgs, memo: '' };
        tx = signTx(body, sender.signer);
      } catch (err) {
        return `unsignable:${codeOf(err, codes)}`; // e.g. a float in a message value: canonical JSON refuses it
      }
      const hash = txHash(tx.body);
      let checked = 'ok';
      try {
        chain.app.checkTx(tx, hash, { nonceWindow: 100, signatureValid: () => true });
      } catch (err) {
        checked = codeOf(err, codes);
      }
      const time = chain.time + input.advanceMs;
      let executed: ReturnType<typeof chain.app.executeBlock>;
      try {
        executed = chain.app.executeBlock(blockInput([tx], time));
      } catch (err) {
        // A block-validity failure (e.g. a sender that is not admitted): the block would not be voted
        // for, so the mempool must have refused the transaction already.
        const code = codeOf(err, codes);
        expectThat(checked !== 'ok', `a transaction the mempool admits makes its block invalid (${code})`);
        return `check:${checked} invalid-block:${code}`;
      }
      if (chain.internalErrors.length > 0) fail(`the kernel caught a bug: ${String((chain.internalErrors[0]!.err as Error).stack ?? chain.internalErrors[0]!.err)}`);
      const result = executed.results[0]!;
      if (result.code !== 'OK') {
        expectThat(codes.has(result.code) && result.code !== 'INTERNAL_ERROR', `committed result with undeclared or internal code ${result.code}: ${result.message}`);
        const expected = new Map(emptyWrites(time));
        expected.set(NONCE_PREFIX + sender.address, String(tx.body.nonce + 1));
        const got = executed.writes;
        const same = got.size === expected.size && [...got].every(([k, v]) => expected.has(k) && JSON.stringify(expected.get(k)) === JSON.stringify(v));
        if (!same) fail(`rejected transaction (${result.code}) wrote more than its nonce: ${[...got.keys()].filter((k) => !expected.has(k)).join(', ')}`);
        return `${checked === 'ok' ? '' : `check:${checked} `}${result.code}`;
      }
      // Revocations are executed and checked but not committed: a revoked world only answers TX_SENDER_REVOKED.
      if (input.commit && !input.msgs.some((m) => m.type === 'registry/revoke')) {
        const commit: Commit = { height: executed.block.header.height, round: 0, blockHash: executed.hash, signatures: [] };
        chain.app.commitBlock(executed, commit);
        chain.validators = executed.nextValidators;
        chain.time = time;
        commits += 1;
        if (commits % 200 === 0) expectThat(chain.app.recomputeStateRoot() === chain.stateRoot, 'stored state root differs from the state table');
        if (commits % RESET_EVERY_COMMITS === 0) {
          chain.storage.close();
          ({ chain, people } = setupChain());
          baseline = undefined;
        }
      }
      return `${checked === 'ok' ? '' : `check:${checked} `}OK:${input.msgs.map((m) => m.type).join('+')}`;
    },
    close: () => chain.storage.close(),
  };
}

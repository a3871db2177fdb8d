import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel, stateVersionOf } from '../../src/app/kernel.js';
import { defineHook, defineModule, handler, on } from '../../src/app/module.js';
import type { ModuleCore } from '../../src/app/module.js';
import { ScopeViolation } from '../../src/app/scoped.js';
import type { Msg } from '../../src/codec/tx.js';
import { configSchema } from '../../src/home/home.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';
import { FIXTURE_MODULES } from '../fixtures/modules/index.js';
import { z } from 'zod';

/**
 * The module kernel, shown with a fixture module (test/fixtures/modules/counter, added to the
 * module list by one line): its messages execute, its hook fires when metering dispatches, it
 * cannot write another module's keys, its parameter is governed, it can be activated on a running
 * chain, and the order of the module list does not matter.
 */

const CORES = FIXTURE_MODULES.map((m) => m.core);
const alice = account('alice');
const meterKey = account('meter-1');
const op2 = account('op2');

const increment = (step: number): Msg => ({ type: 'counter/increment', value: { step } });
const counted = (chain: TestChain, who: TestAccount) => chain.store.get<number>(`counter/count/${who.address}`);

function chainWith(cores: readonly ModuleCore<any, any>[] = CORES, genesisModules?: Record<string, unknown>): TestChain {
  return new TestChain({ modules: cores, accounts: { alice: ['prosumer'], 'meter-1': ['meter'] }, ...(genesisModules ? { genesisModules } : {}) });
}

/** Registers meter m1 (signed by meter-1) and submits one reading for the slot before the block time. */
function reading(chain: TestChain): { register: Msg; reading: Msg } {
  const slot = Math.floor((chain.time + 5000) / SLOT_MS) - 1;
  return {
    register: { type: 'metering/register', value: { meterId: 'm1', address: meterKey.address, maxPowerW: 10_000 } },
    reading: { type: 'metering/reading', value: { meterId: 'm1', slot, importWh: 100, exportWh: 0, importRegisterWh: 100, exportRegisterWh: 0, seq: 1 } },
  };
}

describe('a module added by its folder and one line in the module list', () => {
  it('executes its messages, with its parameters and the registry keeper', () => {
    const chain = chainWith();
    const ok = chain.send(alice, increment(3));
    expect(ok.code).toBe('OK');
    expect(ok.events.map((e) => e.type)).toContain('counter.incremented');
    expect(counted(chain, alice)).toBe(3);
    expect(chain.send(alice, increment(11)).code).toBe('COUNTER_STEP_TOO_LARGE'); // default maxStep 10
    expect(counted(chain, alice)).toBe(3);
  });

  it("reacts to metering's readingAccepted hook, dispatched by the host inside the reading's transaction", () => {
    const chain = chainWith();
    const { register, reading: r } = reading(chain);
    expect(chain.send(chain.operator, register).code).toBe('OK');
    expect(chain.store.get('counter/readings/m1')).toBeUndefined();
    expect(chain.send(meterKey, r).code).toBe('OK');
    expect(chain.store.get('counter/readings/m1')).toBe(1);
  });

  it("cannot write another module's keys: the transaction fails as INTERNAL_ERROR, nothing of it is kept, the bug is reported", () => {
    const chain = chainWith();
    const registryBefore = JSON.stringify(chain.store.scan('registry/'));
    const result = chain.send(alice, { type: 'counter/poke-registry', value: { address: alice.address } });
    expect(result.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(chain.store.scan('registry/'))).toBe(registryBefore);
    expect(chain.store.get(`counter/poked/${alice.address}`)).toBeUndefined();
    expect(chain.internalErrors).toHaveLength(1);
    expect(chain.internalErrors[0]!.err).toBeInstanceOf(ScopeViolation);
    expect(chain.internalErrors[0]!.module).toBe('counter');
  });
});

describe('governed parameters and module activation', () => {
  it("changes a module's parameters from the height the proposal names", () => {
    const chain = chainWith();
    const height = chain.app.height + 3;
    const bad = chain.send(chain.operator, { type: 'registry/propose', value: { id: 'p0', action: { kind: 'set-params', module: 'counter', params: { maxStep: 0 }, height } } });
    expect(bad.code).toBe('MODULE_PARAMS_INVALID');
    const past = chain.send(chain.operator, { type: 'registry/propose', value: { id: 'p1', action: { kind: 'set-params', module: 'counter', params: { maxStep: 50 }, height: chain.app.height } } });
    expect(past.code).toBe('GOV_HEIGHT_NOT_FUTURE');
    const proposed = chain.send(chain.operator, { type: 'registry/propose', value: { id: 'p2', action: { kind: 'set-params', module: 'counter', params: { maxStep: 50 }, height: chain.app.height + 3 } } });
    expect(proposed.code).toBe('OK'); // one operator: the threshold is reached at once
    const effective = chain.app.height + 2;
    while (chain.app.height + 1 < effective) expect(chain.send(alice, increment(11)).code).toBe('COUNTER_STEP_TOO_LARGE');
    expect(chain.app.height + 1).toBe(effective);
    expect(chain.send(alice, increment(11)).code).toBe('OK');
    expect(chain.store.get('counter/params')).toEqual({ maxStep: 50 });
  });

  it('activates a module on a running chain from the height the proposal names', () => {
    const chain = chainWith(CORES, {}); // genesis names no optional module: counter is not active
    expect(chain.send(alice, increment(1)).code).toBe('MODULE_NOT_ACTIVE');
    const { register, reading: r } = reading(chain);
    expect(chain.send(chain.operator, register).code).toBe('OK');
    const at = chain.app.height + 5;
    expect(chain.send(chain.operator, { type: 'registry/propose', value: { id: 'act', action: { kind: 'activate-module', module: 'counter', height: at } } }).code).toBe('OK');
    expect(chain.send(chain.operator, { type: 'registry/propose', value: { id: 'again', action: { kind: 'activate-module', module: 'counter', height: at + 5 } } }).code).toBe('MODULE_ALREADY_ACTIVE');
    expect(chain.send(meterKey, r).code).toBe('OK'); // before activation the hook does not run
    expect(chain.store.get('counter/readings/m1')).toBeUndefined();
    while (chain.app.height + 1 < at) expect(chain.send(alice, increment(1)).code).toBe('MODULE_NOT_ACTIVE');
    expect(chain.send(alice, increment(1)).code).toBe('OK');
    expect(chain.store.get('counter/params')).toEqual({ maxStep: 10 }); // activated with its defaults
    expect(counted(chain, alice)).toBe(1);
  });
});

describe('state versions and governed migrations (ADR 0029)', () => {
  const total = (chain: TestChain) => chain.store.get<number>('counter/total');
  const propose = (chain: TestChain, id: string, action: Record<string, unknown>) => chain.send(chain.operator, { type: 'registry/propose', value: { id, action } });
  const versionOf = (chain: TestChain) => chain.app.kernel.describe(chain.store, chain.app.height).find((m) => m.name === 'counter')!;

  it('starts a new chain at the newest version and a genesis that names none at version 1', () => {
    const fresh = chainWith();
    expect(fresh.send(alice, increment(4)).code).toBe('OK');
    expect(stateVersionOf(fresh.store, 'counter')).toBe(2);
    expect(total(fresh)).toBe(4);
    const old = new TestChain({ modules: CORES, accounts: { alice: ['prosumer'] }, stateVersions: {} });
    expect(old.send(alice, increment(4)).code).toBe('OK');
    expect(stateVersionOf(old.store, 'counter')).toBe(1);
    expect(total(old)).toBeUndefined(); // version 1 code path: no total kept
    expect(versionOf(old)).toMatchObject({ stateVersion: 1, latestStateVersion: 2 });
  });

  it('refuses a genesis naming a version this node lacks, or a module not active from genesis', () => {
    const genesisError = (options: ConstructorParameters<typeof TestChain>[0]) => {
      try {
        new TestChain(options);
      } catch (err) {
        return (err as { code?: string; message: string }).code + ': ' + (err as Error).message;
      }
      return 'accepted';
    };
    expect(genesisError({ modules: CORES, stateVersions: { counter: 3 } })).toMatch(/^GENESIS_INVALID: .*counter: 3 is not a state version this node has \(1–2\)/);
    expect(genesisError({ modules: CORES, stateVersions: { counter: 0 } })).toMatch(/^GENESIS_INVALID/);
    expect(genesisError({ modules: CORES, genesisModules: {}, stateVersions: { counter: 2 } })).toMatch(/^GENESIS_INVALID: .*not a module active from genesis/);
    expect(genesisError({ modules: CORES, stateVersions: { nosuch: 1 } })).toMatch(/^GENESIS_INVALID/);
  });

  it('migrates a running chain at the height the proposal names, once, with the migration reading the old layout', () => {
    const chain = new TestChain({ modules: CORES, accounts: { alice: ['prosumer'], bob: ['prosumer'] }, stateVersions: {} });
    expect(chain.send(alice, increment(3)).code).toBe('OK');
    expect(chain.send(account('bob'), increment(5)).code).toBe('OK');
    expect(propose(chain, 'same', { kind: 'migrate-module', module: 'counter', stateVersion: 1, height: chain.app.height + 9 }).code).toBe('STATE_VERSION_NOT_NEWER');
    expect(propose(chain, 'past', { kind: 'migrate-module', module: 'counter', stateVersion: 2, height: chain.app.height }).code).toBe('GOV_HEIGHT_NOT_FUTURE');
    expect(propose(chain, 'nosuch', { kind: 'migrate-module', module: 'nosuch', stateVersion: 2, height: chain.app.height + 9 }).code).toBe('MODULE_UNKNOWN');
    expect(chain.store.scan('kernel/upgrade/')).toEqual([]); // nothing of the refused proposals kept
    const at = chain.app.height + 4;
    expect(propose(chain, 'v2', { kind: 'migrate-module', module: 'counter', stateVersion: 2, height: at }).code).toBe('OK');
    expect(propose(chain, 'v2-again', { kind: 'migrate-module', module: 'counter', stateVersion: 2, height: at + 1 }).code).toBe('STATE_VERSION_NOT_NEWER');
    while (chain.app.height + 2 < at) {
      expect(chain.send(alice, increment(1)).code).toBe('OK');
      expect(total(chain)).toBeUndefined();
      expect(stateVersionOf(chain.store, 'counter')).toBe(1);
    }
    // Applied at the end of block at − 1, after its transactions: the counts so far (3 + 5 + the increments) make the total.
    expect(chain.send(alice, increment(1)).code).toBe('OK');
    expect(chain.app.height).toBe(at - 1);
    const counts = chain.store.scan<number>('counter/count/').reduce((sum, [, n]) => sum + n, 0);
    expect(total(chain)).toBe(counts);
    expect(chain.send(alice, increment(2)).code).toBe('OK');
    expect(total(chain)).toBe(counts + 2);
    expect(versionOf(chain)).toMatchObject({ stateVersion: 2, latestStateVersion: 2 });
    expect(chain.store.scan('kernel/upgrade/')).toEqual([]);
  });

  it('refuses a migration of a module that is not active; an activation names its starting version', () => {
    const chain = chainWith(CORES, {});
    expect(propose(chain, 'm', { kind: 'migrate-module', module: 'counter', stateVersion: 2, height: chain.app.height + 3 }).code).toBe('MODULE_NOT_ACTIVE');
    const at = chain.app.height + 3;
    expect(propose(chain, 'act', { kind: 'activate-module', module: 'counter', height: at, stateVersion: 2 }).code).toBe('OK');
    while (chain.app.height + 1 < at) expect(chain.send(alice, increment(1)).code).toBe('MODULE_NOT_ACTIVE');
    expect(stateVersionOf(chain.store, 'counter')).toBe(2);
    expect(total(chain)).toBe(0);
    expect(chain.send(alice, increment(6)).code).toBe('OK');
    expect(total(chain)).toBe(6);
  });

  it('a node whose code lacks the version stops at that height: the block cannot be executed, nothing of it is kept', () => {
    const chain = chainWith();
    const at = chain.app.height + 3;
    // Valid whatever code a node runs (every node decides the proposal alike); it is the height that needs the code.
    expect(propose(chain, 'v3', { kind: 'migrate-module', module: 'counter', stateVersion: 3, height: at }).code).toBe('OK');
    const height = chain.app.height;
    const root = chain.stateRoot;
    expect(height + 1).toBe(at - 1);
    expect(() => chain.send(alice, increment(1))).toThrow(/STATE_VERSION_UNSUPPORTED|module counter to state version 3 after block \d+; this node's code executes up to version 2/);
    expect(chain.app.height).toBe(height);
    expect(chain.stateRoot).toBe(root);
    expect(chain.internalErrors).toEqual([]);
  });
});

describe('the order of the module list does not matter', () => {
  it('gives the same results and state root at every height whatever the order', () => {
    // The third order interleaves the list (odd positions, then even): a permutation however many modules the build has.
    const orders = [CORES, [...CORES].reverse(), [...CORES.filter((_, i) => i % 2 === 1), ...CORES.filter((_, i) => i % 2 === 0)]];
    const runs = orders.map((cores) => {
      const chain = chainWith(cores);
      const { register, reading: r } = reading(chain);
      const steps: Array<[TestAccount, Msg]> = [
        [chain.operator, register],
        [alice, increment(2)],
        [meterKey, r],
        [alice, { type: 'counter/poke-registry', value: { address: op2.address } }],
        [chain.operator, { type: 'registry/admit', value: { address: op2.address, roles: ['consumer'] } }],
      ];
      const trace: string[] = [];
      for (const [who, msg] of steps) {
        const result = chain.send(who, msg, chain.time + 1000);
        trace.push(`${result.code}/${chain.stateRoot}`);
      }
      return trace;
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });

  it('orders modules by their dependencies, ties by name', () => {
    const names = (cores: readonly ModuleCore<any, any>[]) => new Kernel(cores).order.map((m) => m.name);
    expect(names(CORES)).toEqual(names([...CORES].reverse()));
    const order = names(CORES);
    expect(order.indexOf('registry')).toBeLessThan(order.indexOf('metering'));
    expect(order.indexOf('metering')).toBeLessThan(order.indexOf('counter'));
  });
});

describe('the kernel refuses a malformed module list', () => {
  const mod = (name: string, requires: string[] = [], extra: Partial<ModuleCore> = {}): ModuleCore => defineModule({ name, requires, messages: {}, ...extra });
  it.each([
    ['a duplicate name', [mod('a'), mod('a')], /listed twice/],
    ['a missing dependency', [mod('a', ['b'])], /requires b/],
    ['a dependency cycle', [mod('a', ['b']), mod('b', ['a'])], /cycle/],
    ['a message outside the module name', [mod('a', [], { messages: { 'b/x': handler(z.object({}), () => undefined) } })], /must start with "a\/"/],
    ['a hook of a module it does not require', [mod('a'), mod('b', [], { hooks: [on(defineHook('a', 'ev'), () => undefined)] })], /does not require a/],
  ] as const)('%s', (_name, cores, message) => {
    expect(() => new Kernel(cores as readonly ModuleCore[])).toThrow(message);
  });
});

describe('a bug in ledger code in a running node', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('is committed as INTERNAL_ERROR, logged and counted in /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-kernel-'));
    dirs.push(dir);
    const operator = account('operator');
    const validator = account('validator');
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const node = new LedgerNode({
      config: configSchema.parse({ chainId: 'kernel', moniker: 'n', keyringBackend: 'test', api: {} }),
      genesis: { chainId: 'kernel', genesisTime: 0, operators: [operator.address], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }], accounts: [{ address: alice.address, roles: ['prosumer'] }], modules: { counter: {} } },
      dbPath: join(dir, 'ledger.db'),
      validatorSigner: validator.signer,
      modules: CORES,
      logger: pino({ level: 'error' }, sink),
      verifyWorkers: 0,
    });
    try {
      const chain = new TestChain({ chainId: 'kernel' });
      const tx = chain.tx(alice, [{ type: 'counter/poke-registry', value: { address: alice.address } }]);
      node.submitTx(tx);
      const executed = node.buildExecutedBlock({ time: 1, proposer: validator.address, lastCommit: null, evidence: [] });
      node.commitBlock(executed, { height: 1, round: 0, blockHash: executed.hash, signatures: [] });
      expect(executed.results[0]!.code).toBe('INTERNAL_ERROR');
      const metrics = await node.metrics.registry.metrics();
      expect(metrics).toMatch(/gridledger_internal_errors_total\{phase="deliverTx",module="counter"\} 1/);
      expect(logs.join('')).toMatch(/ScopeViolation: module counter touched key/);
    } finally {
      node.close();
    }
  });
});

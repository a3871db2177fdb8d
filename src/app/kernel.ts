import type { Misbehaviour, TxEvent } from '../codec/block.js';
import { defineErrors, LedgerError } from '../util/errors.js';
import type { BlockInfo, EndBlockResult, Genesis, HookDef, KernelAccess, ModuleContext, ModuleCore, MsgHandler, ValidatorUpdate } from './module.js';
import { qualifiedIndexName, qualifiedIndexes, type ModuleQueryIndex, type QueryIndexDef, type QueryIndexReader } from './query-index.js';
import { ScopedStore } from './scoped.js';
import { padKey, type KVStore } from './state.js';

/**
 * The module kernel: it orders the modules by their declared dependencies, builds each module's
 * context (scoped store, params, keepers of the modules it requires), dispatches hooks, runs the
 * end-of-block work, and owns module lifecycle: parameters and activation heights.
 *
 * Order: a module comes after every module it requires; ties are broken by name. So the order, and
 * with it every hook dispatch and end-of-block step, is the same whatever order the modules are
 * listed in.
 */

export const KERNEL_ERRORS = defineErrors('kernel', {
  MODULE_NOT_ACTIVE: { meaning: 'the message or query belongs to a module that is not active on this chain (yet)', status: 404 },
  MODULE_UNKNOWN: { meaning: 'no module of that name is part of this node', status: 404 },
  MODULE_PARAMS_INVALID: { meaning: 'module parameters do not match the module parameter schema' },
  MODULE_ALREADY_ACTIVE: { meaning: 'the module is already active or its activation is already scheduled', status: 409 },
  GENESIS_INVALID: { meaning: 'genesis.json is not valid for this node (unknown module, bad section, bad account)' },
  STATE_VERSION_NOT_NEWER: { meaning: "a state migration must name a version newer than the module's state version and every migration already scheduled", status: 409 },
  STATE_VERSION_UNSUPPORTED: { meaning: "the chain's state reached a module state version this node's code cannot execute: the node stops at that height (upgrade it)", status: 500 },
});

/** Modules every chain has had since chain format 1; all others need a genesis entry or an activation. */
export const BASE_MODULES: readonly string[] = ['registry', 'metering', 'energy', 'shares', 'settlement'];

/** Kernel-owned state: scheduled module upgrades, post-genesis activations, state versions above 1. */
const UPGRADE = 'kernel/upgrade/';
const ACTIVE = 'kernel/active/';
const STATE_VERSION = 'kernel/state-version/';

interface ScheduledUpgrade {
  module: string;
  kind: 'params' | 'activate' | 'migrate';
  params?: unknown;
  /** activate: the state version to start at (absent: 1); migrate: the version to reach. */
  stateVersion?: number;
}

/** The state version of `module` in `state` (ADR 0029): 1 unless genesis or a migration set another. */
export function stateVersionOf(state: KVStore, module: string): number {
  return state.get<{ version: number }>(STATE_VERSION + module)?.version ?? 1;
}

/** The newest state version each module of this build can execute (those above 1): what `init` writes into a genesis. */
export function latestStateVersions(cores: readonly ModuleCore<any, any>[]): Record<string, number> {
  return Object.fromEntries(cores.filter((m) => (m.stateVersions?.latest ?? 1) > 1).map((m) => [m.name, m.stateVersions!.latest]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

/** Where one transaction, end of block, genesis or query runs: its state and what it may record. */
export interface Exec {
  readonly state: KVStore;
  readonly chainId: string;
  readonly block: BlockInfo;
  readonly sender: string;
  readonly txHash: string;
  readonly msgIndex: number;
  /** Events of the transaction in progress; undefined outside a transaction. */
  readonly events?: TxEvent[];
  readonly readOnly?: boolean;
  /** The node's query-only indexes (ADR 0029 point 1): set for queries over committed state alone. */
  readonly queryIndex?: QueryIndexReader;
  /** Per-module contexts and keepers, built on first use. */
  readonly contexts: Map<string, ModuleContext<any, any>>;
  readonly keepers: Map<string, unknown>;
}

export function newExec(f: Omit<Exec, 'contexts' | 'keepers'>): Exec {
  // Spelled out rather than spread: one object shape for every exec keeps this per-transaction path monomorphic.
  return { state: f.state, chainId: f.chainId, block: f.block, sender: f.sender, txHash: f.txHash, msgIndex: f.msgIndex, events: f.events, readOnly: f.readOnly, queryIndex: f.queryIndex, contexts: new Map(), keepers: new Map() };
}

/** Reports a bug the kernel caught (scope violation, handler crash) so the node can log and count it. */
export type InternalErrorSink = (err: unknown, where: { module?: string; txHash?: string; phase: string }) => void;

export class Kernel {
  /** Modules in dependency order (ties by name). */
  readonly order: readonly ModuleCore[];
  private readonly byName = new Map<string, ModuleCore>();
  private readonly handlers = new Map<string, { module: ModuleCore; handler: MsgHandler }>();
  private readonly subscribers = new Map<string, Array<{ module: ModuleCore; handle: (ctx: ModuleContext, event: unknown) => void }>>();
  private genesisActive = new Set<string>(BASE_MODULES);
  /** Per module, the context class its handlers, hooks and keepers receive (built once). */
  private readonly shapes = new Map<string, { Context: new (exec: Exec) => ModuleContext<any, any> }>();

  constructor(cores: readonly ModuleCore[]) {
    for (const m of cores) {
      if (!/^[a-z][a-z0-9-]{0,31}$/.test(m.name) || m.name === 'kernel' || m.name === 'auth' || m.name === 'consensus') throw new Error(`invalid module name ${m.name}`);
      if (this.byName.has(m.name)) throw new Error(`module ${m.name} listed twice`);
      this.byName.set(m.name, m);
    }
    this.order = dependencyOrder(cores, this.byName);
    for (const m of this.order) this.shapes.set(m.name, contextShape(this, m));
    for (const m of this.order) {
      for (const [type, handler] of Object.entries(m.messages)) {
        if (!type.startsWith(`${m.name}/`)) throw new Error(`message type ${type} of module ${m.name} must start with "${m.name}/"`);
        if (this.handlers.has(type)) throw new Error(`message type ${type} registered twice`);
        this.handlers.set(type, { module: m, handler });
      }
      for (const sub of m.hooks ?? []) {
        const owner = sub.hook.owner;
        if (!m.requires.includes(owner)) throw new Error(`module ${m.name} subscribes to ${owner}.${sub.hook.name} but does not require ${owner}`);
        const key = hookKey(sub.hook);
        const list = this.subscribers.get(key) ?? [];
        list.push({ module: m, handle: sub.handle });
        this.subscribers.set(key, list);
      }
    }
  }

  moduleNames(): string[] {
    return [...this.byName.keys()].sort();
  }

  module(name: string): ModuleCore | undefined {
    return this.byName.get(name);
  }

  messageTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Every module's query-only indexes under their node-wide names (ADR 0029 point 1), in module order. */
  queryIndexDefs(): QueryIndexDef[] {
    return this.order.flatMap((m) => qualifiedIndexes(m.name, m.queryIndexes ?? []));
  }

  handlerOf(type: string): { module: ModuleCore; handler: MsgHandler } | undefined {
    return this.handlers.get(type);
  }

  // ── activation ──

  /** A module is active from genesis when it is a base module or genesis names it; else from its activation. */
  isActive(state: KVStore, module: string, height: number): boolean {
    if (this.genesisActive.has(module)) return true;
    const at = state.get<{ height: number }>(ACTIVE + module);
    return at !== undefined && at.height <= height;
  }

  requireActive(state: KVStore, module: string, height: number): void {
    if (!this.byName.has(module)) throw KERNEL_ERRORS.MODULE_UNKNOWN(`no module ${module} in this node`);
    if (!this.isActive(state, module, height)) throw KERNEL_ERRORS.MODULE_NOT_ACTIVE(`module ${module} is not active at height ${height}`);
  }

  /** Remembers which modules the genesis activates (call at every start, before anything runs). */
  useGenesis(genesis: Genesis): void {
    const names = Object.keys(genesis.modules ?? {}).sort();
    for (const name of names) if (!this.byName.has(name)) throw KERNEL_ERRORS.GENESIS_INVALID(`genesis configures module ${name}, which this node does not have`);
    this.genesisActive = new Set([...BASE_MODULES.filter((n) => this.byName.has(n)), ...names]);
  }

  /** Validates every module's genesis section (at `init` and at start) and writes genesis state. */
  initGenesis(exec: Exec, genesis: Genesis): void {
    this.useGenesis(genesis);
    this.checkGenesisVersions(genesis);
    for (const m of this.order) if (this.genesisActive.has(m.name)) this.initModule(exec, m, genesis.modules?.[m.name], genesis, genesis.stateVersions?.[m.name] ?? 1);
  }

  /** Checks the genesis sections without writing anything. */
  checkGenesis(genesis: Genesis): void {
    for (const name of Object.keys(genesis.modules ?? {})) if (!this.byName.has(name)) throw KERNEL_ERRORS.GENESIS_INVALID(`genesis configures module ${name}, which this node does not have`);
    for (const m of this.order) this.parseSection(m, genesis.modules?.[m.name]);
    this.checkGenesisVersions(genesis);
  }

  /** Genesis state versions name modules active from genesis, at versions this node can execute. */
  private checkGenesisVersions(genesis: Genesis): void {
    const versions = genesis.stateVersions ?? {};
    if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) throw KERNEL_ERRORS.GENESIS_INVALID('genesis stateVersions: an object of module name → version');
    const active = new Set([...BASE_MODULES, ...Object.keys(genesis.modules ?? {})]);
    for (const [name, version] of Object.entries(versions)) {
      const m = this.byName.get(name);
      if (!m || !active.has(name)) throw KERNEL_ERRORS.GENESIS_INVALID(`genesis stateVersions names ${name}, which is not a module active from genesis`);
      const latest = m.stateVersions?.latest ?? 1;
      if (!Number.isSafeInteger(version) || version < 1 || version > latest) {
        throw KERNEL_ERRORS.GENESIS_INVALID(`genesis stateVersions.${name}: ${JSON.stringify(version)} is not a state version this node has (1–${latest})`);
      }
    }
  }

  private parseSection(m: ModuleCore, section: unknown): { section: unknown; params: unknown } {
    const raw = section ?? {};
    const params = m.params ? parseOr(m.params.schema, { ...(m.params.defaults as object), ...(raw as object) }, (msg) => KERNEL_ERRORS.GENESIS_INVALID(`genesis modules.${m.name}: ${msg}`)) : undefined;
    const parsed = m.genesis ? parseOr(m.genesis.schema, raw, (msg) => KERNEL_ERRORS.GENESIS_INVALID(`genesis modules.${m.name}: ${msg}`)) : raw;
    if (!m.genesis && !m.params && section !== undefined && Object.keys(section as object).length > 0) {
      throw KERNEL_ERRORS.GENESIS_INVALID(`genesis modules.${m.name}: this module takes no genesis settings`);
    }
    return { section: parsed, params };
  }

  private initModule(exec: Exec, m: ModuleCore, rawSection: unknown, genesis: Genesis, stateVersion: number): void {
    const { section, params } = this.parseSection(m, rawSection);
    if (m.params) exec.state.set(`${m.name}/params`, params);
    m.genesis?.init?.(this.context(m.name, exec), section, genesis);
    this.migrate(exec, m, stateVersion);
  }

  /**
   * Runs the module's migrations from its current state version up to `target`, each in turn, and
   * records the version. A version this code lacks throws STATE_VERSION_UNSUPPORTED, which the host
   * does not absorb: the node cannot execute the block and stops there (its peers go on without it).
   */
  private migrate(exec: Exec, m: ModuleCore, target: number): void {
    const latest = m.stateVersions?.latest ?? 1;
    if (target > latest) {
      throw KERNEL_ERRORS.STATE_VERSION_UNSUPPORTED(`the chain moves module ${m.name} to state version ${target} after block ${exec.block.height}; this node's code executes up to version ${latest}: upgrade the node`);
    }
    for (let v = stateVersionOf(exec.state, m.name) + 1; v <= target; v++) {
      m.stateVersions!.migrations[v]!(this.context(m.name, exec));
      exec.state.set(STATE_VERSION + m.name, { version: v });
    }
  }

  // ── contexts and keepers ──

  /** The context of `module` in `exec` (built once per exec). */
  context(module: string, exec: Exec): ModuleContext<any, any> {
    const cached = exec.contexts.get(module);
    if (cached) return cached;
    const shape = this.shapes.get(module);
    if (!shape) throw KERNEL_ERRORS.MODULE_UNKNOWN(`no module ${module} in this node`);
    const ctx = new shape.Context(exec);
    exec.contexts.set(module, ctx);
    return ctx;
  }

  /** The keeper of `module` in `exec`, over that module's own scoped store. */
  keeper<K = unknown>(module: string, exec: Exec): K {
    if (exec.keepers.has(module)) return exec.keepers.get(module) as K;
    const m = this.byName.get(module);
    if (!m?.keeper) throw new Error(`module ${module} has no keeper`);
    const k = m.keeper(this.context(module, exec));
    exec.keepers.set(module, k);
    return k as K;
  }

  /** @internal (the context's dispatch) */
  dispatch<E>(from: string, hook: HookDef<E>, event: E, exec: Exec): void {
    if (hook.owner !== from) throw new Error(`module ${from} dispatched ${hook.owner}.${hook.name}, which it does not own`);
    for (const sub of this.subscribers.get(hookKey(hook)) ?? []) {
      if (!this.isActive(exec.state, sub.module.name, exec.block.height)) continue;
      sub.handle(this.context(sub.module.name, exec), event);
    }
  }

  /**
   * Every active module's sender check, in module order; or, for a transaction whose only message
   * is a self-admission message of an active module, that module's check alone.
   */
  authorize(exec: Exec, sender: string, msgs: readonly { type: string; value: unknown }[] = []): void {
    const self = msgs.length === 1 ? this.selfAdmissionOf(exec, msgs[0]!) : undefined;
    if (self) {
      self.check(this.context(self.module, exec), sender, self.value);
      return;
    }
    for (const m of this.order) if (m.authorize && this.isActive(exec.state, m.name, exec.block.height)) m.authorize(this.context(m.name, exec), sender);
  }

  /** True when these messages are one self-admission message of an active module. */
  isSelfAdmission(exec: Exec, msgs: readonly { type: string; value: unknown }[]): boolean {
    return msgs.length === 1 && this.selfAdmissionOf(exec, msgs[0]!) !== undefined;
  }

  /** The self-admission check for a message, when an active module declares one and the value parses. */
  private selfAdmissionOf(exec: Exec, msg: { type: string; value: unknown }): { module: string; check: (ctx: ModuleContext<any, any>, sender: string, value: unknown) => void; value: unknown } | undefined {
    const found = this.handlerOf(msg.type);
    const check = found?.module.selfAdmission?.[msg.type];
    if (!found || !check || !this.isActive(exec.state, found.module.name, exec.block.height)) return undefined;
    const parsed = found.handler.schema.safeParse(msg.value);
    return parsed.success ? { module: found.module.name, check, value: parsed.data } : undefined;
  }

  /** After a transaction's messages succeeded: every active module's afterTx, in module order. */
  afterTx(exec: Exec): void {
    for (const m of this.order) if (m.afterTx && this.isActive(exec.state, m.name, exec.block.height)) m.afterTx(this.context(m.name, exec));
  }

  /** Start of a block with evidence: every active module that acts on misbehaviour, in order. */
  reportMisbehaviour(exec: Exec, misbehaviour: readonly Misbehaviour[]): void {
    for (const m of this.order) {
      if (m.onMisbehaviour && this.isActive(exec.state, m.name, exec.block.height)) m.onMisbehaviour(this.context(m.name, exec), misbehaviour);
    }
  }

  /** End of block: modules in order, then scheduled upgrades due now. Returns validator updates. */
  endBlock(exec: Exec): ValidatorUpdate[] {
    const updates: ValidatorUpdate[] = [];
    for (const m of this.order) {
      if (!m.endBlock || !this.isActive(exec.state, m.name, exec.block.height)) continue;
      const result: EndBlockResult | void = m.endBlock(this.context(m.name, exec));
      if (result?.validatorUpdates) updates.push(...result.validatorUpdates);
    }
    this.applyUpgrades(exec);
    return updates;
  }

  // ── governed upgrades ──

  /** @internal (the context of a module that declares kernelAccess) */
  kernelAccess(exec: Exec): KernelAccess {
    return {
      moduleNames: () => this.moduleNames(),
      isActive: (module, height) => this.isActive(exec.state, module, height),
      checkParams: (module, params) => {
        const m = this.requireModule(module);
        if (!m.params) throw KERNEL_ERRORS.MODULE_PARAMS_INVALID(`module ${module} has no parameters`);
        parseOr(m.params.schema, params, (msg) => KERNEL_ERRORS.MODULE_PARAMS_INVALID(`${module} params: ${msg}`));
      },
      scheduleParams: (module, params, height) => this.schedule(exec, height, { module, kind: 'params', params }),
      checkActivation: (module) => this.checkActivation(exec, module),
      scheduleActivation: (module, height, stateVersion) => {
        this.checkActivation(exec, module);
        this.schedule(exec, height, { module, kind: 'activate', ...(stateVersion !== undefined && stateVersion > 1 ? { stateVersion } : {}) });
      },
      checkMigration: (module, stateVersion) => this.checkMigration(exec, module, stateVersion),
      scheduleMigration: (module, stateVersion, height) => {
        this.checkMigration(exec, module, stateVersion);
        this.schedule(exec, height, { module, kind: 'migrate', stateVersion });
      },
    };
  }

  /**
   * A migration must raise the version past the module's own and every scheduled one. Whether this
   * node's code has the version is not asked: a proposal's validity must not depend on the code a
   * node runs (every node accepts or refuses it alike); a node without the version stops at the height.
   */
  private checkMigration(exec: Exec, module: string, stateVersion: number): void {
    this.requireModule(module);
    // An activation names its own starting version; a migration is for a module that runs.
    if (!this.isActive(exec.state, module, exec.block.height)) throw KERNEL_ERRORS.MODULE_NOT_ACTIVE(`module ${module} is not active: name the state version in its activation instead`);
    let newest = stateVersionOf(exec.state, module);
    for (const [, u] of exec.state.scan<ScheduledUpgrade>(UPGRADE)) {
      if (u.module === module && u.kind === 'migrate') newest = Math.max(newest, u.stateVersion!);
    }
    if (stateVersion <= newest) throw KERNEL_ERRORS.STATE_VERSION_NOT_NEWER(`module ${module} is at (or scheduled for) state version ${newest}; a migration must name a later one`);
  }

  private requireModule(name: string): ModuleCore {
    const m = this.byName.get(name);
    if (!m) throw KERNEL_ERRORS.MODULE_UNKNOWN(`no module ${name} in this node`);
    return m;
  }

  private checkActivation(exec: Exec, module: string): void {
    this.requireModule(module);
    if (this.isActive(exec.state, module, Number.MAX_SAFE_INTEGER) || this.pendingActivation(exec, module)) {
      throw KERNEL_ERRORS.MODULE_ALREADY_ACTIVE(`module ${module} is already active or scheduled for activation`);
    }
  }

  private pendingActivation(exec: Exec, module: string): boolean {
    return exec.state.scan<ScheduledUpgrade>(UPGRADE).some(([, u]) => u.kind === 'activate' && u.module === module);
  }

  /** Upgrades take effect from `height`: applied at the end of block `height - 1`. */
  private schedule(exec: Exec, height: number, upgrade: ScheduledUpgrade): void {
    const at = height - 1;
    const prefix = `${UPGRADE}${padKey(at)}/`;
    const seq = exec.state.scan(prefix).length;
    exec.state.set(`${prefix}${padKey(seq, 4)}`, upgrade);
  }

  private applyUpgrades(exec: Exec): void {
    const prefix = `${UPGRADE}${padKey(exec.block.height)}/`;
    for (const [key, u] of exec.state.scan<ScheduledUpgrade>(prefix)) {
      const m = this.byName.get(u.module);
      exec.state.delete(key);
      if (!m) continue;
      if (u.kind === 'params' && m.params) {
        const current = exec.state.get<object>(`${m.name}/params`) ?? (m.params.defaults as object);
        exec.state.set(`${m.name}/params`, m.params.schema.parse({ ...current, ...(u.params as object) }));
      } else if (u.kind === 'activate' && !this.isActive(exec.state, m.name, exec.block.height + 1)) {
        exec.state.set(ACTIVE + m.name, { height: exec.block.height + 1 });
        this.initModule(exec, m, undefined, { chainId: exec.chainId, genesisTime: 0, operators: [], validators: [], accounts: [], modules: {} }, u.stateVersion ?? 1);
      } else if (u.kind === 'migrate' && this.isActive(exec.state, m.name, exec.block.height + 1)) {
        this.migrate(exec, m, u.stateVersion!);
      }
    }
  }

  /** Each module as it stands at `height` (for the modules query). */
  describe(state: KVStore, height: number): Array<{ name: string; requires: string[]; active: boolean; activeFrom: number | null; params: unknown; messageTypes: string[]; stateVersion: number | null; latestStateVersion: number }> {
    return this.order.map((m) => {
      const active = this.isActive(state, m.name, height);
      const activeFrom = this.genesisActive.has(m.name) ? 0 : (state.get<{ height: number }>(ACTIVE + m.name)?.height ?? null);
      const params = m.params ? (state.get(`${m.name}/params`) ?? (active ? m.params.defaults : null)) : null;
      const stateVersion = active ? stateVersionOf(state, m.name) : null;
      return { name: m.name, requires: [...m.requires], active, activeFrom, params, messageTypes: Object.keys(m.messages).sort(), stateVersion, latestStateVersion: m.stateVersions?.latest ?? 1 };
    });
  }

  /** Pending upgrades (for queries). */
  scheduledUpgrades(state: KVStore): Array<ScheduledUpgrade & { height: number }> {
    return state.scan<ScheduledUpgrade>(UPGRADE).map(([key, u]) => ({ ...u, height: Number(key.slice(UPGRADE.length, UPGRADE.length + 16)) + 1 }));
  }
}

/**
 * The context class of one module, built once per kernel. A context is made for every module a
 * transaction touches (its handler, the registry's authorize and afterTx, every keeper it reaches),
 * so it is a plain class instance: fields set in the constructor, and what is rarely used — the
 * parameters (a state read), the keepers of required modules, the kernel access — resolved on first
 * use through getters on the prototype. The keepers object has getters only, so a module cannot
 * replace another module's keeper.
 */
function contextShape(kernel: Kernel, m: ModuleCore): { Context: new (exec: Exec) => ModuleContext<any, any> } {
  const name = m.name;
  const paramsKey = `${name}/params`;
  const defaults = m.params?.defaults;
  // Fields are `declare`d and assigned in the constructor: class-field definitions cost an extra
  // initializer call per instance, and a context is made several times per transaction.
  class Keepers {
    declare readonly exec: Exec;
    constructor(exec: Exec) {
      this.exec = exec;
    }
  }
  for (const dep of m.requires) {
    Object.defineProperty(Keepers.prototype, dep, { enumerable: true, get(this: Keepers) { return kernel.keeper(dep, this.exec); } });
  }
  class Context implements ModuleContext<any, any> {
    declare readonly store: ScopedStore;
    declare readonly chainId: string;
    declare readonly height: number;
    declare readonly time: number;
    declare readonly sender: string;
    declare readonly txHash: string;
    declare readonly msgIndex: number;
    private declare readonly exec: Exec;
    private declare paramsValue: unknown;
    private declare paramsRead: boolean;
    private declare keepersValue: Keepers | undefined;
    constructor(exec: Exec) {
      this.exec = exec;
      this.store = new ScopedStore(exec.state, name);
      this.chainId = exec.chainId;
      this.height = exec.block.height;
      this.time = exec.block.time;
      this.sender = exec.sender;
      this.txHash = exec.txHash;
      this.msgIndex = exec.msgIndex;
      this.paramsValue = undefined;
      this.paramsRead = false;
      this.keepersValue = undefined;
    }
    get previous(): { hash: string; stateRoot: string } | undefined {
      return this.exec.block.previous;
    }
    get params(): unknown {
      if (!this.paramsRead) {
        this.paramsValue = m.params ? (this.store.get(paramsKey) ?? defaults) : undefined;
        this.paramsRead = true;
      }
      return this.paramsValue;
    }
    get keepers(): Keepers {
      return (this.keepersValue ??= new Keepers(this.exec));
    }
    get kernel(): KernelAccess | undefined {
      return m.kernelAccess ? kernel.kernelAccess(this.exec) : undefined;
    }
    get queryIndex(): ModuleQueryIndex | undefined {
      const reader = this.exec.queryIndex;
      return reader && { stateKeys: (index, indexKey, page) => reader.stateKeys(qualifiedIndexName(name, index), indexKey, page) };
    }
    get stateVersion(): number {
      // Read each time (one point read): rarely asked, and a migration in this block may have raised it.
      return m.stateVersions ? stateVersionOf(this.exec.state, name) : 1;
    }
    emit(type: string, attributes: Record<string, string | number>): void {
      this.exec.events?.push({ type, attributes: stringifyAttributes(attributes) });
    }
    dispatch<E>(hook: HookDef<E>, event: E): void {
      kernel.dispatch(name, hook, event, this.exec);
    }
  }
  return { Context };
}

/**
 * A query context with the account-nonce lookup the query routes get. Made on top of the module's
 * context (its prototype), never by spreading it: the context's parameters, keepers and methods live
 * on its class.
 */
export function withNonceOf<C extends ModuleContext<any, any>>(ctx: C, nonceOf: (address: string) => number): C & { nonceOf: (address: string) => number } {
  return Object.assign(Object.create(ctx) as C, { nonceOf });
}

function hookKey(hook: HookDef<unknown>): string {
  return `${hook.owner}.${hook.name}`;
}

function parseOr<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, value: unknown, fail: (msg: string) => LedgerError): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw fail(`${issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : ''}${issue?.message ?? 'invalid'}`);
}

/** Kahn's algorithm; among modules whose dependencies are placed, the smallest name goes first. */
function dependencyOrder(cores: readonly ModuleCore[], byName: Map<string, ModuleCore>): ModuleCore[] {
  for (const m of cores) for (const dep of m.requires) if (!byName.has(dep)) throw new Error(`module ${m.name} requires ${dep}, which is not in the module list`);
  const placed = new Set<string>();
  const order: ModuleCore[] = [];
  const names = [...byName.keys()].sort();
  while (order.length < names.length) {
    const next = names.find((n) => !placed.has(n) && byName.get(n)!.requires.every((d) => placed.has(d)));
    if (next === undefined) throw new Error(`module dependencies form a cycle among ${names.filter((n) => !placed.has(n)).join(', ')}`);
    placed.add(next);
    order.push(byName.get(next)!);
  }
  return order;
}

export function stringifyAttributes(attributes: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attributes).sort()) out[k] = String(attributes[k]);
  return out;
}

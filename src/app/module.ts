import type { z } from 'zod';
import type { Misbehaviour } from '../codec/block.js';
import type { ErrorCatalogue } from '../util/errors.js';
import type { ModuleQueryIndex, QueryIndexDef } from './query-index.js';
import type { KVStore } from './state.js';

/**
 * The module contract. A module is one folder with a deterministic *core* (this file's
 * `ModuleCore`: messages, rules, state under its own key prefix, genesis and parameter schemas, error
 * codes, hooks and a keeper) and a *surface* (routes, CLI; see `app/surface.ts`). The host knows
 * modules only through these interfaces, so adding a module never edits the ledger core.
 *
 * Modules talk to each other only through keepers (a module's typed public API, built per
 * transaction over that module's own scoped store) and hooks (events the host dispatches to the
 * modules that subscribed, in an order derived from the declared dependencies).
 */

/**
 * Keeper types by module name. Each module adds its own entry by declaration merging in its
 * `keeper.ts`:
 *   declare module '../../app/module.js' { interface Keepers { metering: MeteringKeeper } }
 * so a module's `requires` list alone types the keepers its handlers receive.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Keepers {}

export type ModuleName = keyof Keepers & string;

/** The keepers of the modules named in `R`. */
export type KeepersOf<R extends readonly ModuleName[]> = { readonly [N in R[number]]: Keepers[N] };

/** Block being executed (or, for queries, the latest committed block). */
export interface BlockInfo {
  height: number;
  /** Block time in integer ms since the Unix epoch (consensus time, never a wall clock). */
  time: number;
  /** The block before this one (its hash and the state root after it); absent outside block execution. */
  previous?: { hash: string; stateRoot: string };
}

/** Module lifecycle operations only the kernel performs (used by the registry's governance). */
export interface KernelAccess {
  /** Module names this binary knows, sorted. */
  moduleNames(): string[];
  /** Whether a module's messages, hooks and end-of-block work run at `height`. */
  isActive(module: string, height: number): boolean;
  /** Checks a parameter object against the module's schema; throws a LedgerError otherwise. */
  checkParams(module: string, params: unknown): void;
  /** Throws unless the module exists and is neither active nor scheduled for activation. */
  checkActivation(module: string): void;
  /** Schedules a parameter change of a module for the end of block `height`. */
  scheduleParams(module: string, params: unknown, height: number): void;
  /**
   * Schedules the activation of a module (its genesis with default params, then its migrations up to
   * `stateVersion`, default 1) at the end of block `height`.
   */
  scheduleActivation(module: string, height: number, stateVersion?: number): void;
  /** Throws unless the module is active (or scheduled to be) and `stateVersion` is newer than its version and every scheduled one. */
  checkMigration(module: string, stateVersion: number): void;
  /** Schedules a module's state migration to `stateVersion` at the end of block `height` (ADR 0029). */
  scheduleMigration(module: string, stateVersion: number, height: number): void;
}

/**
 * What a module's code sees: its own scoped store, its parameters, the keepers of the modules it
 * requires, and the transaction in progress. Everything here is deterministic.
 */
export interface ModuleContext<D = unknown, P = unknown> {
  /** The module's state: every key must start with `<module>/` (anything else fails loudly). */
  readonly store: KVStore;
  readonly keepers: D;
  readonly params: P;
  readonly chainId: string;
  /** Height of the block being executed; for queries, the latest committed height. */
  readonly height: number;
  readonly time: number;
  /** The previous block's hash and the state root after it (block execution only; checkpoints use it). */
  readonly previous?: { hash: string; stateRoot: string };
  /** The transaction's sender ('' outside a transaction: genesis, end of block, queries). */
  readonly sender: string;
  readonly txHash: string;
  readonly msgIndex: number;
  /** Records an event in the transaction's result (ignored outside a transaction). */
  emit(type: string, attributes: Record<string, string | number>): void;
  /** Dispatches one of the module's own hooks to its subscribers, inside the same transaction. */
  dispatch<E>(hook: HookDef<E>, event: E): void;
  /** Kernel operations; only modules that declare `kernelAccess` receive it. */
  readonly kernel?: KernelAccess;
  /**
   * The layout version of the module's state in this state (ADR 0029): 1 unless genesis named
   * another or a governed migration raised it. Code that reads or writes a layout of a later version
   * checks it, so a chain keeps executing its older blocks exactly as they were executed.
   */
  readonly stateVersion: number;
  /**
   * The module's query-only indexes (ADR 0029 point 1), in query contexts over the node's committed
   * state only; undefined elsewhere (message handlers, end of block, queries answered with a proof),
   * so the caller reads the state itself there.
   */
  readonly queryIndex: ModuleQueryIndex | undefined;
}

/** A message handler's context (kept as its own name: it is what rules are written against). */
export type TxContext<D = unknown, P = unknown> = ModuleContext<D, P>;

export interface MsgHandler<T = unknown, C extends ModuleContext<any, any> = ModuleContext<any, any>> {
  /** Strict zod schema of the message value; a parse failure rejects with MSG_INVALID. */
  schema: z.ZodType<T>;
  execute(ctx: C, value: T): void;
}

/** A handler with its schema, typed together. */
export function handler<T, C extends ModuleContext<any, any>>(schema: z.ZodType<T>, execute: (ctx: C, value: T) => void): MsgHandler<T, C> {
  return { schema, execute };
}

/** A typed hook: its owner dispatches events of type `E`; modules that require the owner subscribe. */
export interface HookDef<E> {
  readonly owner: string;
  readonly name: string;
  /** Phantom: carries the event type. */
  readonly __event?: E;
}

export function defineHook<E>(owner: string, name: string): HookDef<E> {
  return Object.freeze({ owner, name });
}

export interface HookSubscription {
  hook: HookDef<any>;
  handle(ctx: ModuleContext<any, any>, event: any): void;
}

export function on<E, C extends ModuleContext<any, any>>(hook: HookDef<E>, handle: (ctx: C, event: E) => void): HookSubscription {
  return { hook, handle: handle as HookSubscription['handle'] };
}

export interface Genesis {
  chainId: string;
  genesisTime: number;
  operators: string[];
  /** `nodeId`: the P2P node id (address of the node key) of the validator's node; peers allow it to connect. */
  validators: Array<{ address: string; pubKey: string; power: string; name?: string; nodeId?: string }>;
  accounts: Array<{ address: string; roles: string[] }>;
  modules: Record<string, unknown>;
  /**
   * The time-zone table the chain's local-time rules use (IANA release and SHA-256 of the compiled
   * table, src/util/tz/version.ts). A node whose table differs refuses the genesis: two tables would
   * compute different slots and halt the chain.
   */
  tzTable?: { version: string; hash: string };
  /**
   * The state version each module starts at (ADR 0029); a module not named starts at version 1, so a
   * genesis written before state versions existed executes as it did. `init` names the newest versions
   * of this build.
   */
  stateVersions?: Record<string, number>;
}

/** A validator set change returned by an end-of-block hook (power "0" removes). */
export interface ValidatorUpdate {
  address: string;
  pubKey: string;
  power: string;
}

export interface EndBlockResult {
  validatorUpdates?: ValidatorUpdate[];
}

export interface ModuleParams<P> {
  /** Strict schema of the whole parameter object. */
  schema: z.ZodType<P>;
  defaults: P;
}

/**
 * A module's deterministic core. `P` is its parameter object (stored at `<name>/params`), `K` its
 * keeper (what other modules may call), `R` the modules it requires.
 */
export interface ModuleCore<K = unknown, P = unknown> {
  name: string;
  /** Modules whose keepers and hooks this one uses; hooks and end-of-block work run after theirs. */
  requires: readonly string[];
  /** Error codes the module raises (listed in docs/errors.md). */
  errors?: ErrorCatalogue<string>;
  /** Message handlers by full type name, e.g. "registry/admit". */
  messages: Record<string, MsgHandler<any, any>>;
  /** Governed parameters: genesis may set them; governance changes them at a stated height. */
  params?: ModuleParams<P>;
  /**
   * Genesis section (`genesis.modules[name]`), validated at `init` and at start. When the module
   * has params, the parsed section is also its initial parameter object.
   */
  genesis?: {
    schema: z.ZodType<unknown>;
    init?(ctx: ModuleContext<any, P>, section: any, genesis: Genesis): void;
  };
  /** The typed API other modules use; built over this module's scoped store per transaction. */
  keeper?(ctx: ModuleContext<any, P>): K;
  /** Checks before any message of a transaction runs (e.g. the sender is admitted). Throws to reject. */
  authorize?(ctx: ModuleContext<any, P>, sender: string): void;
  /**
   * Messages by which a sender nobody admitted admits itself (e.g. with a zero-knowledge membership
   * proof, issue 16). A transaction whose only message has one of these types is authorised by this
   * check instead of the modules' `authorize`; the value is the message as its schema parsed it.
   * Throws a LedgerError to refuse (the transaction never enters the mempool or a block).
   */
  selfAdmission?: Record<string, (ctx: ModuleContext<any, any>, sender: string, value: any) => void>;
  /**
   * Runs after the messages of a transaction all succeeded, in the transaction's state, with
   * `ctx.sender` its sender (e.g. the registry notes when an account last transacted). A throw
   * rejects the transaction like a failing message.
   */
  afterTx?(ctx: ModuleContext<any, P>): void;
  /** Hook subscriptions (events of modules in `requires`). */
  hooks?: HookSubscription[];
  /**
   * Validators' equivocations the block's evidence proves, before its transactions (ABCI's
   * misbehaviour). Each is committed once on the chain. Deterministic; must not throw on valid state.
   */
  onMisbehaviour?(ctx: ModuleContext<any, P>, misbehaviour: readonly Misbehaviour[]): void;
  /** Runs after the last transaction of every block (deterministic; must not throw on valid state). */
  endBlock?(ctx: ModuleContext<any, P>): EndBlockResult | void;
  /** Receives the kernel's module lifecycle operations (governance). */
  kernelAccess?: boolean;
  /** Layouts of the module's state after its first (ADR 0029); none: version 1 only. */
  stateVersions?: StateVersions;
  /** Indexes the node keeps for the module's queries only (ADR 0029 point 1; never read by consensus code). */
  queryIndexes?: readonly QueryIndexDef[];
}

/**
 * A module's state layouts. Version 1 is what its genesis writes; each later version `v` has a
 * migration that turns version v−1's state into v's, run inside a block by the kernel — at genesis
 * (a new chain's genesis names the newest versions), at a post-genesis activation, or at the height a
 * governance proposal names. A migration reads and writes only the module's own store, in key order,
 * and must not throw on valid state.
 */
export interface StateVersions {
  /** The newest version this code can execute. */
  latest: number;
  /** Migration to version v (2 ≤ v ≤ latest), by v. */
  migrations: Record<number, (ctx: ModuleContext<any, any>) => void>;
}

/** Declares a module core (identity at runtime; pins the types). */
export function defineModule<K, P = undefined>(core: ModuleCore<K, P>): ModuleCore<K, P> {
  return core;
}

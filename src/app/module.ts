import type { z } from 'zod';
import type { KVStore } from './state.js';
import type { RouteDef } from '../api/route.js';
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

/** What a message handler sees while its transaction executes. Everything here is deterministic. */
export interface TxContext {
  readonly store: KVStore;
  readonly chainId: string;
  readonly sender: string;
  readonly height: number;
  /** Block time in integer ms since the Unix epoch (consensus time, never a wall clock). */
  readonly time: number;
  readonly txHash: string;
  readonly msgIndex: number;
  emit(type: string, attributes: Record<string, string | number>): void;
}

export interface MsgHandler<T = unknown> {
  /** Strict zod schema of the message value; a parse failure rejects with MSG_INVALID. */
  schema: z.ZodType<T>;
  execute(ctx: TxContext, value: T): void;
}

export interface Genesis {
  chainId: string;
  genesisTime: number;
  operators: string[];
  validators: Array<{ address: string; pubKey: string; power: string; name?: string }>;
  accounts: Array<{ address: string; roles: string[] }>;
  modules: Record<string, unknown>;
}

/** A query route of a module together with the function that answers it from committed state. */
export interface ModuleRoute {
  route: RouteDef;
  handle(store: KVStore, input: { params: any; query: any; body: any }): unknown;
}

/**
 * An application module: one folder with its messages, rules, state, queries, CLI and tests.
 * The host knows modules only through this interface, so adding a module never edits the core.
 */
export interface AppModule {
  name: string;
  /** Message handlers by full type name, e.g. "registry/admit". */
  messages: Record<string, MsgHandler<any>>;
  /** Writes the module's initial state. */
  initGenesis?(store: KVStore, genesis: Genesis): void;
  /** Checks before any message of a transaction runs (e.g. the sender is admitted). Throws to reject. */
  authorize?(store: KVStore, sender: string): void;
  /** Runs after the last transaction of every block (deterministic; must not throw on valid state). */
  endBlock?(store: KVStore, block: { height: number; time: number }): void;
  routes?: ModuleRoute[];
  /** Adds `tx <module> …` and `query <module> …` subcommands. */
  cli?(commands: { tx: Command; query: Command }, ctx: CliContext): void;
}

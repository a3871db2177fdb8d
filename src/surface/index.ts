import type { Command } from 'commander';
import type { HandlerInput, RouteDef, RouteOutput } from '../api/route.js';
import type { ModuleContext, ModuleCore } from '../app/module.js';

/**
 * A module's *surface*: what people and programs use, built on the module's core. The node
 * registers its routes with the API server; the CLI registers its commands. The core never sees
 * any of it, so the ledger does not depend on HTTP or the command line.
 */

/**
 * What a query handler sees: the module's read-only context over committed state (its scoped
 * store, params and the keepers it requires; a write throws) plus the committed account nonces.
 */
export type QueryContext<D = any, P = any> = ModuleContext<D, P> & { nonceOf(address: string): number };

/** A route definition bound to the function that answers it from committed state. */
export interface QueryRoute<R extends RouteDef = RouteDef> {
  route: R;
  handle(ctx: QueryContext, input: HandlerInput<R>): RouteOutput<R> | Promise<RouteOutput<R>>;
}

/** Binds a handler to a route with the route's input and output types. */
export function queryRoute<R extends RouteDef, C extends QueryContext = QueryContext>(
  route: R,
  handle: (ctx: C, input: HandlerInput<R>) => RouteOutput<R> | Promise<RouteOutput<R>>,
): QueryRoute<R> {
  return { route, handle: handle as QueryRoute<R>['handle'] };
}

/** Adds the module's `tx <group> …` and `query <group> …` subcommands. */
export type CliRegistrar = (commands: { tx: Command; query: Command }) => void;

export interface ModuleSurface {
  routes?: readonly QueryRoute<any>[];
  cli?: CliRegistrar;
}

/** One entry of the module list: the core the ledger runs and the surface the node and CLI add. */
export interface ModuleEntry {
  core: ModuleCore<any, any>;
  surface: ModuleSurface;
}

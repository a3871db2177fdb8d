import { z } from 'zod';
import { defineRoute, type RouteDef } from '../api/route.js';
import type { ValidatorInfo } from '../app/host.js';
import type { StateProof } from '../app/state-proof.js';

/**
 * Proofs for query routes (ADR 0012), designed once here so modules write none: every module query
 * route also accepts `?prove=true`, and then answers `{height, value, proof}` where `value` is the
 * route's usual answer and `proof` carries the header and commit of that height, the validator set
 * that signed it, and a state proof of exactly the reads the handler made (the node runs it over a
 * recording store). A light client re-runs the same handler over the proven reads and compares.
 */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const proofNodeSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.object({ e: z.literal(1) }).strict(), z.object({ h: hex64 }).strict(), z.object({ k: hex64, d: hex64 }).strict(), z.object({ n: z.array(proofNodeSchema).length(16) }).strict()]),
);

export const stateProofSchema = z.object({
  entries: z.array(z.object({ key: z.string(), value: z.string(), next: z.string().nullable() })),
  absent: z.array(z.string()),
  tree: proofNodeSchema,
});

export const validatorInfoSchema = z.object({ address: z.string(), pubKey: z.string(), power: z.string() });

/** The header, commit and signing validator set of one height: what a light client checks. */
export const signedHeaderSchema = z.object({
  header: z.record(z.string(), z.unknown()),
  commit: z.record(z.string(), z.unknown()),
  validators: z.array(validatorInfoSchema),
});

export const proofSchema = signedHeaderSchema.extend({ state: stateProofSchema });

/** A signed header with the set deciding the next height (its hash is the header's nextValidatorsHash). */
export const lightHeaderSchema = signedHeaderSchema.extend({ nextValidators: z.array(validatorInfoSchema) });

/** Typed in src/light (header and commit are codec types, which surfaces do not import). */
export interface SignedHeaderJson {
  header: Record<string, unknown>;
  commit: Record<string, unknown>;
  validators: ValidatorInfo[];
}

export interface QueryProof extends SignedHeaderJson {
  state: StateProof;
}

export interface ProvenAnswer<T = unknown> {
  height: number;
  value: T;
  proof: QueryProof;
}

export function provenAnswerSchema<T extends z.ZodType>(value: T) {
  return z.object({ height: z.number(), value, proof: proofSchema });
}

const proveParam = { prove: z.enum(['true', 'false']).optional().describe('true: answer {height, value, proof} with a proof against a committed header') };

/**
 * The route as the node serves it: its query also takes `prove`, and its answer is either the usual
 * one or the proven envelope. Routes whose query is not a plain object schema stay as they are.
 */
export function provableRoute(route: RouteDef): RouteDef {
  const query = route.query === undefined ? z.object(proveParam) : route.query instanceof z.ZodObject ? route.query.extend(proveParam) : undefined;
  if (!query || route.method !== 'GET') return route;
  return defineRoute({ ...route, query, response: z.union([provenAnswerSchema(route.response), route.response]) }) as RouteDef;
}

/** Whether a parsed query asks for a proof; the query without `prove` (what the handler expects). */
export function splitProve(query: unknown): { prove: boolean; query: unknown } {
  if (typeof query !== 'object' || query === null || !('prove' in query)) return { prove: false, query };
  const { prove, ...rest } = query as { prove?: string };
  return { prove: prove === 'true', query: rest };
}

/** The validator set of a height, and the signed header: what a light client needs to follow the chain. */
export const lightRoutes = {
  signedHeader: defineRoute({
    name: 'signedHeader',
    method: 'GET',
    path: '/v1/light/headers/:height',
    summary: 'The header of a height with its commit, the validator set that signed it and the set deciding the next height (light clients)',
    tags: ['light'],
    params: z.object({ height: z.coerce.number().int().min(1) }),
    response: lightHeaderSchema,
  }),
};

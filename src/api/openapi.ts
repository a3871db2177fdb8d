import { z } from 'zod';
import { errorSchema, type RouteDef } from './route.js';

export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

export interface OpenApiExtras {
  /** Markdown shown at the top of the document. */
  description?: string;
  /** `components.schemas` the routes refer to (e.g. SignedTx and every message type). */
  schemas?: Record<string, unknown>;
}

/** OpenAPI 3.1 document generated from the same route definitions the server and client use. */
export function openApiDocument(routes: RouteDef[], version: string, rawPaths: Record<string, Record<string, unknown>> = {}, extras: OpenApiExtras = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = { ...rawPaths };
  const error = { 'application/json': { schema: jsonSchema(errorSchema) } };
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const body = r.bodyDoc ?? (r.body ? jsonSchema(r.body) : undefined);
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      operationId: r.name,
      summary: r.summary,
      tags: r.tags,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: jsonSchema(r.response) } } },
        ...Object.fromEntries(Object.entries(r.errorDocs ?? {}).map(([status, description]) => [status, { description, content: error }])),
        '4XX': { description: 'Client error: {error: {code, message}} with a stable code (docs/errors.md)', content: error },
        '5XX': { description: 'Server error or overload (e.g. MEMPOOL_FULL, CONNECTIONS_EXHAUSTED)', content: error },
      },
    };
  }
  paths['/v1/openapi.json'] ??= {
    get: { operationId: 'openapi', summary: 'This document', tags: ['node'], responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'GridLedger API', version, ...(extras.description ? { description: extras.description } : {}) },
    paths,
    ...(extras.schemas ? { components: { schemas: extras.schemas } } : {}),
  };
}

import fc from 'fast-check';

/**
 * Byte- and structure-level mutators as fast-check arbitraries: each draws a seed input from a
 * corpus of valid encodings and applies a few random edits, so most inputs are *almost* valid and
 * reach past the first checks of a decoder (random bytes alone rarely do).
 */

/** Tokens worth splicing into JSON text: structure, boundary numbers, escapes, huge and odd values. */
const JSON_TOKENS = [
  '{', '}', '[', ']', ',', ':', '"', '\\', 'null', 'true', 'false', '0', '-0', '-1', '1e3', '1.5', '9007199254740993',
  '-9007199254740993', '1e999', '""', '"\\u0000"', '"\\ud800"', '{"__proto__":{}}', '"constructor"', '[[[[[[[[', ']]]]]]]]',
  '{"a":', '"type"', '"value"', '"msgs"', '"body"', '"signature"', '"pubKey"', '"height"', '"round"',
].map((t) => Buffer.from(t, 'utf8'));

export type ByteEdit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'token'; at: number; token: number }
  | { kind: 'truncate'; at: number };

const position = fc.nat({ max: 1 << 20 });

export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d), fc.nat({ max: 255 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }), to: position }),
  fc.record({ kind: fc.constant('token' as const), at: position, token: fc.nat({ max: JSON_TOKENS.length - 1 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
);

export function applyByteEdits(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Buffer.from(input);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.kind) {
      case 'flip':
        if (at < b.length) b[at] = b[at]! ^ (1 << e.bit);
        break;
      case 'set':
        if (at < b.length) b[at] = e.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
        break;
      case 'duplicate': {
        const piece = b.subarray(at, at + e.length);
        const to = e.to % (b.length + 1);
        b = Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case 'token':
        b = Buffer.concat([b.subarray(0, at), JSON_TOKENS[e.token]!, b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return new Uint8Array(b);
}

/** A corpus entry with 1–`maxEdits` byte edits applied. */
export function mutatedBytes(corpus: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...corpus), fc.array(byteEdit, { minLength: 1, maxLength: maxEdits })).map(([seed, edits]) => applyByteEdits(seed, edits));
}

// ───────────────────────────── structure-aware (JSON values) ─────────────────────────────

/** Values that break code assuming a field's type: wrong types, boundaries, prototypes, depth. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -0, -1, 1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 1e300, '', ' ', '0', '-1', '\u0000', '\ud800', 'a'.repeat(300), [], {}, [[]], { __proto__: null }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":1}}')),
  fc.nat({ max: 40 }).map((depth) => nest(depth)),
);

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { x: v };
  return v;
}

export type JsonEdit =
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'swap'; pick: number; other: number };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'type', 'value')), value: oddValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), pick: fc.nat(), other: fc.nat() }) },
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

/** Every (container, key) of a JSON value, depth-first (the root itself is not a slot). */
function slotsOf(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      slotsOf(v, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      slotsOf((value as Record<string, unknown>)[k], out);
    }
  }
  return out;
}

function containersOf(value: unknown): Array<Record<string, unknown> | unknown[]> {
  const out: Array<Record<string, unknown> | unknown[]> = value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : [];
  for (const s of slotsOf(value)) {
    const v = (s.parent as Record<string | number, unknown>)[s.key];
    if (v !== null && typeof v === 'object') out.push(v as Record<string, unknown>);
  }
  return out;
}

/** Applies edits to a deep copy of `value` (which must be JSON data). */
export function applyJsonEdits(value: unknown, edits: readonly JsonEdit[]): unknown {
  // A JSON round trip, not structuredClone: shared sub-objects (a block's lastCommit is also the
  // previous commit) must become separate copies, or one edit could make the value cyclic.
  let root: unknown = JSON.parse(JSON.stringify(value));
  for (const e of edits) {
    const slots = slotsOf(root);
    if (e.kind === 'add') {
      const containers = containersOf(root);
      if (containers.length === 0) continue;
      const c = containers[e.pick % containers.length]!;
      const value = structuredCloneSafe(e.value); // constants of the arbitraries are shared between runs
      if (Array.isArray(c)) c.push(value);
      else Object.defineProperty(c, e.key, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (slots.length === 0) {
      if (e.kind === 'replace') root = structuredCloneSafe(e.value);
      continue;
    }
    const s = slots[e.pick % slots.length]!;
    const parent = s.parent as Record<string | number, unknown>;
    if (e.kind === 'replace') parent[s.key] = structuredCloneSafe(e.value);
    else if (e.kind === 'delete') {
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete parent[s.key];
    }
    else {
      const o = slots[e.other % slots.length]!;
      const op = o.parent as Record<string | number, unknown>;
      const tmp = parent[s.key];
      parent[s.key] = op[o.key];
      op[o.key] = tmp;
    }
  }
  return root;
}

function structuredCloneSafe(v: unknown): unknown {
  try {
    return v === undefined ? v : JSON.parse(JSON.stringify(v));
  } catch {
    return v;
  }
}

/** A corpus value with 1–`maxEdits` structural edits. */
export function mutatedJson(corpus: readonly unknown[], maxEdits = 3): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...corpus), fc.array(jsonEdit, { minLength: 1, maxLength: maxEdits })).map(([seed, edits]) => applyJsonEdits(seed, edits));
}

export const utf8Bytes = (value: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));

/** JSON.parse of bytes as the node's network and API layers do it; undefined when the text is not JSON. */
export function parseJson(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) };
  } catch {
    return undefined;
  }
}

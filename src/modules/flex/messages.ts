import { z } from 'zod';
import { addressSchema, hexSchema, safeUintSchema, slotSchema } from '../../codec/tx.js';
import { meterIdSchema } from '../metering/keeper.js';

/**
 * Messages of the flex module (demand response, issue 14). The vocabulary follows OpenADR 3:
 * programs, events with intervals whose payloads are the requested energy (IMPORT_ENERGY or
 * EXPORT_ENERGY, Wh per interval), and per-interval reports — here a commitment and a proved
 * deviation instead of the measured value.
 */

/** Amounts are whole micro-units as decimal strings (the payments module's form). */
export const amountSchema = z.string().regex(/^(0|[1-9][0-9]{0,23})$/, { message: 'amount: whole micro-units as a decimal string (no sign, no leading zeros, at most 24 digits)' });
/** The asset an event pays in: CODE or CODE@scope (the payments module's asset ids). */
export const assetIdSchema = z.string().regex(/^[A-Z][A-Z0-9]{2,7}(@[a-z0-9][a-z0-9-]{0,31})?$/, { message: 'asset: CODE or CODE@scope, e.g. NOK@microgrid' });
export const programIdSchema = z.string().regex(/^p[1-9][0-9]{0,15}$/, { message: 'program id: p1, p2, …' });
export const eventIdSchema = z.string().regex(/^ev[1-9][0-9]{0,15}$/, { message: 'event id: ev1, ev2, …' });
/** A verifying key id: hex SHA-256 (src/zk/encoding.ts verifyingKeyId). */
export const keyIdSchema = z.string().regex(/^[0-9a-f]{64}$/, { message: 'verifying key id: 64 lowercase hex digits' });
/** A BN254 scalar field element as a canonical decimal string (range checked by the rule). */
export const fieldElementSchema = z.string().regex(/^(0|[1-9][0-9]{0,76})$/, { message: 'field element: canonical decimal string' });

/** Wh in [0, 2^40): the deviation circuit's range. */
export const MAX_WH = 2 ** 40 - 1;
export const whSchema = z.number().int().min(0).max(MAX_WH);

export const INTERVAL_MINUTES = [15, 60] as const;
export const PAYLOAD_TYPES = ['IMPORT_ENERGY', 'EXPORT_ENERGY'] as const;
export type PayloadType = (typeof PAYLOAD_TYPES)[number];
/** The one proof system the module verifies. */
export const PROOF_SYSTEM = 'groth16-bn254';
/** The circuit whose keys programs may reference (zk/circuits/deviation.circom). */
export const DEVIATION_CIRCUIT = 'deviation';

const nameSchema = z.string().min(1).max(64);
const memoSchema = z.string().max(256);

export const registerKeyMsg = z
  .object({
    circuit: z.literal(DEVIATION_CIRCUIT),
    /** The registered form (src/zk/encoding.ts Groth16VerifyingKey); checked in full by the rule. */
    key: z.unknown(),
  })
  .strict();

export const programMsg = z
  .object({
    name: nameSchema,
    intervalMinutes: z.union([z.literal(15), z.literal(60)]),
    asset: assetIdSchema,
    /** Paid per interval the prosumer follows; the event deposits this × its intervals. */
    rewardPerInterval: amountSchema,
    /** Micro-units per Wh of deviation, capped at the interval's reward. */
    penaltyPerWh: amountSchema,
    proofSystem: z.literal(PROOF_SYSTEM),
    verifyingKey: keyIdSchema,
  })
  .strict();

export const eventMsg = z
  .object({
    program: programIdSchema,
    prosumer: addressSchema,
    /** OpenADR payload type of every interval: the meter's import or export energy. */
    payloadType: z.enum(PAYLOAD_TYPES),
    /** Start of the first interval, ms since the epoch, a multiple of the interval length. */
    start: safeUintSchema,
    /** Requested Wh per interval, in order (OpenADR interval payload values). */
    requestedWh: z.array(whSchema).min(1).max(96),
    memo: memoSchema.optional(),
  })
  .strict();

export const enrolMsg = z.object({ event: eventIdSchema, meterId: meterIdSchema }).strict();
export const withdrawMsg = z.object({ event: eventIdSchema }).strict();

export const slotFingerprintSchema = z.object({ slot: slotSchema, fingerprint: hexSchema(32), sampleCount: safeUintSchema }).strict();

export const commitMsg = z
  .object({
    event: eventIdSchema,
    interval: z.number().int().min(0).max(95),
    /** Poseidon(value, salt) of the interval's measured value (import or export Wh, as the event's payload type says). */
    commitment: fieldElementSchema,
    /** Fingerprints of the interval's slots that hold samples (the edge's hash chain heads, docs/edge.md). */
    fingerprints: z.array(slotFingerprintSchema).max(4),
  })
  .strict();

export const proveMsg = z
  .object({
    event: eventIdSchema,
    interval: z.number().int().min(0).max(95),
    /** |requested − measured| Wh. */
    deviation: whSchema,
    /** Groth16 proof (src/zk/encoding.ts Groth16Proof); checked by the verifier. */
    proof: z.unknown(),
  })
  .strict();

export type RegisterKeyMsg = z.infer<typeof registerKeyMsg>;
export type ProgramMsg = z.infer<typeof programMsg>;
export type EventMsg = z.infer<typeof eventMsg>;
export type EnrolMsg = z.infer<typeof enrolMsg>;
export type WithdrawMsg = z.infer<typeof withdrawMsg>;
export type CommitMsg = z.infer<typeof commitMsg>;
export type ProveMsg = z.infer<typeof proveMsg>;
export type SlotFingerprint = z.infer<typeof slotFingerprintSchema>;

export const MSG = {
  registerKey: 'flex/register-key',
  program: 'flex/program',
  event: 'flex/event',
  enrol: 'flex/enrol',
  withdraw: 'flex/withdraw',
  commit: 'flex/commit',
  prove: 'flex/prove',
} as const;

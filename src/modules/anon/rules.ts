import { timedTxRef } from '../../app/tx-ref.js';
import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { sha256 } from '../../crypto/hash.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { canonicalJson } from '../../util/canonical.js';
import { LedgerError } from '../../util/errors.js';
import { floorDiv } from '../../util/int.js';
import { HOUR_MS } from '../../util/slots.js';
import { membershipPublicInputs, signalHashForAddress } from '../../zk/circuits.js';
import { hashToField, parseCanonicalDecimal, SCALAR_FIELD_MODULUS } from '../../zk/field.js';
import { PoseidonMerkleTree } from '../../zk/merkle.js';
import { CircuitKeys, keyRecord } from '../../zk/key-registry.js';
import { verifyGroth16, type PreparedVerifyingKey } from '../../zk/verify.js';
import { E } from './errors.js';
import type { AdmitMsg, RegisterKeyMsg, RegisterMsg, RevokeMemberMsg } from './messages.js';
import {
  addExpiry,
  dropExpiry,
  dueExpiries,
  getAccount,
  getKey,
  getMember,
  getNullifier,
  getRoots,
  hasCommitment,
  lastRootAt,
  markCommitment,
  putAccount,
  putKey,
  putMember,
  putNullifier,
  putRootAt,
  putRoots,
  treeStore,
  type RootSet,
} from './state.js';

/**
 * Rules of the anon module: identity commitments in a Poseidon tree, the roots proofs may use, and
 * self-admission of trade accounts by membership proof (Semaphore-style, zk/circuits/membership.circom).
 */

export const REQUIRES = ['registry', 'payments'] as const;

export interface AnonParams {
  /** N: trade accounts a member may admit per epoch (the circuit's maxSlots, < 2^16). */
  maxSlots: number;
  /** Epoch length in blocks: epoch = floor(height / epochBlocks). Heights, not time, so the mempool (which has no block time) computes the same epoch as the block. */
  epochBlocks: number;
  /** How many blocks a root replaced by a registration stays valid, so proofs made just before still verify. */
  rootWindowBlocks: number;
  /** Most recent roots kept besides the current one (the oldest drop first). */
  maxRecentRoots: number;
  /** An anonymous account is revoked this long after its admission (block time, ms). */
  accountLifetimeMs: number;
  /** Most expiries processed per end of block (the rest follow in the next blocks). */
  maxExpiriesPerBlock: number;
}


export const DEFAULT_PARAMS: AnonParams = {
  maxSlots: 2,
  epochBlocks: 86_400,
  rootWindowBlocks: 100,
  maxRecentRoots: 32,
  accountLifetimeMs: 24 * HOUR_MS,
  maxExpiriesPerBlock: 1000,
};

export type AnonContext = ModuleContext<KeepersOf<typeof REQUIRES>, AnonParams>;

/** The role a membership proof grants (registry: granted only by a module). */
export const ANON_ROLE = 'trader-anon';
/** The membership circuit's public inputs: root, nullifier, epoch, maxSlots, signalHash. */
const MEMBERSHIP_PUBLIC_INPUTS = 5;
/** Domain of the epoch bound into proofs: chain id and epoch number, so a proof (and its nullifier) is valid on one chain only. */
export const ANON_EPOCH_DOMAIN = 'GRIDLEDGER/ZK/ANON-EPOCH/V1';

/** The circuit's epoch: SHA-256(domain ‖ 0 ‖ "<chain id>/<epoch>") >> 3. Provers compute the same. */
export function epochField(chainId: string, epoch: number): bigint {
  return hashToField(ANON_EPOCH_DOMAIN, utf8(`${chainId}/${epoch}`));
}

export function epochOf(height: number, params: Pick<AnonParams, 'epochBlocks'>): number {
  return floorDiv(height, params.epochBlocks);
}

export const txRef = timedTxRef;

function requireOperator(ctx: AnonContext, what: string): void {
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['operator'])) throw E.ANON_NOT_OPERATOR(`only a consortium operator may ${what}`);
}

// ── verifying key ──

const membershipKeys = new CircuitKeys({ circuit: 'membership', publicInputs: MEMBERSHIP_PUBLIC_INPUTS, invalid: E.ANON_KEY_INVALID });

function preparedKey(ctx: AnonContext): PreparedVerifyingKey {
  const registered = getKey(ctx.store);
  if (!registered) throw E.ANON_KEY_NOT_REGISTERED('no membership verifying key is registered');
  return membershipKeys.preparedOf(registered);
}

/** One membership key at a time: a new registration replaces the previous key. */
export function registerKey(ctx: AnonContext, msg: RegisterKeyMsg): void {
  requireOperator(ctx, 'register the membership verifying key');
  const vk = membershipKeys.admit(msg.key);
  putKey(ctx.store, keyRecord(vk, { circuit: msg.circuit, registeredBy: ctx.sender, at: txRef(ctx) }));
  ctx.emit('anon.key_registered', { id: vk.id });
}

// ── members and roots ──

function membersTree(ctx: AnonContext): PoseidonMerkleTree {
  return new PoseidonMerkleTree(undefined, treeStore(ctx.store));
}

/** The root set before any member registered: the empty tree's root alone. */
function rootsOf(ctx: AnonContext): RootSet {
  return getRoots(ctx.store) ?? { current: membersTree(ctx).root.toString(), recent: [] };
}

/** Roots a proof in this block may use: the current one and the recent ones still in their window. */
export function validRoots(roots: RootSet, height: number): string[] {
  return [roots.current, ...roots.recent.filter((r) => r.validUntil >= height).map((r) => r.root)];
}

export function register(ctx: AnonContext, msg: RegisterMsg): void {
  const registry = ctx.keepers.registry;
  const account = registry.account(ctx.sender);
  if (!registry.isActive(ctx.sender) || !account || account.roles.includes(ANON_ROLE)) throw E.ANON_NOT_MEMBER_ROLE(`${ctx.sender} is not an admitted, non-anonymous account`);
  if (getMember(ctx.store, ctx.sender)) throw E.ANON_ALREADY_REGISTERED(`${ctx.sender} already registered an identity commitment`);
  const commitment = parseCanonicalDecimal(msg.commitment, SCALAR_FIELD_MODULUS);
  if (commitment === undefined || commitment === 0n) throw E.ANON_COMMITMENT_INVALID('the commitment must be a canonical field element other than 0');
  if (hasCommitment(ctx.store, msg.commitment)) throw E.ANON_COMMITMENT_EXISTS('that identity commitment is already registered');
  const before = rootsOf(ctx);
  const tree = membersTree(ctx);
  const leafIndex = tree.insert(commitment);
  markCommitment(ctx.store, msg.commitment);
  putMember(ctx.store, { address: ctx.sender, commitment: msg.commitment, leafIndex, status: 'active', registeredAt: txRef(ctx) });
  // The previous root stays usable for rootWindowBlocks: a proof made just before this registration still verifies.
  const recent = [...before.recent.filter((r) => r.validUntil >= ctx.height), { root: before.current, validUntil: ctx.height + ctx.params.rootWindowBlocks }];
  putRoots(ctx.store, { current: tree.root.toString(), recent: recent.slice(-ctx.params.maxRecentRoots) });
  ctx.emit('anon.member_registered', { member: ctx.sender, commitment: msg.commitment, leafIndex });
}

/** Empties the member's leaf; every older root contains it, so none stays valid. */
function removeMember(ctx: AnonContext, address: string): boolean {
  const member = getMember(ctx.store, address);
  if (!member || member.status !== 'active') return false;
  const tree = membersTree(ctx);
  tree.remove(member.leafIndex);
  putMember(ctx.store, { ...member, status: 'revoked', revokedAt: txRef(ctx) });
  putRoots(ctx.store, { current: tree.root.toString(), recent: [] });
  return true;
}

export function revokeMember(ctx: AnonContext, msg: RevokeMemberMsg): void {
  requireOperator(ctx, 'revoke a member');
  if (!removeMember(ctx, msg.member)) throw E.ANON_MEMBER_NOT_FOUND(`${msg.member} has no active identity commitment`);
  ctx.emit('anon.member_revoked', { member: msg.member, ...(msg.reason ? { reason: msg.reason } : {}) });
}

/** registry.accountRevoked: a member revoked from the consortium leaves the members' tree in the same transaction. */
export function onAccountRevoked(ctx: AnonContext, event: { address: string }): void {
  if (removeMember(ctx, event.address)) ctx.emit('anon.member_revoked', { member: event.address, reason: 'revoked by the registry' });
}

// ── self-admission ──

/** Verification outcomes by (key, proof, inputs): mempool, proposer, validators and execution share one verification. Bounded; changes no result. */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 4096;

function verifyCached(vk: PreparedVerifyingKey, proof: unknown, inputs: string[]): boolean {
  let key: string;
  let ok: boolean;
  try {
    key = toHex(sha256(utf8(canonicalJson({ vk: vk.id, proof: proof ?? null, inputs }))));
    const cached = verdicts.get(key);
    if (cached !== undefined) return cached;
    ok = verifyGroth16(vk, proof, inputs);
  } catch (err) {
    if (err instanceof LedgerError) throw E.ANON_PROOF_MALFORMED(err.message);
    throw err;
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, ok);
  return ok;
}

/**
 * Everything that makes an admission valid, for the sender `address`: checked when the transaction
 * is authorised (mempool, block building, block validation) and again when it executes. Throws the
 * first failure; nothing is written.
 */
export function checkAdmission(ctx: AnonContext, address: string, msg: AdmitMsg): void {
  const vk = preparedKey(ctx);
  if (ctx.keepers.registry.account(address) !== undefined) throw E.ANON_ACCOUNT_EXISTS(`${address} is already known to the registry`);
  const epoch = epochOf(ctx.height, ctx.params);
  if (msg.epoch !== epoch) throw E.ANON_EPOCH_MISMATCH(`the proof is for epoch ${msg.epoch}; height ${ctx.height} is in epoch ${epoch}`);
  if (!validRoots(rootsOf(ctx), ctx.height).includes(msg.root)) throw E.ANON_ROOT_UNKNOWN(`root ${msg.root} is not a valid members' root at height ${ctx.height}`);
  if (getNullifier(ctx.store, msg.nullifier)) throw E.ANON_NULLIFIER_USED(`nullifier ${msg.nullifier} was already used`);
  const root = parseCanonicalDecimal(msg.root, SCALAR_FIELD_MODULUS);
  const nullifier = parseCanonicalDecimal(msg.nullifier, SCALAR_FIELD_MODULUS);
  if (root === undefined || nullifier === undefined) throw E.ANON_PROOF_MALFORMED('root and nullifier must be field elements');
  const inputs = membershipPublicInputs({ root, nullifier, epoch: epochField(ctx.chainId, epoch), maxSlots: BigInt(ctx.params.maxSlots), signalHash: signalHashForAddress(address) });
  if (!verifyCached(vk, msg.proof, inputs)) throw E.ANON_PROOF_INVALID('the membership proof does not verify');
}

/** Self-admission check (kernel): a fresh key proves membership instead of being admitted by an operator. */
export function authorizeAdmission(ctx: AnonContext, sender: string, msg: AdmitMsg): void {
  checkAdmission(ctx, sender, msg);
}

export function admit(ctx: AnonContext, msg: AdmitMsg): void {
  checkAdmission(ctx, ctx.sender, msg);
  putNullifier(ctx.store, msg.nullifier, { epoch: msg.epoch, height: ctx.height });
  ctx.keepers.registry.admitByModule('anon', ctx.sender, [ANON_ROLE]);
  const expiresAt = ctx.time + ctx.params.accountLifetimeMs;
  putAccount(ctx.store, { address: ctx.sender, epoch: msg.epoch, admittedAt: txRef(ctx), expiresAt, status: 'active' });
  addExpiry(ctx.store, expiresAt, ctx.sender);
  ctx.emit('anon.account_admitted', { address: ctx.sender, epoch: msg.epoch, expiresAt });
}

// ── end of block ──

/** Revokes anonymous accounts whose lifetime ended, and records the root if the block changed it. */
export function endBlock(ctx: AnonContext): void {
  for (const [time, address] of dueExpiries(ctx.store, ctx.time, ctx.params.maxExpiriesPerBlock)) {
    dropExpiry(ctx.store, time, address);
    const account = getAccount(ctx.store, address);
    if (!account || account.status !== 'active') continue;
    putAccount(ctx.store, { ...account, status: 'expired' });
    ctx.keepers.registry.revokeByModule('anon', address, 'anonymous account expired');
  }
  const roots = getRoots(ctx.store);
  if (roots && lastRootAt(ctx.store) !== roots.current) putRootAt(ctx.store, ctx.height, roots.current);
}

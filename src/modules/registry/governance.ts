import { z } from 'zod';
import type { ModuleContext, ValidatorUpdate } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { addressSchema, hexSchema } from '../../codec/tx.js';
import { addressFromPublicKey } from '../../crypto/address.js';
import { fromHexStrict } from '../../util/bytes.js';
import { E } from './errors.js';
import { requireOperator, type RegistryContext } from './rules.js';
import { getAccount, isActive, jails, listValidators, noteOperator, operatorAddresses, putAccount, putValidator, validators, type ValidatorEntry } from './state.js';

/**
 * Consortium governance: an operator proposes a change (validator set, operators); other operators
 * approve; when approvals of operators still in force reach the threshold the change is executed.
 * Validator changes take effect two heights after the approving block (the set deciding height H+2
 * includes a change approved at H). Module upgrades (a module's parameters, the activation of a
 * module, a migration of its state to a later layout version) take effect at the height the proposal
 * states; the kernel applies them, the registry only decides who may approve them.
 *
 * Validator-set steps. A change approved in block H takes effect at H+2, so when it is checked the
 * set deciding H+1 is already fixed: that set is the *base* (the registry's validator table plus the
 * changes due by H+1). The *target* is the base with every change already scheduled for a later
 * height (those approved earlier in block H) and then this one applied, in order: the set that will
 * decide H+2. The change is allowed only when
 *  - the target has at least one validator with positive power (GOV_LAST_VALIDATOR);
 *  - the base's validators keep at least 2/3 of the base's power: Σ min(base, target) ≥ ⌈2/3 · Σ base⌉
 *    (GOV_POWER_LOSS_TOO_LARGE);
 *  - power new to the set stays below 1/3 of the target: 3 · Σ min(base, target) > 2 · Σ target
 *    (GOV_POWER_GAIN_TOO_LARGE), so the validators already running keep more than 2/3 of the votes
 *    and the chain stays live even if every added validator is offline.
 * The check runs when a change is proposed and again when it is executed, so the last approval of a
 * block sees the final set for H+2: any two consecutive heights differ by at most that much. A
 * mistaken or hostile majority of operators therefore cannot halt the chain through the validator
 * set, larger changes take several steps (one per height), and every recovery is another governance
 * step, never a repair of the database by hand.
 */

const MAX_POWER = 1n << 62n;
/** Voting power: a canonical decimal (no leading zeros), so "0" is the only zero and equal powers are equal strings. */
const powerSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/, { message: 'power: a decimal integer without leading zeros' });
const moduleName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'module name: lowercase letters, digits and dashes' });
const heightSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** A module's state layout version (ADR 0029). */
const stateVersionSchema = z.number().int().min(1).max(1_000_000);

export const governanceAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set-validator'), address: addressSchema, pubKey: hexSchema(32), power: powerSchema, name: z.string().max(64).optional(), nodeId: addressSchema.optional() }).strict(),
  z.object({ kind: z.literal('add-operator'), address: addressSchema }).strict(),
  z.object({ kind: z.literal('remove-operator'), address: addressSchema }).strict(),
  z.object({ kind: z.literal('set-params'), module: moduleName, params: z.record(z.string(), z.unknown()), height: heightSchema }).strict(),
  z.object({ kind: z.literal('activate-module'), module: moduleName, height: heightSchema, stateVersion: stateVersionSchema.optional() }).strict(),
  z.object({ kind: z.literal('migrate-module'), module: moduleName, stateVersion: stateVersionSchema, height: heightSchema }).strict(),
]);
export type GovernanceAction = z.infer<typeof governanceAction>;

const proposalId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'proposal id: lowercase letters, digits and dashes, up to 64' });
export const proposeMsg = z.object({ id: proposalId, action: governanceAction, description: z.string().max(512).optional() }).strict();
export const approveMsg = z.object({ id: proposalId }).strict();

export interface Proposal {
  id: string;
  action: GovernanceAction;
  description?: string;
  proposer: string;
  approvals: string[];
  threshold: number;
  status: 'open' | 'executed';
  proposedAt: { height: number; txHash: string };
  executedAt?: { height: number; txHash: string; effectiveHeight: number };
}

const PROPOSAL = 'registry/proposal/';
export const VALIDATOR_CHANGE = 'registry/validator-change/';
const DROPPED_CHANGE = 'registry/dropped-change/';
function threshold(ctx: RegistryContext): number {
  const configured = ctx.params.governanceThreshold;
  const operators = operatorAddresses(ctx).length;
  return configured > 0 ? Math.min(configured, operators) : (operators >> 1) + 1;
}

export function getProposal(store: KVStore, id: string): Proposal | undefined {
  return store.get<Proposal>(PROPOSAL + id);
}

export function listProposals(store: KVStore): Proposal[] {
  return store.scan<Proposal>(PROPOSAL).map(([, p]) => p);
}

function checkAction(ctx: RegistryContext, action: GovernanceAction): void {
  const { store } = ctx;
  if (action.kind === 'set-validator') {
    const pub = fromHexStrict(action.pubKey, 32)!;
    if (addressFromPublicKey(pub) !== action.address) throw E.GOV_VALIDATOR_KEY_MISMATCH('the validator address does not belong to the public key');
    const power = BigInt(action.power);
    if (power > MAX_POWER) throw E.GOV_POWER_TOO_LARGE(`power must be at most ${MAX_POWER}`);
    const { base, scheduled } = validatorStep(ctx);
    if (power === 0n && !scheduled.has(action.address)) throw E.GOV_NOT_A_VALIDATOR(`${action.address} is not a validator (counting the changes already scheduled)`);
    checkValidatorStep(base, applyChanges(scheduled, [{ address: action.address, power: action.power }]));
  } else if (action.kind === 'add-operator') {
    if (isActive(getAccount(store, action.address), 'operator')) throw E.GOV_ALREADY_OPERATOR(`${action.address} is already an operator`);
  } else if (action.kind === 'remove-operator') {
    const account = getAccount(store, action.address);
    if (!isActive(account, 'operator')) throw E.GOV_NOT_OPERATOR(`${action.address} is not an operator`);
    if (operatorAddresses(ctx).length <= 1) throw E.GOV_LAST_OPERATOR('the last operator cannot be removed');
  } else {
    if (action.height <= ctx.height) throw E.GOV_HEIGHT_NOT_FUTURE(`height ${action.height} is not after the current block ${ctx.height}`);
    if (action.kind === 'set-params') ctx.kernel!.checkParams(action.module, action.params);
    else if (action.kind === 'migrate-module') ctx.kernel!.checkMigration(action.module, action.stateVersion);
    else ctx.kernel!.checkActivation(action.module);
  }
}

// ── validator-set steps ──

/** Voting power by address (power 0 = not in the set). */
export type PowerMap = ReadonlyMap<string, bigint>;

function powersOf(validators: readonly ValidatorEntry[]): Map<string, bigint> {
  return new Map(validators.map((v) => [v.address, BigInt(v.power)]));
}

/**
 * The step a validator change of block `ctx.height` (H) joins: `base` is the set deciding H+1 (the
 * validator table plus the changes due by then), `scheduled` that set with every later scheduled
 * change applied (the set deciding H+2 as far as it is known).
 */
export function validatorStep(ctx: ModuleContext): { base: Map<string, bigint>; scheduled: Map<string, bigint> } {
  const pending = ctx.store.scan<ValidatorEntry>(VALIDATOR_CHANGE);
  const firstLater = `${VALIDATOR_CHANGE}${padKey(ctx.height + 2)}`;
  const base = applyChanges(powersOf(listValidators(ctx.store)), pending.filter(([key]) => key < firstLater).map(([, v]) => v));
  const scheduled = applyChanges(base, pending.filter(([key]) => key >= firstLater).map(([, v]) => v));
  return { base, scheduled };
}

export function applyChanges(set: PowerMap, changes: ReadonlyArray<{ address: string; power: string }>): Map<string, bigint> {
  const out = new Map(set);
  for (const c of changes) {
    const power = BigInt(c.power);
    if (power === 0n) out.delete(c.address);
    else out.set(c.address, power);
  }
  return out;
}

function total(set: PowerMap): bigint {
  let sum = 0n;
  for (const p of set.values()) sum += p;
  return sum;
}

/**
 * The validator-set step rule (see the top of this file): `target` must keep the chain live and
 * safe relative to `base`. Exported so that other changes of the set (e.g. jailing on evidence)
 * obey the same rule. Throws GOV_LAST_VALIDATOR, GOV_POWER_LOSS_TOO_LARGE or GOV_POWER_GAIN_TOO_LARGE.
 */
export function checkValidatorStep(base: PowerMap, target: PowerMap): void {
  const baseTotal = total(base);
  const targetTotal = total(target);
  if (targetTotal === 0n) throw E.GOV_LAST_VALIDATOR('the validator set would be empty (counting the changes already scheduled)');
  let kept = 0n;
  for (const [address, power] of base) {
    const after = target.get(address) ?? 0n;
    kept += after < power ? after : power;
  }
  // kept ≥ ⌈2/3 · baseTotal⌉  ⇔  3 · kept ≥ 2 · baseTotal
  if (3n * kept < 2n * baseTotal) {
    throw E.GOV_POWER_LOSS_TOO_LARGE(`the validators in force would keep ${kept} of their ${baseTotal} power (counting the changes already scheduled); at most 1/3 may go in one step`);
  }
  if (3n * kept <= 2n * targetTotal) {
    throw E.GOV_POWER_GAIN_TOO_LARGE(`power new to the set would be ${targetTotal - kept} of ${targetTotal} (counting the changes already scheduled); it must stay below 1/3`);
  }
}

export function propose(ctx: RegistryContext, msg: z.infer<typeof proposeMsg>): void {
  requireOperator(ctx, 'propose or approve');
  if (getProposal(ctx.store, msg.id)) throw E.GOV_PROPOSAL_EXISTS(`a proposal ${msg.id} already exists`);
  checkAction(ctx, msg.action);
  const proposal: Proposal = {
    id: msg.id,
    action: msg.action,
    ...(msg.description ? { description: msg.description } : {}),
    proposer: ctx.sender,
    approvals: [ctx.sender],
    threshold: threshold(ctx),
    status: 'open',
    proposedAt: { height: ctx.height, txHash: ctx.txHash },
  };
  ctx.emit('registry.propose', { id: msg.id, kind: msg.action.kind });
  maybeExecute(ctx, proposal);
}

export function approve(ctx: RegistryContext, msg: z.infer<typeof approveMsg>): void {
  requireOperator(ctx, 'propose or approve');
  const proposal = getProposal(ctx.store, msg.id);
  if (!proposal) throw E.GOV_UNKNOWN_PROPOSAL(`no proposal ${msg.id}`);
  if (proposal.status !== 'open') throw E.GOV_PROPOSAL_CLOSED(`proposal ${msg.id} was already executed`);
  if (proposal.approvals.includes(ctx.sender)) throw E.GOV_ALREADY_APPROVED(`${ctx.sender} already approved ${msg.id}`);
  ctx.emit('registry.approve', { id: msg.id });
  maybeExecute(ctx, { ...proposal, approvals: [...proposal.approvals, ctx.sender].sort() });
}

/** Approvals that count: those of accounts that are operators now (an operator removed later no longer counts). */
function countedApprovals(ctx: RegistryContext, proposal: Proposal): number {
  return proposal.approvals.filter((a) => isActive(getAccount(ctx.store, a), 'operator')).length;
}

function maybeExecute(ctx: RegistryContext, proposal: Proposal): void {
  if (countedApprovals(ctx, proposal) < proposal.threshold) {
    ctx.store.set(PROPOSAL + proposal.id, proposal);
    return;
  }
  // State may have changed since the proposal (e.g. validator removed): check again before executing.
  checkAction(ctx, proposal.action);
  const effectiveHeight = ctx.height + 2;
  const { action } = proposal;
  if (action.kind === 'set-validator') {
    // A re-weighting that names no node keeps the node id the validator had.
    const nodeId = action.nodeId ?? validators.get(ctx.store, action.address)?.nodeId;
    const entry: ValidatorEntry = { address: action.address, pubKey: action.pubKey, power: action.power, ...(action.name ? { name: action.name } : {}), ...(nodeId ? { nodeId } : {}) };
    ctx.store.set(`${VALIDATOR_CHANGE}${padKey(effectiveHeight)}/${action.address}`, entry);
    // Reinstating a jailed validator is the operators' explicit decision: its jail ends.
    if (action.power !== '0' && jails.has(ctx.store, action.address)) {
      jails.delete(ctx.store, action.address);
      ctx.emit('registry.unjail', { validator: action.address });
    }
  } else if (action.kind === 'add-operator') {
    const existing = getAccount(ctx.store, action.address);
    const roles = [...new Set([...(isActive(existing) ? existing.roles : []), 'operator' as const])].sort();
    putAccount(ctx.store, { address: action.address, roles, status: 'admitted', admittedAt: { height: ctx.height, txHash: ctx.txHash }, admittedBy: `governance:${proposal.id}` });
    noteOperator(ctx, action.address, true);
  } else if (action.kind === 'remove-operator') {
    const account = getAccount(ctx.store, action.address)!;
    putAccount(ctx.store, { ...account, roles: account.roles.filter((r) => r !== 'operator') });
    noteOperator(ctx, action.address, false);
  } else if (action.kind === 'set-params') {
    ctx.kernel!.scheduleParams(action.module, action.params, action.height);
  } else if (action.kind === 'migrate-module') {
    ctx.kernel!.scheduleMigration(action.module, action.stateVersion, action.height);
  } else {
    ctx.kernel!.scheduleActivation(action.module, action.height, action.stateVersion);
  }
  const effective = action.kind === 'set-params' || action.kind === 'activate-module' || action.kind === 'migrate-module' ? action.height : effectiveHeight;
  ctx.store.set(PROPOSAL + proposal.id, { ...proposal, status: 'executed', executedAt: { height: ctx.height, txHash: ctx.txHash, effectiveHeight: effective } });
  ctx.emit('registry.governance-executed', { id: proposal.id, effectiveHeight: effective });
}

/**
 * End of every block: scheduled validator changes due for the next height enter the set. Returns
 * them (as ABCI's EndBlock returns validator updates) so the ledger updates its validator set, with
 * canonical powers. A due change that would leave no validator with power is dropped (and recorded
 * under registry/dropped-change/): the rules above never schedule one, so it can only come from
 * state written by an older version, and dropping it keeps the chain alive without repair by hand.
 */
export function applyDueValidatorChanges(ctx: ModuleContext): ValidatorUpdate[] {
  const { store } = ctx;
  const due = store.scan<ValidatorEntry>(VALIDATOR_CHANGE, { end: `${VALIDATOR_CHANGE}${padKey(ctx.height + 2)}` });
  const updates: ValidatorUpdate[] = [];
  if (due.length === 0) return updates; // most blocks: the set is not read at all
  let set = powersOf(listValidators(store));
  for (const [key, raw] of due) {
    store.delete(key);
    const entry: ValidatorEntry = { ...raw, power: BigInt(raw.power).toString() };
    const next = applyChanges(set, [entry]);
    if (total(next) === 0n) {
      store.set(`${DROPPED_CHANGE}${padKey(ctx.height)}/${entry.address}`, { ...entry, reason: 'the validator set would be empty' });
      continue;
    }
    set = next;
    if (entry.power === '0') validators.delete(store, entry.address);
    else putValidator(store, entry);
    updates.push({ address: entry.address, pubKey: entry.pubKey, power: entry.power });
  }
  return updates;
}

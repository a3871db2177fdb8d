import { z } from 'zod';
import type { ModuleContext, ValidatorUpdate } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { addressSchema, hexSchema } from '../../codec/tx.js';
import { addressFromPublicKey } from '../../crypto/address.js';
import { fromHexStrict } from '../../util/bytes.js';
import { E } from './errors.js';
import { requireOperator, type RegistryContext } from './rules.js';
import { accounts, getAccount, isActive, listValidators, putAccount, putValidator, validators, type Account, type ValidatorEntry } from './state.js';

/**
 * Consortium governance: an operator proposes a change (validator set, operators); other operators
 * approve; when approvals reach the threshold the change is executed. Validator changes take effect
 * two heights after the approving block (the set deciding height H+2 includes a change approved at H).
 * Module upgrades (a module's parameters, the activation of a module) take effect at the height the
 * proposal states; the kernel applies them, the registry only decides who may approve them.
 */

const MAX_POWER = 1n << 62n;
const moduleName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'module name: lowercase letters, digits and dashes' });
const heightSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const governanceAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set-validator'), address: addressSchema, pubKey: hexSchema(32), power: z.string().regex(/^\d{1,19}$/), name: z.string().max(64).optional() }).strict(),
  z.object({ kind: z.literal('add-operator'), address: addressSchema }).strict(),
  z.object({ kind: z.literal('remove-operator'), address: addressSchema }).strict(),
  z.object({ kind: z.literal('set-params'), module: moduleName, params: z.record(z.string(), z.unknown()), height: heightSchema }).strict(),
  z.object({ kind: z.literal('activate-module'), module: moduleName, height: heightSchema }).strict(),
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
const VALIDATOR_CHANGE = 'registry/validator-change/';
function activeOperators(store: KVStore): Account[] {
  return accounts.list(store).filter((a) => isActive(a, 'operator'));
}

function threshold(ctx: RegistryContext): number {
  const configured = ctx.params.governanceThreshold;
  const operators = activeOperators(ctx.store).length;
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
    const remaining = listValidators(store).filter((v) => v.address !== action.address);
    if (power === 0n && remaining.length === 0) throw E.GOV_LAST_VALIDATOR('the last validator cannot be removed');
    if (power === 0n && !listValidators(store).some((v) => v.address === action.address)) throw E.GOV_NOT_A_VALIDATOR(`${action.address} is not a validator`);
  } else if (action.kind === 'add-operator') {
    if (isActive(getAccount(store, action.address), 'operator')) throw E.GOV_ALREADY_OPERATOR(`${action.address} is already an operator`);
  } else if (action.kind === 'remove-operator') {
    const account = getAccount(store, action.address);
    if (!isActive(account, 'operator')) throw E.GOV_NOT_OPERATOR(`${action.address} is not an operator`);
    if (activeOperators(store).length <= 1) throw E.GOV_LAST_OPERATOR('the last operator cannot be removed');
  } else {
    if (action.height <= ctx.height) throw E.GOV_HEIGHT_NOT_FUTURE(`height ${action.height} is not after the current block ${ctx.height}`);
    if (action.kind === 'set-params') ctx.kernel!.checkParams(action.module, action.params);
    else ctx.kernel!.checkActivation(action.module);
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

function maybeExecute(ctx: RegistryContext, proposal: Proposal): void {
  if (proposal.approvals.length < proposal.threshold) {
    ctx.store.set(PROPOSAL + proposal.id, proposal);
    return;
  }
  // State may have changed since the proposal (e.g. validator removed): check again before executing.
  checkAction(ctx, proposal.action);
  const effectiveHeight = ctx.height + 2;
  const { action } = proposal;
  if (action.kind === 'set-validator') {
    const entry: ValidatorEntry = { address: action.address, pubKey: action.pubKey, power: action.power, ...(action.name ? { name: action.name } : {}) };
    ctx.store.set(`${VALIDATOR_CHANGE}${padKey(effectiveHeight)}/${action.address}`, entry);
  } else if (action.kind === 'add-operator') {
    const existing = getAccount(ctx.store, action.address);
    const roles = [...new Set([...(isActive(existing) ? existing.roles : []), 'operator' as const])].sort();
    putAccount(ctx.store, { address: action.address, roles, status: 'admitted', admittedAt: { height: ctx.height, txHash: ctx.txHash }, admittedBy: `governance:${proposal.id}` });
  } else if (action.kind === 'remove-operator') {
    const account = getAccount(ctx.store, action.address)!;
    putAccount(ctx.store, { ...account, roles: account.roles.filter((r) => r !== 'operator') });
  } else if (action.kind === 'set-params') {
    ctx.kernel!.scheduleParams(action.module, action.params, action.height);
  } else {
    ctx.kernel!.scheduleActivation(action.module, action.height);
  }
  const effective = action.kind === 'set-params' || action.kind === 'activate-module' ? action.height : effectiveHeight;
  ctx.store.set(PROPOSAL + proposal.id, { ...proposal, status: 'executed', executedAt: { height: ctx.height, txHash: ctx.txHash, effectiveHeight: effective } });
  ctx.emit('registry.governance-executed', { id: proposal.id, effectiveHeight: effective });
}

/**
 * End of every block: scheduled validator changes due for the next height enter the set. Returns
 * them (as ABCI's EndBlock returns validator updates) so the ledger updates its validator set.
 */
export function applyDueValidatorChanges(ctx: ModuleContext): ValidatorUpdate[] {
  const { store } = ctx;
  const due = store.scan<ValidatorEntry>(VALIDATOR_CHANGE, { end: `${VALIDATOR_CHANGE}${padKey(ctx.height + 2)}` });
  const updates: ValidatorUpdate[] = [];
  for (const [key, entry] of due) {
    if (entry.power === '0') validators.delete(store, entry.address);
    else putValidator(store, entry);
    store.delete(key);
    updates.push({ address: entry.address, pubKey: entry.pubKey, power: entry.power });
  }
  return updates;
}

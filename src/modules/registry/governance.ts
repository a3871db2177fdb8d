import { z } from 'zod';
import type { TxContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { addressSchema, hexSchema } from '../../codec/tx.js';
import { addressFromPublicKey } from '../../crypto/address.js';
import { fromHexStrict } from '../../util/bytes.js';
import { LedgerError } from '../../util/errors.js';
import { getAccount, isActive, listValidators, putAccount, putValidator, type Account, type ValidatorEntry } from './state.js';

/**
 * Consortium governance: an operator proposes a change (validator set, operators); other operators
 * approve; when approvals reach the threshold the change is executed. Validator changes take effect
 * two heights after the approving block (the set deciding height H+2 includes a change approved at H).
 */

const MAX_POWER = 1n << 62n;

export const governanceAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set-validator'), address: addressSchema, pubKey: hexSchema(32), power: z.string().regex(/^\d{1,19}$/), name: z.string().max(64).optional() }).strict(),
  z.object({ kind: z.literal('add-operator'), address: addressSchema }).strict(),
  z.object({ kind: z.literal('remove-operator'), address: addressSchema }).strict(),
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
const PARAMS = 'registry/params';

export interface RegistryParams {
  /** Approvals needed; 0 = a majority of the operators in force when the proposal is made. */
  governanceThreshold: number;
}

export function setParams(store: KVStore, params: RegistryParams): void {
  store.set(PARAMS, params);
}

function activeOperators(store: KVStore): Account[] {
  return store.scan<Account>('registry/account/').map(([, a]) => a).filter((a) => isActive(a, 'operator'));
}

function threshold(store: KVStore): number {
  const configured = store.get<RegistryParams>(PARAMS)?.governanceThreshold ?? 0;
  const operators = activeOperators(store).length;
  return configured > 0 ? Math.min(configured, operators) : (operators >> 1) + 1;
}

function requireOperator(ctx: TxContext): void {
  if (!isActive(getAccount(ctx.store, ctx.sender), 'operator')) throw new LedgerError('REGISTRY_NOT_OPERATOR', 'only a consortium operator may propose or approve', 403);
}

export function getProposal(store: KVStore, id: string): Proposal | undefined {
  return store.get<Proposal>(PROPOSAL + id);
}

export function listProposals(store: KVStore): Proposal[] {
  return store.scan<Proposal>(PROPOSAL).map(([, p]) => p);
}

function checkAction(store: KVStore, action: GovernanceAction): void {
  if (action.kind === 'set-validator') {
    const pub = fromHexStrict(action.pubKey, 32)!;
    if (addressFromPublicKey(pub) !== action.address) throw new LedgerError('GOV_VALIDATOR_KEY_MISMATCH', 'the validator address does not belong to the public key');
    const power = BigInt(action.power);
    if (power > MAX_POWER) throw new LedgerError('GOV_POWER_TOO_LARGE', `power must be at most ${MAX_POWER}`);
    const remaining = listValidators(store).filter((v) => v.address !== action.address);
    if (power === 0n && remaining.length === 0) throw new LedgerError('GOV_LAST_VALIDATOR', 'the last validator cannot be removed');
    if (power === 0n && !listValidators(store).some((v) => v.address === action.address)) throw new LedgerError('GOV_NOT_A_VALIDATOR', `${action.address} is not a validator`);
  } else if (action.kind === 'add-operator') {
    if (isActive(getAccount(store, action.address), 'operator')) throw new LedgerError('GOV_ALREADY_OPERATOR', `${action.address} is already an operator`);
  } else {
    const account = getAccount(store, action.address);
    if (!isActive(account, 'operator')) throw new LedgerError('GOV_NOT_OPERATOR', `${action.address} is not an operator`);
    if (activeOperators(store).length <= 1) throw new LedgerError('GOV_LAST_OPERATOR', 'the last operator cannot be removed');
  }
}

export function propose(ctx: TxContext, msg: z.infer<typeof proposeMsg>): void {
  requireOperator(ctx);
  if (getProposal(ctx.store, msg.id)) throw new LedgerError('GOV_PROPOSAL_EXISTS', `a proposal ${msg.id} already exists`);
  checkAction(ctx.store, msg.action);
  const proposal: Proposal = {
    id: msg.id,
    action: msg.action,
    ...(msg.description ? { description: msg.description } : {}),
    proposer: ctx.sender,
    approvals: [ctx.sender],
    threshold: threshold(ctx.store),
    status: 'open',
    proposedAt: { height: ctx.height, txHash: ctx.txHash },
  };
  ctx.emit('registry.propose', { id: msg.id, kind: msg.action.kind });
  maybeExecute(ctx, proposal);
}

export function approve(ctx: TxContext, msg: z.infer<typeof approveMsg>): void {
  requireOperator(ctx);
  const proposal = getProposal(ctx.store, msg.id);
  if (!proposal) throw new LedgerError('GOV_UNKNOWN_PROPOSAL', `no proposal ${msg.id}`, 404);
  if (proposal.status !== 'open') throw new LedgerError('GOV_PROPOSAL_CLOSED', `proposal ${msg.id} was already executed`);
  if (proposal.approvals.includes(ctx.sender)) throw new LedgerError('GOV_ALREADY_APPROVED', `${ctx.sender} already approved ${msg.id}`);
  ctx.emit('registry.approve', { id: msg.id });
  maybeExecute(ctx, { ...proposal, approvals: [...proposal.approvals, ctx.sender].sort() });
}

function maybeExecute(ctx: TxContext, proposal: Proposal): void {
  if (proposal.approvals.length < proposal.threshold) {
    ctx.store.set(PROPOSAL + proposal.id, proposal);
    return;
  }
  // State may have changed since the proposal (e.g. validator removed): check again before executing.
  checkAction(ctx.store, proposal.action);
  const effectiveHeight = ctx.height + 2;
  const { action } = proposal;
  if (action.kind === 'set-validator') {
    const entry: ValidatorEntry = { address: action.address, pubKey: action.pubKey, power: action.power, ...(action.name ? { name: action.name } : {}) };
    ctx.store.set(`${VALIDATOR_CHANGE}${padKey(effectiveHeight)}/${action.address}`, entry);
  } else if (action.kind === 'add-operator') {
    const existing = getAccount(ctx.store, action.address);
    const roles = [...new Set([...(isActive(existing) ? existing.roles : []), 'operator' as const])].sort();
    putAccount(ctx.store, { address: action.address, roles, status: 'admitted', admittedAt: { height: ctx.height, txHash: ctx.txHash }, admittedBy: `governance:${proposal.id}` });
  } else {
    const account = getAccount(ctx.store, action.address)!;
    putAccount(ctx.store, { ...account, roles: account.roles.filter((r) => r !== 'operator') });
  }
  ctx.store.set(PROPOSAL + proposal.id, { ...proposal, status: 'executed', executedAt: { height: ctx.height, txHash: ctx.txHash, effectiveHeight } });
  ctx.emit('registry.governance-executed', { id: proposal.id, effectiveHeight });
}

/** End of every block: scheduled validator changes due for the next height enter the set. */
export function applyDueValidatorChanges(store: KVStore, height: number): void {
  const due = store.scan<ValidatorEntry>(VALIDATOR_CHANGE, { end: `${VALIDATOR_CHANGE}${padKey(height + 2)}` });
  for (const [key, entry] of due) {
    if (entry.power === '0') store.delete(`registry/validator/${entry.address}`);
    else putValidator(store, entry);
    store.delete(key);
  }
}

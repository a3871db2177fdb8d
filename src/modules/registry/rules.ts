import type { ModuleContext } from '../../app/module.js';
import { E } from './errors.js';
import { accountRevoked } from './keeper.js';
import { type AdmitMsg, type RevokeMsg, type SetRolesMsg } from './messages.js';
import { appendLog, getAccount, isActive, markActive, MODULE_GRANTED_ROLES, putAccount, type Role } from './state.js';

export interface RegistryParams {
  /** Approvals needed; 0 = a majority of the operators in force when the proposal is made. */
  governanceThreshold: number;
}

export type RegistryContext = ModuleContext<unknown, RegistryParams>;

/** Only admitted, unrevoked accounts may transact at all. */
export function authorizeSender(ctx: ModuleContext, sender: string): void {
  const account = getAccount(ctx.store, sender);
  if (!account) throw E.TX_SENDER_NOT_ADMITTED(`sender ${sender} is not an admitted participant`);
  if (account.status === 'revoked') throw E.TX_SENDER_REVOKED(`sender ${sender} was revoked at height ${account.revokedAt?.height}`);
}

export function requireOperator(ctx: ModuleContext, what: string): void {
  if (!isActive(getAccount(ctx.store, ctx.sender), 'operator')) throw E.REGISTRY_NOT_OPERATOR(`only a consortium operator may ${what}`);
}

/** After every transaction that committed OK: its sender was active at this block (for `query registry inactive`). */
export function noteActivity(ctx: ModuleContext): void {
  markActive(ctx.store, ctx.sender, { height: ctx.height, time: ctx.time });
}

/** Operators change only through governance (genesis for now), never by one operator alone. */
function refuseOperatorRole(roles: readonly Role[]): void {
  if (roles.includes('operator')) {
    throw E.REGISTRY_OPERATOR_NEEDS_GOVERNANCE('the operator role is granted in genesis or by governance, not by admit');
  }
}

export function admit(ctx: RegistryContext, msg: AdmitMsg): void {
  requireOperator(ctx, 'admit or revoke participants');
  refuseOperatorRole(msg.roles);
  // An operator may revoke an anonymous account (abuse), but only a membership proof admits one.
  if (msg.roles.some((r) => MODULE_GRANTED_ROLES.includes(r))) throw E.REGISTRY_ROLE_RESERVED('trader-anon accounts are admitted by a membership proof (anon/admit), not by an operator');
  const existing = getAccount(ctx.store, msg.address);
  if (isActive(existing)) throw E.REGISTRY_ALREADY_ADMITTED(`${msg.address} is already admitted`);
  const at = { height: ctx.height, txHash: ctx.txHash };
  const roles = [...msg.roles].sort();
  putAccount(ctx.store, { address: msg.address, roles, status: 'admitted', admittedAt: at, admittedBy: ctx.sender });
  // Admission starts the inactivity clock: a new account is not "inactive since forever".
  markActive(ctx.store, msg.address, { height: ctx.height, time: ctx.time });
  appendLog(ctx.store, { action: 'admit', address: msg.address, roles, by: ctx.sender, ...at }, ctx.msgIndex);
  ctx.emit('registry.admit', { address: msg.address, roles: roles.join(',') });
}

export function revoke(ctx: RegistryContext, msg: RevokeMsg): void {
  requireOperator(ctx, 'admit or revoke participants');
  const account = getAccount(ctx.store, msg.address);
  if (!isActive(account)) throw E.REGISTRY_NOT_ADMITTED(`${msg.address} is not an admitted participant`);
  refuseOperatorRole(account.roles);
  const at = { height: ctx.height, txHash: ctx.txHash };
  putAccount(ctx.store, { ...account, status: 'revoked', revokedAt: at, revokedBy: ctx.sender, ...(msg.reason ? { revokeReason: msg.reason } : {}) });
  appendLog(ctx.store, { action: 'revoke', address: msg.address, roles: account.roles, by: ctx.sender, ...at, ...(msg.reason ? { reason: msg.reason } : {}) }, ctx.msgIndex);
  ctx.emit('registry.revoke', { address: msg.address });
  ctx.dispatch(accountRevoked, { address: msg.address });
}

/**
 * Replaces the roles of an admitted account in place (no revoke and re-admit, so its nonce, history
 * and everything other modules hold for it stay). Governed like admission; the operator role still
 * needs governance, in either direction.
 */
export function setRoles(ctx: RegistryContext, msg: SetRolesMsg): void {
  requireOperator(ctx, 'change the roles of participants');
  const account = getAccount(ctx.store, msg.address);
  if (!isActive(account)) throw E.REGISTRY_NOT_ADMITTED(`${msg.address} is not an admitted participant`);
  refuseOperatorRole(account.roles);
  refuseOperatorRole(msg.roles);
  const roles = [...msg.roles].sort();
  if (roles.join(',') === account.roles.join(',')) throw E.REGISTRY_ROLES_UNCHANGED(`${msg.address} already holds exactly ${roles.join(', ')}`);
  const at = { height: ctx.height, txHash: ctx.txHash };
  putAccount(ctx.store, { ...account, roles });
  appendLog(ctx.store, { action: 'set-roles', address: msg.address, roles, previousRoles: account.roles, by: ctx.sender, ...at, ...(msg.reason ? { reason: msg.reason } : {}) }, ctx.msgIndex);
  ctx.emit('registry.set_roles', { address: msg.address, roles: roles.join(','), previous: account.roles.join(',') });
}

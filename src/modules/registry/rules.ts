import type { TxContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { LedgerError } from '../../util/errors.js';
import { type AdmitMsg, type RevokeMsg } from './messages.js';
import { appendLog, getAccount, isActive, putAccount, type Role } from './state.js';

/** Only admitted, unrevoked accounts may transact at all. */
export function authorizeSender(store: KVStore, sender: string): void {
  const account = getAccount(store, sender);
  if (!account) throw new LedgerError('TX_SENDER_NOT_ADMITTED', `sender ${sender} is not an admitted participant`, 403);
  if (account.status === 'revoked') throw new LedgerError('TX_SENDER_REVOKED', `sender ${sender} was revoked at height ${account.revokedAt?.height}`, 403);
}

function requireOperator(ctx: TxContext): void {
  if (!isActive(getAccount(ctx.store, ctx.sender), 'operator')) {
    throw new LedgerError('REGISTRY_NOT_OPERATOR', 'only a consortium operator may admit or revoke participants', 403);
  }
}

/** Operators change only through governance (genesis for now), never by one operator alone. */
function refuseOperatorRole(roles: readonly Role[]): void {
  if (roles.includes('operator')) {
    throw new LedgerError('REGISTRY_OPERATOR_NEEDS_GOVERNANCE', 'the operator role is granted in genesis or by governance, not by admit');
  }
}

export function admit(ctx: TxContext, msg: AdmitMsg): void {
  requireOperator(ctx);
  refuseOperatorRole(msg.roles);
  const existing = getAccount(ctx.store, msg.address);
  if (isActive(existing)) throw new LedgerError('REGISTRY_ALREADY_ADMITTED', `${msg.address} is already admitted`);
  const at = { height: ctx.height, txHash: ctx.txHash };
  const roles = [...msg.roles].sort();
  putAccount(ctx.store, { address: msg.address, roles, status: 'admitted', admittedAt: at, admittedBy: ctx.sender });
  appendLog(ctx.store, { action: 'admit', address: msg.address, roles, by: ctx.sender, ...at }, ctx.msgIndex);
  ctx.emit('registry.admit', { address: msg.address, roles: roles.join(',') });
}

export function revoke(ctx: TxContext, msg: RevokeMsg): void {
  requireOperator(ctx);
  const account = getAccount(ctx.store, msg.address);
  if (!isActive(account)) throw new LedgerError('REGISTRY_NOT_ADMITTED', `${msg.address} is not an admitted participant`);
  refuseOperatorRole(account.roles);
  const at = { height: ctx.height, txHash: ctx.txHash };
  putAccount(ctx.store, { ...account, status: 'revoked', revokedAt: at, revokedBy: ctx.sender, ...(msg.reason ? { revokeReason: msg.reason } : {}) });
  appendLog(ctx.store, { action: 'revoke', address: msg.address, roles: account.roles, by: ctx.sender, ...at, ...(msg.reason ? { reason: msg.reason } : {}) }, ctx.msgIndex);
  ctx.emit('registry.revoke', { address: msg.address });
}

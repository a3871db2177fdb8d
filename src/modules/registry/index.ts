import type { AppModule, Genesis } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { accountNonce } from '../../app/nonce.js';
import { LedgerError } from '../../util/errors.js';
import { admitMsg, MSG, revokeMsg } from './messages.js';
import { registryRoutes } from './routes.js';
import { admit, authorizeSender, revoke } from './rules.js';
import { getAccount, listAccounts, listValidators, putAccount, putValidator, readLog, ROLES, type Role } from './state.js';
import { registerRegistryCli } from './cli.js';
import { applyDueValidatorChanges, approve, approveMsg, getProposal, listProposals, propose, proposeMsg, setParams } from './governance.js';

function initGenesis(store: KVStore, genesis: Genesis): void {
  const at = { height: 0, txHash: 'genesis' };
  const roles = new Map<string, Set<Role>>();
  const add = (address: string, list: readonly string[]) => {
    const set = roles.get(address) ?? new Set<Role>();
    for (const r of list) {
      if (!(ROLES as readonly string[]).includes(r)) throw new LedgerError('GENESIS_INVALID', `unknown role ${r} for ${address}`);
      set.add(r as Role);
    }
    roles.set(address, set);
  };
  for (const op of genesis.operators) add(op, ['operator']);
  for (const a of genesis.accounts) add(a.address, a.roles);
  for (const [address, set] of [...roles.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    putAccount(store, { address, roles: [...set].sort(), status: 'admitted', admittedAt: at, admittedBy: 'genesis' });
  }
  for (const v of genesis.validators) putValidator(store, v);
  const params = (genesis.modules.registry ?? {}) as { governanceThreshold?: unknown };
  const t = params.governanceThreshold ?? 0;
  if (!Number.isSafeInteger(t) || (t as number) < 0) throw new LedgerError('GENESIS_INVALID', 'registry.governanceThreshold must be a whole number ≥ 0');
  setParams(store, { governanceThreshold: t as number });
}

export const registryModule: AppModule = {
  name: 'registry',
  messages: {
    [MSG.admit]: { schema: admitMsg, execute: admit },
    [MSG.revoke]: { schema: revokeMsg, execute: revoke },
    [MSG.propose]: { schema: proposeMsg, execute: propose },
    [MSG.approve]: { schema: approveMsg, execute: approve },
  },
  endBlock: (store, block) => applyDueValidatorChanges(store, block.height),
  initGenesis,
  authorize: authorizeSender,
  routes: [
    {
      route: registryRoutes.getAccount,
      handle: (store, { params }) => {
        const account = getAccount(store, params.address) ?? null;
        return {
          address: params.address,
          nonce: accountNonce(store, params.address),
          admitted: account?.status === 'admitted',
          revoked: account?.status === 'revoked',
          roles: account?.roles ?? [],
          account,
        };
      },
    },
    {
      route: registryRoutes.listAccounts,
      handle: (store, { query }) => {
        const accounts = listAccounts(store, { after: query.after, limit: query.role ? 100_000 : query.limit });
        const filtered = query.role ? accounts.filter((a) => a.roles.includes(query.role)).slice(0, query.limit) : accounts;
        return { accounts: filtered };
      },
    },
    { route: registryRoutes.registryLog, handle: (store, { query }) => ({ entries: readLog(store, query) }) },
    { route: registryRoutes.listValidators, handle: (store) => ({ validators: listValidators(store) }) },
    { route: registryRoutes.listProposals, handle: (store) => ({ proposals: listProposals(store) }) },
    {
      route: registryRoutes.getProposal,
      handle: (store, { params }) => {
        const p = getProposal(store, params.id);
        if (!p) throw new LedgerError('GOV_UNKNOWN_PROPOSAL', `no proposal ${params.id}`, 404);
        return p;
      },
    },
  ],
  cli: registerRegistryCli,
};

export { registryRoutes };
export { listValidators, getAccount, hasAnyRole, isActive } from './state.js';
export type { Role, Account } from './state.js';

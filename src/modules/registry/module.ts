import { z } from 'zod';
import { defineModule, handler, type Genesis } from '../../app/module.js';
import { KERNEL_ERRORS } from '../../app/kernel.js';
import { E } from './errors.js';
import { applyDueValidatorChanges, approve, approveMsg, propose, proposeMsg } from './governance.js';
import { jailEquivocators, retryPendingJails } from './jail.js';
import { registryKeeper, type RegistryKeeper } from './keeper.js';
import { admitMsg, MSG, revokeMsg, setRolesMsg } from './messages.js';
import { admit, authorizeSender, noteActivity, revoke, setRoles, type RegistryContext, type RegistryParams } from './rules.js';
import { appendLog, indexOperators, markActive, MODULE_GRANTED_ROLES, putAccount, putValidator, registryQueryIndexes, ROLES, type Role } from './state.js';

const params = z.object({ governanceThreshold: z.number().int().min(0).max(1000) }).strict();

/** Genesis: operators, admitted accounts with their roles, and the first validator set. */
function initGenesis(ctx: RegistryContext, _section: unknown, genesis: Genesis): void {
  const at = { height: 0, txHash: 'genesis' };
  const roles = new Map<string, Set<Role>>();
  const add = (address: string, list: readonly string[]) => {
    const set = roles.get(address) ?? new Set<Role>();
    for (const r of list) {
      if (!(ROLES as readonly string[]).includes(r)) throw KERNEL_ERRORS.GENESIS_INVALID(`unknown role ${r} for ${address}`);
      if ((MODULE_GRANTED_ROLES as readonly string[]).includes(r)) throw KERNEL_ERRORS.GENESIS_INVALID(`role ${r} of ${address} is granted only by a membership proof`);
      set.add(r as Role);
    }
    roles.set(address, set);
  };
  for (const op of genesis.operators) add(op, ['operator']);
  for (const a of genesis.accounts) add(a.address, a.roles);
  // Genesis admissions are logged like later ones (in address order), and start the inactivity clock at genesis time.
  [...roles.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .forEach(([address, set], i) => {
      const sorted = [...set].sort();
      putAccount(ctx.store, { address, roles: sorted, status: 'admitted', admittedAt: at, admittedBy: 'genesis' });
      appendLog(ctx.store, { action: 'admit', address, roles: sorted, by: 'genesis', ...at }, i, 16);
      markActive(ctx.store, address, { height: 0, time: genesis.genesisTime });
    });
  for (const v of genesis.validators) putValidator(ctx.store, v);
}

export const registryCore = defineModule<RegistryKeeper, RegistryParams>({
  name: 'registry',
  requires: [],
  errors: E,
  messages: {
    [MSG.admit]: handler(admitMsg, admit),
    [MSG.revoke]: handler(revokeMsg, revoke),
    [MSG.setRoles]: handler(setRolesMsg, setRoles),
    [MSG.propose]: handler(proposeMsg, propose),
    [MSG.approve]: handler(approveMsg, approve),
  },
  params: { schema: params, defaults: { governanceThreshold: 0 } },
  genesis: { schema: params.partial(), init: initGenesis },
  keeper: registryKeeper,
  queryIndexes: registryQueryIndexes,
  authorize: authorizeSender,
  afterTx: noteActivity,
  onMisbehaviour: jailEquivocators,
  // 2: the operator set is kept (registry/operator/): governance counts operators without reading every account (ADR 0029).
  stateVersions: { latest: 2, migrations: { 2: indexOperators } },
  endBlock: (ctx) => {
    retryPendingJails(ctx);
    return { validatorUpdates: applyDueValidatorChanges(ctx) };
  },
  kernelAccess: true,
});

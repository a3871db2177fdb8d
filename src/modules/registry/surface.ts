import type { Command } from 'commander';
import { coreRoutes } from '../../api/routes.js';
import { call, CLI_ERRORS, opt, pageText, queryCommand, resolveAddress, txCommand } from '../../cli/kit.js';
import { localTime } from '../../cli/human.js';
import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { E } from './errors.js';
import { getProposal, listProposals } from './governance.js';
import { MSG } from './messages.js';
import { registryRoutes } from './routes.js';
import { accountPage, accounts, getAccount, jails, lastActive, listValidators, readLog, ROLES, type Role } from './state.js';
import type { KVStore } from '../../app/state.js';
import { DAY_MS } from '../../util/slots.js';

/** Accounts one inactivity query reads at most (bounded work per request). */
export const INACTIVE_SCAN = 2_000;

/**
 * Admitted accounts without a transaction committed OK for `days` days of block time (the time of the
 * latest block), in address order. An account admitted before activity was recorded has no record
 * (lastActive null) and counts as inactive.
 */
export function inactiveAccounts(store: KVStore, now: { height: number; time: number }, query: { days: number; role?: Role; after?: string; limit: number }) {
  const cutoff = now.time - query.days * DAY_MS;
  const found: Array<{ address: string; roles: Role[]; lastActive: { height: number; time: number } | null }> = [];
  const page = accounts.page(store, { after: query.after, limit: INACTIVE_SCAN });
  let next: string | undefined;
  for (const a of page.items) {
    if (a.status === 'admitted' && (query.role === undefined || a.roles.includes(query.role))) {
      const last = lastActive(store, a.address) ?? null;
      if (last === null || last.time <= cutoff) found.push({ address: a.address, roles: a.roles, lastActive: last });
    }
    if (found.length >= query.limit) {
      next = a.address;
      break;
    }
  }
  if (next === undefined && page.next !== undefined) next = page.next;
  return { height: now.height, time: now.time, cutoff, accounts: found, ...(next !== undefined ? { next } : {}) };
}

function parseRoles(values: string[]): string[] {
  const roles = values.flatMap((v) => v.split(',')).map((r) => r.trim()).filter((r) => r.length > 0);
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw CLI_ERRORS.CLI_INVALID_OPTION(`unknown role ${r}; roles: ${ROLES.join(', ')}`);
  return roles;
}

const routes = [
  queryRoute(registryRoutes.getAccount, (ctx, { params }) => {
    const account = getAccount(ctx.store, params.address) ?? null;
    return {
      address: params.address,
      nonce: ctx.nonceOf(params.address),
      admitted: account?.status === 'admitted',
      revoked: account?.status === 'revoked',
      roles: account?.roles ?? [],
      account,
    };
  }),
  queryRoute(registryRoutes.listAccounts, (ctx, { query }) => {
    const page = accountPage(ctx.store, query, ctx.stateVersion, ctx.queryIndex);
    return { accounts: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(registryRoutes.registryLog, (ctx, { query }) => {
    const page = readLog(ctx.store, query);
    return { entries: page.items, ...(page.next !== undefined ? { next: page.next } : {}) };
  }),
  queryRoute(registryRoutes.inactiveAccounts, (ctx, { query }) => inactiveAccounts(ctx.store, { height: ctx.height, time: ctx.time }, query)),
  queryRoute(registryRoutes.listValidators, (ctx) => ({ validators: listValidators(ctx.store) })),
  queryRoute(registryRoutes.listJails, (ctx) => ({ jails: jails.list(ctx.store) })),
  queryRoute(registryRoutes.listProposals, (ctx) => ({ proposals: listProposals(ctx.store) })),
  queryRoute(registryRoutes.getProposal, (ctx, { params }) => {
    const p = getProposal(ctx.store, params.id);
    if (!p) throw E.GOV_UNKNOWN_PROPOSAL(`no proposal ${params.id}`);
    return p;
  }),
];

function registerCli({ tx, query }: { tx: Command; query: Command }): void {
  const txReg = tx.command('registry').description('admit and revoke participants (operators only); governance proposals');
  txCommand(txReg, 'admit', {
    description: `admit an account with one or more roles (${ROLES.join(', ')})`,
    args: ['address'],
    options: { role: opt.list('roles; repeat or comma-separate', { required: true, arg: 'role' }) },
    msgs: (o, cmd, [address]) => [{ type: MSG.admit, value: { address: resolveAddress(cmd, address!, 'address'), roles: parseRoles(o.role) } }],
  });
  txCommand(txReg, 'revoke', {
    description: 'revoke an admitted account; its pending transactions are dropped',
    args: ['address'],
    options: { reason: opt.text('why (recorded on the ledger)') },
    msgs: (o, cmd, [address]) => [{ type: MSG.revoke, value: { address: resolveAddress(cmd, address!, 'address'), ...(o.reason ? { reason: o.reason } : {}) } }],
  });
  txCommand(txReg, 'set-roles', {
    description: `replace the roles of an admitted account (operators only; ${ROLES.filter((r) => r !== 'operator').join(', ')})`,
    args: ['address'],
    options: { role: opt.list('the new roles; repeat or comma-separate', { required: true, arg: 'role' }), reason: opt.text('why (recorded on the ledger)') },
    msgs: (o, cmd, [address]) => [{ type: MSG.setRoles, value: { address: resolveAddress(cmd, address!, 'address'), roles: parseRoles(o.role), ...(o.reason ? { reason: o.reason } : {}) } }],
  });
  const proposal = (id: string, action: Record<string, unknown>, description?: string) => [{ type: MSG.propose, value: { id, action, ...(description ? { description } : {}) } }];
  txCommand(txReg, 'propose-validator', {
    description: 'propose adding, re-weighting (--power N) or removing (--power 0) a validator',
    options: {
      id: opt.text('proposal id (lowercase, digits, dashes)', { required: true, arg: 'id' }),
      address: opt.address('validator address', { required: true }),
      pubkey: opt.text('validator Ed25519 public key (hex)', { required: true, arg: 'hex' }),
      power: opt.text('voting power (0 removes)', { required: true, arg: 'n' }),
      nodeId: opt.address('node id of the validator\'s node (address of its node key): peers let it connect while it validates'),
      description: opt.text('why'),
    },
    msgs: (o) => proposal(o.id, { kind: 'set-validator', address: o.address, pubKey: o.pubkey, power: o.power, ...(o.nodeId ? { nodeId: o.nodeId } : {}) }, o.description),
  });
  txCommand(txReg, 'propose-operator', {
    description: 'propose adding or removing a consortium operator',
    options: { id: opt.text('proposal id', { required: true, arg: 'id' }), add: opt.address('operator to add'), remove: opt.address('operator to remove'), description: opt.text('why') },
    msgs: (o) => {
      if (!o.add === !o.remove) throw CLI_ERRORS.CLI_INVALID_OPTION('give exactly one of --add or --remove');
      return proposal(o.id, o.add ? { kind: 'add-operator', address: o.add } : { kind: 'remove-operator', address: o.remove }, o.description);
    },
  });
  txCommand(txReg, 'propose-params', {
    description: "propose changing a module's parameters from a stated height on",
    options: {
      id: opt.text('proposal id', { required: true, arg: 'id' }),
      module: opt.text('module name', { required: true, arg: 'name' }),
      params: opt.text('the parameters to change, as JSON, e.g. {"readingWindowSlots":96}', { required: true, arg: 'json' }),
      height: opt.int('first height with the new parameters', { required: true }),
      description: opt.text('why'),
    },
    msgs: (o) => proposal(o.id, { kind: 'set-params', module: o.module, params: parseJsonObject(o.params, '--params'), height: o.height }, o.description),
  });
  txCommand(txReg, 'propose-activation', {
    description: 'propose activating a module of this node version at a stated height',
    options: {
      id: opt.text('proposal id', { required: true, arg: 'id' }),
      module: opt.text('module name', { required: true, arg: 'name' }),
      height: opt.int('first height at which the module runs', { required: true }),
      stateVersion: opt.int("the module's state version to start at (default: the newest the node asked runs; every validator's node must run it by then — `query modules` shows each node's)"),
      description: opt.text('why'),
    },
    msgs: async (o, cmd) => {
      const stateVersion = o.stateVersion ?? (await call(cmd, coreRoutes.modules, {})).modules.find((m) => m.name === o.module)?.latestStateVersion ?? 1;
      return proposal(o.id, { kind: 'activate-module', module: o.module, height: o.height, ...(stateVersion > 1 ? { stateVersion } : {}) }, o.description);
    },
  });
  txCommand(txReg, 'propose-migration', {
    description: "propose migrating a module's state to a later layout version at a stated height (every validator's node must run that version by then)",
    options: {
      id: opt.text('proposal id', { required: true, arg: 'id' }),
      module: opt.text('module name', { required: true, arg: 'name' }),
      stateVersion: opt.int('the state version to migrate to', { required: true }),
      height: opt.int('first height with the new state version', { required: true }),
      description: opt.text('why'),
    },
    msgs: (o) => proposal(o.id, { kind: 'migrate-module', module: o.module, stateVersion: o.stateVersion, height: o.height }, o.description),
  });
  txCommand(txReg, 'approve', {
    description: 'approve a governance proposal (executed once the threshold of operators approved)',
    args: ['id'],
    msgs: (_o, _cmd, [id]) => [{ type: MSG.approve, value: { id } }],
  });

  const qReg = query.command('registry').description('participants, roles, the admission log and governance');
  queryCommand(qReg, 'accounts', {
    description: 'admitted and revoked accounts',
    options: { role: opt.choice(ROLES)('only accounts with this role'), after: opt.address('page after this address'), limit: opt.int('page size (1–500)', { default: '100' }) },
    route: registryRoutes.listAccounts,
    input: (o) => ({ query: { role: o.role, after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.accounts.map((a) => `${a.address}  ${a.status.padEnd(8)}  ${a.roles.join(',')}`), v),
  });
  queryCommand(qReg, 'log', {
    description: 'admissions and revocations with the transaction behind each',
    options: {
      address: opt.address('only this account'),
      after: opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' }),
      limit: opt.int('entries (1–500)', { default: '100' }),
    },
    route: registryRoutes.registryLog,
    input: (o) => ({ query: { address: o.address, after: o.after, limit: o.limit } }),
    text: (v) =>
      pageText(
        v.entries.map((e) => {
          const roles = e.previousRoles ? `${e.previousRoles.join(',')} → ${e.roles.join(',')}` : e.roles.join(',');
          return `h${e.height}  ${e.action.padEnd(9)}  ${e.address}  ${roles}  by ${e.by}  tx ${e.txHash}${e.reason ? `  reason: ${e.reason}` : ''}`;
        }),
        v,
      ),
  });
  queryCommand(qReg, 'inactive', {
    description: 'admitted accounts that sent no successful transaction for N days of block time (operators)',
    options: {
      days: opt.int('days without a transaction', { required: true }),
      role: opt.choice(ROLES)('only accounts with this role'),
      after: opt.address('continue after this address (the previous answer\'s next)'),
      limit: opt.int('accounts (1–500)', { default: '100' }),
    },
    route: registryRoutes.inactiveAccounts,
    input: (o) => ({ query: { days: o.days, role: o.role, after: o.after, limit: o.limit } }),
    text: (v) => pageText(v.accounts.map((a) => `${a.address}  ${a.roles.join(',')}  ${a.lastActive ? `last active at height ${a.lastActive.height} (${localTime(a.lastActive.time)})` : 'no activity recorded'}`), v),
  });
  queryCommand(qReg, 'proposals', {
    description: 'governance proposals with approvals and status',
    route: registryRoutes.listProposals,
    input: () => ({}),
    text: (v) =>
      v.proposals.map((p) => `${p.id}  ${p.status.padEnd(8)}  ${String(p.action.kind)}  ${p.approvals.length}/${p.threshold}${p.executedAt ? `  effective at ${p.executedAt.effectiveHeight}` : ''}`).join('\n') || '(none)',
  });
  queryCommand(query, 'validators', {
    description: 'the validator set in force',
    route: registryRoutes.listValidators,
    input: () => ({}),
    text: (v) => v.validators.map((x) => `${x.address}  power ${x.power}`).join('\n'),
  });
  queryCommand(query, 'jailed', {
    description: 'validators jailed for equivocation',
    route: registryRoutes.listJails,
    input: () => ({}),
    text: (v) =>
      v.jails
        .map((j) => `${j.address}  ${j.status}${j.effectiveHeight ? ` (power 0 from height ${j.effectiveHeight})` : ''}${j.waiting ? ` waiting: ${j.waiting}` : ''}  equivocated at height ${j.offence.height} round ${j.offence.round} (${j.offence.vote})${j.offences > 1 ? `, ${j.offences} offences` : ''}`)
        .join('\n') || '(none)',
  });
}

function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects a JSON object, got ${JSON.stringify(text)}`);
}

export const registrySurface: ModuleSurface = { routes, cli: registerCli };

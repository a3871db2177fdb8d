import { collection, FILTER_SCAN_ROWS, matchingPage, type Page } from '../../app/collections.js';
import type { ModuleContext } from '../../app/module.js';
import type { ModuleQueryIndex, QueryIndexDef } from '../../app/query-index.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import type { TxRef } from '../../app/tx-ref.js';
export type { TxRef } from '../../app/tx-ref.js';

export const ROLES = ['operator', 'grid-operator', 'utility', 'aggregator', 'prosumer', 'consumer', 'meter', 'trader', 'auditor', 'anchor-operator', 'issuer', 'trader-anon'] as const;
/** Roles only a module grants (anon: a zero-knowledge membership proof admits a trader-anon account). */
export const MODULE_GRANTED_ROLES: readonly Role[] = ['trader-anon'];
export type Role = (typeof ROLES)[number];


export interface Account {
  address: string;
  roles: Role[];
  status: 'admitted' | 'revoked';
  admittedAt: TxRef;
  admittedBy: string;
  revokedAt?: TxRef;
  revokedBy?: string;
  revokeReason?: string;
}

export interface RegistryLogEntry {
  action: 'admit' | 'revoke' | 'set-roles';
  address: string;
  /** The roles after the action (for a revoke: the roles it held). */
  roles: Role[];
  /** set-roles: the roles before. */
  previousRoles?: Role[];
  by: string;
  height: number;
  txHash: string;
  reason?: string;
}

/** When an account last sent a transaction that was committed OK (or was admitted): block height and time. */
export interface LastActive {
  height: number;
  time: number;
}

export interface ValidatorEntry {
  address: string;
  pubKey: string;
  power: string;
  name?: string;
  /** The P2P node id of the validator's node: nodes allow it to connect while it is a validator. */
  nodeId?: string;
}

/**
 * A validator jailed for equivocation: `jailed` with power 0 from `effectiveHeight` (absent when
 * governance had already removed it), or `pending` while the validator-set step rule does not
 * allow it yet (retried every block).
 */
export interface Jail {
  address: string;
  /** The first committed equivocation and the block that committed it. */
  offence: { height: number; round: number; vote: 'prevote' | 'precommit'; committedAt: number };
  /** Equivocations committed for this validator since (the first included). */
  offences: number;
  status: 'pending' | 'jailed';
  /** Why a pending jail waits (the step rule's code). */
  waiting?: string;
  effectiveHeight?: number;
}

export const accounts = collection<Account>('registry/account/');
/**
 * State version 2 (ADR 0029): the admitted operators, each under its address. The operator role is
 * granted and taken only at genesis and by governance, so the set is written there alone; governance
 * counts operators from it and a list of operators reads it (version 1 reads every account).
 */
export const operators = collection<string>('registry/operator/');
export const jails = collection<Jail>('registry/jail/');
const LOG = 'registry/log/';
const ACTIVE = 'registry/active/';
export const validators = collection<ValidatorEntry>('registry/validator/');

export function getAccount(store: KVStore, address: string): Account | undefined {
  return accounts.get(store, address);
}

export function putAccount(store: KVStore, account: Account): void {
  accounts.put(store, account, account.address);
}

/** The admitted operators' addresses, in address order. */
export function operatorAddresses(ctx: ModuleContext): string[] {
  if (ctx.stateVersion >= 2) return operators.list(ctx.store);
  return accounts.list(ctx.store).filter((a) => isActive(a, 'operator')).map((a) => a.address);
}

/** Records that `address` became (or stopped being) an operator (state version 2 keeps the set). */
export function noteOperator(ctx: ModuleContext, address: string, operator: boolean): void {
  if (ctx.stateVersion < 2) return;
  if (operator) operators.put(ctx.store, address, address);
  else operators.delete(ctx.store, address);
}

/** Migration to state version 2: the operator set from the accounts, read a page at a time. */
export function indexOperators(ctx: ModuleContext): void {
  let after: string | undefined;
  do {
    const page = accounts.page(ctx.store, { after, limit: 10_000 });
    for (const a of page.items) if (isActive(a, 'operator')) operators.put(ctx.store, a.address, a.address);
    after = page.next;
  } while (after !== undefined);
}

/** Accounts a request by role reads at most: a rare role answers a short page with `next` rather than reading the whole registry at once. */
export const ROLE_SCAN_ROWS = FILTER_SCAN_ROWS;

/**
 * The roles few accounts hold, indexed by the node for queries (ADR 0029 point 1): `accounts?role=`
 * of one of them is an exact page. The common roles (meters, consumers, prosumers, traders, anonymous
 * traders) are not: an index row per ordinary admission would cost every admission's commit, and a
 * filter most accounts match fills its pages from the scan anyway.
 */
export const RARE_ROLES: readonly Role[] = ['operator', 'grid-operator', 'utility', 'aggregator', 'auditor', 'anchor-operator', 'issuer'];
const NAMES_A_RARE_ROLE = new RegExp(`"(${RARE_ROLES.join('|')})"`);
export const ACCOUNTS_BY_RARE_ROLE = 'accounts-by-rare-role';
export const registryQueryIndexes: readonly QueryIndexDef[] = [
  {
    name: ACCOUNTS_BY_RARE_ROLE,
    version: 1,
    prefix: accounts.prefix,
    // A text test first: an ordinary admission's record names no rare role and is not parsed (the parse decides).
    keysOf: (_key, value) => (NAMES_A_RARE_ROLE.test(value) ? (JSON.parse(value) as Account).roles.filter((r) => RARE_ROLES.includes(r)) : []),
  },
];

/**
 * A page of accounts in address order, optionally only those holding `role`: a rare role through the
 * node's index when the caller has it (an exact page), otherwise read until the page is full or
 * ROLE_SCAN_ROWS were read.
 */
export function accountPage(store: KVStore, options: { after?: string; limit: number; role?: Role }, stateVersion = 1, index?: ModuleQueryIndex): Page<Account> {
  const { role } = options;
  if (role !== undefined && index && RARE_ROLES.includes(role)) return accounts.indexedPage(store, index, ACCOUNTS_BY_RARE_ROLE, role, (a) => a.roles.includes(role), options);
  if (role === 'operator' && stateVersion >= 2) {
    // The operator set is indexed: an exact page, one point read per operator.
    const page = operators.page(store, options);
    return { items: page.items.map((address) => getAccount(store, address)!), ...(page.next !== undefined ? { next: page.next } : {}) };
  }
  return role === undefined ? accounts.page(store, options) : accounts.matchingPage(store, (a) => a.roles.includes(role), { ...options, maxRows: ROLE_SCAN_ROWS });
}

export function isActive(account: Account | undefined, role?: Role): account is Account {
  return account !== undefined && account.status === 'admitted' && (role === undefined || account.roles.includes(role));
}

/** True when the address is admitted, not revoked, and holds at least one of the roles. */
export function hasAnyRole(store: KVStore, address: string, roles: readonly Role[]): boolean {
  const account = getAccount(store, address);
  return isActive(account) && roles.some((r) => account.roles.includes(r));
}

/** `index`: the message index in its transaction (padded to 4), or the account's position in genesis (padded to 16, so genesis stays in order). */
export function appendLog(store: KVStore, entry: RegistryLogEntry, index: number, width = 4): void {
  store.set(`${LOG}${padKey(entry.height)}/${entry.txHash}/${padKey(index, width)}`, entry);
}

/** Log entries a request filtered by account reads at most: the log has no index by account, so a rare account answers a short page with `next`. */
export const LOG_SCAN_ROWS = FILTER_SCAN_ROWS;

/** A page of the log, newest first, after the cursor `after` (a previous page's `next`); filtered by account when asked. */
export function readLog(store: KVStore, options: { address?: string; after?: string; limit: number }): Page<RegistryLogEntry> {
  const { address } = options;
  const keep = (e: RegistryLogEntry) => address === undefined || e.address === address;
  return matchingPage(store, LOG, keep, { ...(options.after !== undefined ? { after: options.after } : {}), limit: options.limit, reverse: true, ...(address !== undefined ? { maxRows: LOG_SCAN_ROWS } : {}) });
}

export function markActive(store: KVStore, address: string, at: LastActive): void {
  store.set(ACTIVE + address, at);
}

export function lastActive(store: KVStore, address: string): LastActive | undefined {
  return store.get<LastActive>(ACTIVE + address);
}

export function putValidator(store: KVStore, v: ValidatorEntry): void {
  validators.put(store, v, v.address);
}

export function listValidators(store: KVStore): ValidatorEntry[] {
  return validators.list(store);
}

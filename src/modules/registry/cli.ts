import { Option, type Command } from 'commander';
import type { CliContext } from '../../cli/context.js';
import { LedgerError } from '../../util/errors.js';
import { MSG } from './messages.js';
import { ROLES } from './state.js';
import { registryRoutes } from './routes.js';

function parseRoles(values: string[]): string[] {
  const roles = values.flatMap((v) => v.split(',')).map((r) => r.trim()).filter((r) => r.length > 0);
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r)) throw new LedgerError('CLI_INVALID_OPTION', `unknown role ${r}; roles: ${ROLES.join(', ')}`);
  }
  return roles;
}

export function registerRegistryCli({ tx, query }: { tx: Command; query: Command }, ctx: CliContext): void {
  const txReg = tx.command('registry').description('admit and revoke participants (operators only)');
  txReg
    .command('admit <address>')
    .description('admit an account with one or more roles')
    .addOption(new Option('--role <role...>', `roles (${ROLES.join(', ')}); repeat or comma-separate`).makeOptionMandatory())
    .action(async (address: string, opts: { role: string[] }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.admit, value: { address, roles: parseRoles(opts.role) } }]);
    });
  txReg
    .command('revoke <address>')
    .description('revoke an admitted account; its pending transactions are dropped')
    .option('--reason <text>', 'why (recorded on the ledger)')
    .action(async (address: string, opts: { reason?: string }, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.revoke, value: { address, ...(opts.reason ? { reason: opts.reason } : {}) } }]);
    });

  txReg
    .command('propose-validator')
    .description('propose adding, re-weighting (--power N) or removing (--power 0) a validator')
    .requiredOption('--id <id>', 'proposal id (lowercase, digits, dashes)')
    .requiredOption('--address <address>', 'validator address')
    .requiredOption('--pubkey <hex>', 'validator Ed25519 public key (hex)')
    .requiredOption('--power <n>', 'voting power (0 removes)')
    .option('--description <text>', 'why')
    .action(async (opts: { id: string; address: string; pubkey: string; power: string; description?: string }, cmd: Command) => {
      const action = { kind: 'set-validator', address: opts.address, pubKey: opts.pubkey, power: opts.power };
      await ctx.submit(cmd, [{ type: MSG.propose, value: { id: opts.id, action, ...(opts.description ? { description: opts.description } : {}) } }]);
    });
  txReg
    .command('propose-operator')
    .description('propose adding or removing a consortium operator')
    .requiredOption('--id <id>', 'proposal id')
    .option('--add <address>', 'operator to add')
    .option('--remove <address>', 'operator to remove')
    .action(async (opts: { id: string; add?: string; remove?: string }, cmd: Command) => {
      if (!opts.add === !opts.remove) throw new LedgerError('CLI_INVALID_OPTION', 'give exactly one of --add or --remove');
      const action = opts.add ? { kind: 'add-operator', address: opts.add } : { kind: 'remove-operator', address: opts.remove };
      await ctx.submit(cmd, [{ type: MSG.propose, value: { id: opts.id, action } }]);
    });
  txReg
    .command('approve <id>')
    .description('approve a governance proposal (executed once the threshold of operators approved)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await ctx.submit(cmd, [{ type: MSG.approve, value: { id } }]);
    });

  const qReg = query.command('registry').description('participants, roles and the admission log');
  qReg
    .command('accounts')
    .description('admitted and revoked accounts')
    .option('--role <role>', 'only accounts with this role')
    .option('--after <address>', 'page after this address')
    .option('--limit <n>', 'page size (1–500)', '100')
    .action(async (opts: { role?: string; after?: string; limit: string }, cmd: Command) => {
      await ctx.query(cmd, registryRoutes.listAccounts, { query: { role: opts.role as never, after: opts.after, limit: Number(opts.limit) } }, (v) =>
        v.accounts.map((a) => `${a.address}  ${a.status.padEnd(8)}  ${a.roles.join(',')}`).join('\n') || '(none)',
      );
    });
  qReg
    .command('log')
    .description('admissions and revocations with the transaction behind each')
    .option('--address <address>', 'only this account')
    .option('--limit <n>', 'entries (1–500)', '100')
    .action(async (opts: { address?: string; limit: string }, cmd: Command) => {
      await ctx.query(cmd, registryRoutes.registryLog, { query: { address: opts.address, limit: Number(opts.limit) } }, (v) =>
        v.entries.map((e) => `h${e.height}  ${e.action.padEnd(6)}  ${e.address}  ${e.roles.join(',')}  by ${e.by}  tx ${e.txHash}`).join('\n') || '(none)',
      );
    });
  qReg
    .command('proposals')
    .description('governance proposals with approvals and status')
    .action(async (_o: unknown, cmd: Command) => {
      await ctx.query(cmd, registryRoutes.listProposals, {}, (v) =>
        v.proposals.map((p) => `${p.id}  ${p.status.padEnd(8)}  ${String(p.action.kind)}  ${p.approvals.length}/${p.threshold}${p.executedAt ? `  effective at ${p.executedAt.effectiveHeight}` : ''}`).join('\n') || '(none)',
      );
    });
  query
    .command('validators')
    .description('the validator set in force')
    .action(async (_opts: unknown, cmd: Command) => {
      await ctx.query(cmd, registryRoutes.listValidators, {}, (v) => v.validators.map((x) => `${x.address}  power ${x.power}`).join('\n'));
    });
}

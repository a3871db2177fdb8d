import type { Command } from 'commander';
import { resolveHome } from '../home/home.js';
import { globals, keyringOf, nodeUrl, print, signerName } from './kit.js';
import { login, logout, tokenFile } from './session.js';

/**
 * `gridledger login` / `logout`: a bearer token for private reads (issue 10 #2), obtained by signing
 * the node's challenge with the --from key and cached in the home. Queries also log in by themselves
 * when a private route asks for it; `login` is for doing it ahead of time and seeing the roles.
 */
export function addLoginCommands(program: Command): void {
  program
    .command('login')
    .description('log in to the node with the --from key (challenge-response); caches a bearer token for private reads')
    .action(async (_opts: unknown, cmd: Command) => {
      const home = resolveHome(globals(cmd).home);
      const t = await login(home, nodeUrl(cmd), keyringOf(cmd), signerName(cmd));
      print(cmd, { address: t.address, roles: t.roles, expiresAt: t.expiresAt, cachedIn: tokenFile(home) }, (v) =>
        `logged in as ${v.address} (${v.roles.join(', ') || 'no roles'}) until ${new Date(v.expiresAt).toISOString()}`,
      );
    });
  program
    .command('logout')
    .description("forget the cached tokens for the node (only the --from key's with --from)")
    .action((_opts: unknown, cmd: Command) => {
      const home = resolveHome(globals(cmd).home);
      const from = globals(cmd).from;
      const removed = logout(home, nodeUrl(cmd), from === undefined ? undefined : keyringOf(cmd).show(from).address);
      print(cmd, { removed }, (v) => `forgot ${v.removed} token(s)`);
    });
}

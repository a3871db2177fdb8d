import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { callRoute } from '../../src/api/client.js';
import { loginWith } from '../../src/cli/session.js';
import { coreRoutes } from '../../src/api/routes.js';
import type { RouteDef, RouteInput, RouteOutput } from '../../src/api/route.js';
import { signTx, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { initHome, type InitResult } from '../../src/runtime/init.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import type { Timers } from '../../src/runtime/driver.js';

/** A real node in this process on an ephemeral loopback port, with a temp home and fast blocks. */
export interface TestNode {
  home: string;
  init: InitResult;
  running: RunningNode;
  url: string;
  call<R extends RouteDef>(route: R, input: RouteInput<R>): Promise<RouteOutput<R>>;
  /** A call with the bearer token of a keyring account (logged in once per name): for private reads. */
  callAs<R extends RouteDef>(keyName: string, route: R, input: RouteInput<R>): Promise<RouteOutput<R>>;
  signedTx(from: string, msgs: Msg[], overrides?: Partial<SignedTx['body']>): Promise<SignedTx>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export function makeHome(extraAccounts: Record<string, string[]> = {}, blockTimeMs = 50): { home: string; init: InitResult } {
  const home = mkdtempSync(join(tmpdir(), 'gridledger-test-'));
  const init = initHome(home, { chainId: 'test-chain', keyringBackend: 'test', apiPort: 0, extraAccounts });
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.consensus.blockTimeMs = blockTimeMs;
  config.logLevel = 'silent';
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  return { home, init };
}

/**
 * `genesisModules` replaces module sections of the genesis (e.g. a short anchor checkpoint interval);
 * `timers`: a clock the test moves forward (e.g. past the end of a billing day); default the wall clock.
 */
export async function startTestNode(extraAccounts: Record<string, string[]> = {}, options: { genesisModules?: Record<string, unknown>; genesisTimeMs?: number; timers?: Timers } = {}): Promise<TestNode> {
  const { home, init } = makeHome(extraAccounts);
  if (options.genesisModules || options.genesisTimeMs !== undefined) {
    const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
    Object.assign(genesis.modules, options.genesisModules ?? {});
    if (options.genesisTimeMs !== undefined) genesis.genesisTime = options.genesisTimeMs;
    writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
  }
  const logger = pino({ level: 'silent' });
  const keyring = openKeyring(home, 'test');
  const tokens: Record<string, string> = {};
  const t: TestNode = {
    home,
    init,
    running: await startNode(home, { apiPort: 0, logger, ...options }),
    get url() {
      return this.running.url;
    },
    call(route, input) {
      return callRoute(this.url, route, input);
    },
    async callAs(keyName, route, input) {
      tokens[keyName] ??= (await loginWith(this.url, keyring.signer(keyName))).token;
      return callRoute(this.url, route, input, { token: tokens[keyName] });
    },
    async signedTx(from, msgs, overrides = {}) {
      const info = keyring.show(from);
      const nonce = await this.call(coreRoutes.accountNonce, { params: { address: info.address } });
      return signTx({ chainId: 'test-chain', sender: info.address, nonce: nonce.next, expiresAtHeight: nonce.height + 100, msgs, memo: '', ...overrides }, keyring.signer(from));
    },
    async restart() {
      await this.running.stop();
      this.running = await startNode(home, { apiPort: 0, logger, ...options });
    },
    async stop() {
      await this.running.stop();
    },
    async cleanup() {
      await this.running.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  return t;
}

import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../util/tz/version.js';
import { existsSync, mkdirSync } from 'node:fs';
import type { Genesis } from '../app/module.js';
import { genesisModuleSections } from '../modules/index.js';
import type { KeyringBackend } from '../crypto/keyring.js';
import { configSchema, ensureDirs, openKeyring, paths, writeJson, type NodeConfig } from '../home/home.js';
import { HOME_ERRORS } from '../home/home.js';

export interface InitOptions {
  chainId: string;
  moniker?: string;
  keyringBackend: KeyringBackend;
  apiHost?: string;
  apiPort?: number;
  p2pPort?: number;
  /** Extra demo identities admitted in genesis: name → roles. */
  extraAccounts?: Record<string, string[]>;
  genesisTime?: number;
}

export interface InitResult {
  home: string;
  chainId: string;
  admin: string;
  validator: string;
  node: string;
  accounts: Record<string, string>;
}

export const CHAIN_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Creates a node home: node, validator and admin keys in the keyring, a genesis naming `admin` as the
 * consortium operator and this node's validator, and a config with safe defaults (loopback only).
 */
export function initHome(home: string, options: InitOptions): InitResult {
  if (!CHAIN_ID_RE.test(options.chainId)) throw HOME_ERRORS.CONFIG_INVALID(`chain id must match ${CHAIN_ID_RE.source}`);
  if (existsSync(paths(home).genesis)) throw HOME_ERRORS.HOME_EXISTS(`${home} is already initialised`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  ensureDirs(home);
  const keyring = openKeyring(home, options.keyringBackend);
  const nodeKey = keyring.add('node');
  const validatorKey = keyring.add('validator');
  const adminKey = keyring.add('admin');
  const accounts: Record<string, string> = { admin: adminKey.address };
  const genesisAccounts: Genesis['accounts'] = [];
  for (const [name, roles] of Object.entries(options.extraAccounts ?? {})) {
    const info = keyring.add(name);
    accounts[name] = info.address;
    genesisAccounts.push({ address: info.address, roles });
  }
  const genesis: Genesis = {
    chainId: options.chainId,
    genesisTime: options.genesisTime ?? Date.now(),
    operators: [adminKey.address],
    validators: [{ address: validatorKey.address, pubKey: validatorKey.publicKey, power: '10', name: options.moniker ?? 'node0', nodeId: nodeKey.address }],
    accounts: genesisAccounts,
    modules: genesisModuleSections(),
    tzTable: { version: TZ_TABLE_VERSION, hash: TZ_TABLE_HASH },
  };
  const config: NodeConfig = configSchema.parse({
    chainId: options.chainId,
    moniker: options.moniker ?? 'node0',
    keyringBackend: options.keyringBackend,
    api: { host: options.apiHost ?? '127.0.0.1', port: options.apiPort ?? 26657 },
    p2p: { host: '127.0.0.1', port: options.p2pPort ?? 26656, persistentPeers: [] },
  });
  writeJson(paths(home).genesis, genesis);
  writeJson(paths(home).config, config);
  return { home, chainId: options.chainId, admin: adminKey.address, validator: validatorKey.address, node: nodeKey.address, accounts };
}

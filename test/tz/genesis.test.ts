import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from '../../src/app/host.js';
import type { Genesis } from '../../src/app/module.js';
import { paths } from '../../src/home/home.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { initHome } from '../../src/runtime/init.js';
import { Storage } from '../../src/store/sqlite.js';
import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../../src/util/tz/version.js';
import { account } from '../helpers/chain.js';

/** Issue 9 #1: the time-zone table is part of the chain: genesis records it, a node with another table refuses it. */

function genesisWith(tzTable?: Genesis['tzTable']): Genesis {
  const v = account('tz-validator');
  return {
    chainId: 'tz-chain',
    genesisTime: Date.UTC(2026, 0, 1),
    operators: [account('tz-operator').address],
    validators: [{ address: v.address, pubKey: v.publicKey, power: '10' }],
    accounts: [],
    modules: {},
    ...(tzTable ? { tzTable } : {}),
  };
}

function initWith(genesis: Genesis): string | undefined {
  const storage = new Storage(':memory:');
  try {
    new App(storage, { chainId: genesis.chainId, modules: [registryCore] }).initGenesis(genesis);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  } finally {
    storage.close();
  }
}

describe('the time-zone table in genesis', () => {
  it('a new home records this build\'s table in genesis.json', () => {
    const home = mkdtempSync(join(tmpdir(), 'gridledger-tz-'));
    try {
      initHome(home, { chainId: 'tz-chain', keyringBackend: 'test', apiPort: 0 });
      expect(JSON.parse(readFileSync(paths(home).genesis, 'utf8')).tzTable).toEqual({ version: TZ_TABLE_VERSION, hash: TZ_TABLE_HASH });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a genesis naming this table is accepted; another table or release is refused with GENESIS_TZ_TABLE_MISMATCH', () => {
    expect(initWith(genesisWith({ version: TZ_TABLE_VERSION, hash: TZ_TABLE_HASH }))).toBeUndefined();
    expect(initWith(genesisWith({ version: TZ_TABLE_VERSION, hash: '00'.repeat(32) }))).toBe('GENESIS_TZ_TABLE_MISMATCH');
    expect(initWith(genesisWith({ version: '2024a', hash: TZ_TABLE_HASH }))).toBe('GENESIS_TZ_TABLE_MISMATCH');
  });
});

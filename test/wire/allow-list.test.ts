import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/hash.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { PeerSwitch } from '../../src/p2p/index.js';
import { initHome } from '../../src/runtime/init.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { toHex, utf8 } from '../../src/util/bytes.js';
import { api, freeBasePort, waitFor } from '../devnet/harness.js';

/**
 * Issue 9 (low): the P2P allow-list follows the validator set. A node lets the registered node of
 * every validator in force connect (genesis `validators[].nodeId`, governance `set-validator
 * nodeId`), refuses nodes that are not, and drops a validator's node once it leaves the set.
 *
 * Node A validates with power 10; X is a second validator (power 1, its node played by this test,
 * never voting: A alone holds more than 2/3). Y is a stranger until governance adds it.
 */

const CHAIN = 'allow-list-test';
const keyOf = (label: string) => {
  const kp = keyPairFromSeed(sha256(utf8(`allow-list-${label}`)));
  return { signer: new Signer(kp.secretKey), address: addressFromPublicKey(kp.publicKey), pubKey: toHex(kp.publicKey) };
};
const xValidator = keyOf('x-validator');
const xNode = keyOf('x-node');
const yValidator = keyOf('y-validator');
const yNode = keyOf('y-node');

let home: string;
let running: RunningNode;
let aNodeId: string;
let aPort: number;
const switches: PeerSwitch[] = [];

async function peerAs(key: ReturnType<typeof keyOf>): Promise<PeerSwitch> {
  const s = new PeerSwitch({ chainId: CHAIN, nodeKey: key.signer, persistentPeers: [{ id: aNodeId, host: '127.0.0.1', port: aPort }], reconnectBaseMs: 50, reconnectMaxMs: 200 });
  switches.push(s);
  await s.start();
  return s;
}

const connected = (s: PeerSwitch) => s.peers().some((p) => p.id === aNodeId);

async function governance(msgs: Msg[]): Promise<number> {
  const keyring = openKeyring(home, 'test');
  const admin = keyring.show('admin').address;
  const nonce = await api(running.url, coreRoutes.accountNonce, { params: { address: admin } });
  const tx = signTx({ chainId: CHAIN, sender: admin, nonce: nonce.next, expiresAtHeight: nonce.height + 100, msgs, memo: '' }, keyring.signer('admin'));
  const { hash } = await api(running.url, coreRoutes.submitTx, { body: tx });
  const done = await api(running.url, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
  expect(done.result?.code).toBe('OK');
  return done.height!;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gridledger-allow-'));
  aPort = await freeBasePort(1);
  const init = initHome(home, { chainId: CHAIN, keyringBackend: 'test', apiPort: 0, p2pPort: aPort });
  aNodeId = init.node;
  const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
  genesis.validators.push({ address: xValidator.address, pubKey: xValidator.pubKey, power: '1', name: 'x', nodeId: xNode.address });
  writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.logLevel = 'silent';
  config.consensus.blockTimeMs = 100;
  config.consensus.emptyBlockIntervalMs = 300;
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
}, 60_000);

afterAll(async () => {
  for (const s of switches) await s.stop();
  await running?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
}, 30_000);

describe.sequential('the allow-list follows the validator set', () => {
  it('the node of a genesis validator may connect; a stranger may not', async () => {
    const x = await peerAs(xNode);
    await waitFor(() => connected(x), 'x connected', 15_000, 20);
    const y = await peerAs(yNode);
    await waitFor(() => running.network!.p2p.metrics().handshakesFailed > 0, 'y refused', 15_000, 20);
    expect(connected(y)).toBe(false);
    expect(running.network!.p2p.peers().map((p) => p.id)).toEqual([xNode.address]);
    await y.stop();
  });

  it('governance adds Y with its node id: Y may connect; removes X: its node is dropped and refused', async () => {
    await governance([{ type: 'registry/propose', value: { id: 'add-y', action: { kind: 'set-validator', address: yValidator.address, pubKey: yValidator.pubKey, power: '1', nodeId: yNode.address } } }]);
    const y = await peerAs(yNode);
    await waitFor(() => connected(y), 'y connected once it validates', 20_000, 20);

    await governance([{ type: 'registry/propose', value: { id: 'remove-x', action: { kind: 'set-validator', address: xValidator.address, pubKey: xValidator.pubKey, power: '0' } } }]);
    await waitFor(() => !running.network!.p2p.peers().some((p) => p.id === xNode.address), 'x dropped', 20_000, 20);
    // It keeps redialling and is refused each time.
    const x = switches.find((s) => s.id === xNode.address)!;
    const before = running.network!.p2p.metrics().handshakesFailed;
    await waitFor(() => running.network!.p2p.metrics().handshakesFailed > before, 'x refused again', 15_000, 20);
    expect(connected(x)).toBe(false);
    expect(connected(y)).toBe(true);
  });
});

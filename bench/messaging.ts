import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  checkEnvelope,
  composeSealed,
  DEFAULT_MESSAGING_PARAMS,
  fromWire,
  generateMessagingKey,
  messageHash,
  mintStamp,
  stampWork,
  toWire,
  type Envelope,
} from '../src/messaging/index.js';
import { Harness, waitFor } from '../test/p2p/helpers.js';
import { startMesh, stopAll } from '../test/messaging/helpers.js';

/**
 * Messaging benchmark (`node bin/run-ts.mjs bench/messaging.ts [--messages N] [--samples N]`):
 *
 * - Calibration: this machine's stamp rate (trials/s on one core) and the mean time of real stamps
 *   for the reference message (1 KiB, 1 h) with the network constants; the ratio to the 1 s goal.
 * - Stamp cost vs size and TTL: the expected trials W(size, ttl) of the formula (params.ts) and the
 *   time they take at the measured rate.
 * - Relay: 4 nodes on loopback (real peer switches and reactors, relay delay 0, rate limits lifted),
 *   N messages submitted to one node; messages accepted and relayed per second per node until
 *   every node holds all of them; and single-core check rate (parse, hash, expiry, stamp).
 */
const { values } = parseArgs({ options: { messages: { type: 'string', default: '3000' }, samples: { type: 'string', default: '8' } } });
const NOW = () => Math.floor(Date.now() / 1000);

function stampRate(): number {
  const env = composeSealed(generateMessagingKey().publicKey, { content: { text: 'x' }, ttl: 3600, now: NOW() });
  const trials = 2_000_000;
  const started = performance.now();
  try {
    mintStamp(env, { referenceTrials: 1e15 }, { maxTrials: trials });
  } catch {
    /* expected: the target is out of reach, we only count trials */
  }
  return trials / ((performance.now() - started) / 1000);
}

function referenceStamps(samples: number) {
  const recipient = generateMessagingKey().publicKey;
  // 1 KiB of payload: the text fills the padded plaintext of 1024 − 72 bytes of envelope overhead.
  const unstamped = composeSealed(recipient, { content: { text: 'k'.repeat(900) }, ttl: 3600, now: NOW() });
  const times: number[] = [];
  let trials = 0;
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    trials += mintStamp({ ...unstamped, payload: unstamped.payload }, DEFAULT_MESSAGING_PARAMS).trials;
    times.push((performance.now() - started) / 1000);
  }
  const mean = times.reduce((a, b) => a + b, 0) / samples;
  return { payloadBytes: unstamped.payload.length, expectedTrials: Number(stampWork(unstamped.payload.length, 3600, DEFAULT_MESSAGING_PARAMS)), meanTrials: Math.round(trials / samples), meanSeconds: Number(mean.toFixed(3)), samples };
}

function costTable(rate: number) {
  const sizes = [256, 1024, 4096, 16384, 65536];
  const ttls = [600, 3600, 86400, 172800];
  return sizes.map((size) => ({
    payloadBytes: size,
    ...Object.fromEntries(ttls.map((ttl) => [`ttl${ttl}s`, { trials: Number(stampWork(size, ttl, DEFAULT_MESSAGING_PARAMS)), seconds: Number((Number(stampWork(size, ttl, DEFAULT_MESSAGING_PARAMS)) / rate).toFixed(2)) }])),
  }));
}

async function relay(count: number) {
  const params = { ...DEFAULT_MESSAGING_PARAMS, referenceTrials: 1 };
  const h = new Harness();
  const nodes = await startMesh(h, 4, { relayDelayMs: { min: 0, max: 0 }, fallbackDelayMs: 0, messagesPerSec: 1e9, messagesBurst: 1e9, bytesPerSec: 1e12, bytesBurst: 1e12 }, params);
  try {
    await waitFor(() => nodes.every((n) => n.p2p.peers().length === 3), 'mesh', 60_000);
    const recipient = generateMessagingKey().publicKey;
    const envs: Envelope[] = [];
    for (let i = 0; i < count; i++) {
      const u = composeSealed(recipient, { content: { text: `offer ${i}` }, ttl: 3600, now: NOW() });
      envs.push({ ...u, stamp: mintStamp(u, params).stamp });
    }
    const wires = envs.map(toWire);
    // single-core check rate with the network constants' code path (a stamp check is one hash whatever the target)
    const checkStarted = performance.now();
    for (const w of wires) checkEnvelope(fromWire(w, params), NOW(), params);
    const checksPerSec = Math.round(count / ((performance.now() - checkStarted) / 1000));
    const started = performance.now();
    for (const w of wires) nodes[0]!.messaging.submit(w);
    const last = messageHash(envs[envs.length - 1]!);
    await waitFor(() => nodes.every((n) => n.messaging.pool.size === count && n.messaging.pool.has(last)), 'all messages on all nodes', 300_000);
    const seconds = (performance.now() - started) / 1000;
    return { nodes: 4, messages: count, seconds: Number(seconds.toFixed(2)), acceptedAndRelayedPerSecPerNode: Math.round(count / seconds), checksPerSecOneCore: checksPerSec, relayedFrames: nodes.map((n) => n.reactor.stats.relayed) };
  } finally {
    stopAll(nodes);
    await h.cleanup();
  }
}

export async function benchMessaging(messages: number, samples: number) {
  process.stderr.write('messaging: stamp rate…\n');
  const trialsPerSec = Math.round(stampRate());
  process.stderr.write(`  ${trialsPerSec} trials/s; reference stamps (${samples})…\n`);
  const reference = referenceStamps(samples);
  process.stderr.write('  relay on 4 nodes…\n');
  const relayed = await relay(messages);
  return {
    params: DEFAULT_MESSAGING_PARAMS,
    calibration: {
      trialsPerSecOneCore: trialsPerSec,
      reference,
      predictedSecondsForReference: Number((DEFAULT_MESSAGING_PARAMS.referenceTrials / trialsPerSec).toFixed(3)),
      ratioToOneSecond: reference.meanSeconds,
      goal: '1 KiB living 1 h ≈ 1 s on one core',
    },
    stampCost: costTable(trialsPerSec),
    relay: relayed,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchMessaging(Number(values.messages), Number(values.samples)), null, 2));
}

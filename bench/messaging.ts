import { loadavg } from 'node:os';
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
 * Messaging benchmark (`node bin/run-ts.mjs bench/messaging.ts [--messages N] [--samples N] [--only calibration,relay]`):
 *
 * - Calibration: this machine's stamp rate (trials per CPU second: what one core does, even on a
 *   shared machine; wall time is reported too) and the mean CPU time of real stamps for the
 *   reference message (1 KiB, 1 h) with the network constants; the ratio to the 1 s goal.
 * - Stamp cost vs size and TTL: the expected trials W(size, ttl) of the formula (params.ts) and the
 *   time they take at the measured rate.
 * - Relay: 4 nodes on loopback in this process (real peer switches and reactors, relay delay 0,
 *   rate limits lifted), N messages submitted to one node; messages accepted and relayed per
 *   second per node until every node holds all of them — per wall second, and per CPU second of
 *   one node (a quarter of the process's CPU time); and the check rate (parse, hash, expiry, stamp).
 */
const { values } = parseArgs({ options: { messages: { type: 'string', default: '3000' }, samples: { type: 'string', default: '8' }, only: { type: 'string', default: 'calibration,relay' } } });
const NOW = () => Math.floor(Date.now() / 1000);

/** CPU seconds of this process (user + system): on a shared machine, the time one core spent. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Trials per second of wall time and per second of CPU time (the latter is what one free core does). */
function stampRate(): { wall: number; cpu: number } {
  const env = composeSealed(generateMessagingKey().publicKey, { content: { text: 'x' }, ttl: 3600, now: NOW() });
  const trials = 2_000_000;
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  try {
    mintStamp(env, { referenceTrials: 1e15 }, { maxTrials: trials });
  } catch {
    /* expected: the target is out of reach, we only count trials */
  }
  return { wall: trials / ((performance.now() - started) / 1000), cpu: trials / (cpuSeconds() - cpuStarted) };
}

function referenceStamps(samples: number) {
  const recipient = generateMessagingKey().publicKey;
  // 1 KiB of payload: the text fills the padded plaintext of 1024 − 72 bytes of envelope overhead.
  const unstamped = composeSealed(recipient, { content: { text: 'k'.repeat(900) }, ttl: 3600, now: NOW() });
  let wall = 0;
  let cpu = 0;
  let trials = 0;
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const cpuStarted = cpuSeconds();
    trials += mintStamp(unstamped, DEFAULT_MESSAGING_PARAMS).trials;
    wall += (performance.now() - started) / 1000;
    cpu += cpuSeconds() - cpuStarted;
  }
  const round = (x: number) => Number(x.toFixed(3));
  return { payloadBytes: unstamped.payload.length, expectedTrials: Number(stampWork(unstamped.payload.length, 3600, DEFAULT_MESSAGING_PARAMS)), meanTrials: Math.round(trials / samples), meanWallSeconds: round(wall / samples), meanCpuSeconds: round(cpu / samples), samples };
}

/** Expected trials and the CPU seconds they take at `rate` trials per CPU second. */
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
    const checkStarted = cpuSeconds();
    for (const w of wires) checkEnvelope(fromWire(w, params), NOW(), params);
    const checksPerCpuSecond = Math.round(count / (cpuSeconds() - checkStarted));
    const started = performance.now();
    const cpuStarted = cpuSeconds();
    for (const w of wires) nodes[0]!.messaging.submit(w);
    const last = messageHash(envs[envs.length - 1]!);
    await waitFor(() => nodes.every((n) => n.messaging.pool.size === count && n.messaging.pool.has(last)), 'all messages on all nodes', 300_000);
    const seconds = (performance.now() - started) / 1000;
    // The 4 nodes share this process: one node's share of the CPU time is a quarter of it.
    const cpuPerNode = (cpuSeconds() - cpuStarted) / 4;
    return {
      nodes: 4,
      messages: count,
      wallSeconds: Number(seconds.toFixed(2)),
      perNodeWall: Math.round(count / seconds),
      cpuSecondsPerNode: Number(cpuPerNode.toFixed(2)),
      perNodePerCpuSecond: Math.round(count / cpuPerNode),
      checksPerCpuSecond,
      relayedFrames: nodes.map((n) => n.reactor.stats.relayed),
    };
  } finally {
    stopAll(nodes);
    await h.cleanup();
  }
}

export async function benchMessaging(messages: number, samples: number, parts: string[]) {
  const report: Record<string, unknown> = { params: DEFAULT_MESSAGING_PARAMS, loadAverage: loadavg().map((x) => Number(x.toFixed(1))) };
  if (parts.includes('calibration')) {
    process.stderr.write('messaging: stamp rate…\n');
    const rate = stampRate();
    process.stderr.write(`  ${Math.round(rate.cpu)} trials per CPU second (${Math.round(rate.wall)} per wall second); reference stamps (${samples})…\n`);
    const reference = referenceStamps(samples);
    report.calibration = {
      trialsPerCpuSecond: Math.round(rate.cpu),
      trialsPerWallSecond: Math.round(rate.wall),
      reference,
      predictedCpuSecondsForReference: Number((DEFAULT_MESSAGING_PARAMS.referenceTrials / rate.cpu).toFixed(3)),
      // the goal is one second of one core: CPU time is what a core spends, wall time adds the waits of a shared machine
      ratioToOneSecond: reference.meanCpuSeconds,
      goal: '1 KiB living 1 h ≈ 1 s on one core',
    };
    report.stampCost = costTable(rate.cpu);
  }
  if (parts.includes('relay')) {
    process.stderr.write('  relay on 4 nodes…\n');
    report.relay = await relay(messages);
  }
  return report;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchMessaging(Number(values.messages), Number(values.samples), values.only.split(',')), null, 2));
}

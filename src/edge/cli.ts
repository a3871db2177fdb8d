import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { customCommand, globals, keyringOf, nodeUrl, opt, print, requireSlotRange, verifyGroup, type ParsedOptions } from '../cli/kit.js';
import { resolveHome } from '../home/home.js';
import { parseSlot, SLOT_MS } from '../util/slots.js';
import { EdgeAgent } from './agent/agent.js';
import { parseAgentConfig, type AgentConfig } from './agent/config.js';
import { LedgerLink } from './agent/ledger.js';
import type { MeterSigner } from './agent/submitter.js';
import { formatVerification, verifyAgainstLedger } from './agent/verification.js';
import { EDGE_ERRORS as E } from './errors.js';
import { registerFlexEdgeCli } from './flex-cli.js';
import { replayFile } from './p1/replay.js';
import { SampleStore } from './store.js';

/**
 * `gridledger edge` (run the meter edge agent) and `gridledger verify samples` (the local sample store
 * against the fingerprints on the ledger). See docs/edge.md.
 */

const edgeOptions = {
  meter: opt.text('the ledger meter id the agent signs for (its key: --from)', { arg: 'id' }),
  community: opt.text('assert this community in every reading', { arg: 'id' }),
  db: opt.text("the agent's SQLite file (default HOME/edge/METER.db)", { arg: 'file' }),
  config: opt.text('JSON or YAML file with meters and sources (several meters, a building); see docs/edge.md', { arg: 'file' }),
  p1Serial: opt.text('read P1 telegrams from a serial device, e.g. /dev/ttyUSB0', { arg: 'path' }),
  baud: opt.int('serial speed (DSMR 4/5: 115200; DSMR 2.2/3: 9600)', { default: '115200', arg: 'bps' }),
  dataBits: opt.choice(['7', '8'] as const)('serial data bits', { default: '8' }),
  parity: opt.choice(['none', 'even', 'odd'] as const)('serial parity', { default: 'none' }),
  stopBits: opt.choice(['1', '2'] as const)('serial stop bits', { default: '1' }),
  p1Tcp: opt.text('read P1 telegrams from a TCP stream (e.g. ser2net)', { arg: 'host:port' }),
  p1File: opt.text('replay P1 telegrams from a file ("-" = stdin)', { arg: 'file' }),
  speed: opt.text('replay speed: "max" (as fast as possible) or a factor of real time by the telegram timestamps, e.g. 1 or 60', { default: 'max', arg: 'factor|max' }),
  mqtt: opt.text('MQTT broker with dsmr-reader JSON telegrams, e.g. mqtt://127.0.0.1:1883', { arg: 'url' }),
  mqttTopic: opt.text('MQTT topic of the meter', { default: 'dsmr/json', arg: 'topic' }),
  mqttClientId: opt.text('MQTT client id (persistent session; default derived from the meter id)', { arg: 'id' }),
  mqttUsername: opt.text('MQTT user name', { arg: 'name' }),
  mqttPasswordEnv: opt.text('environment variable holding the MQTT password', { arg: 'var' }),
  mqttMaxBytes: opt.int('largest accepted MQTT payload', { default: '4096', arg: 'bytes' }),
  httpListen: opt.text('accept samples by HTTP POST /v1/edge/samples?meter=ID on this address', { arg: 'host:port' }),
  status: opt.text('local status page and JSON API ("off" for none)', { default: '127.0.0.1:26680', arg: 'host:port' }),
  timezone: opt.text("the status page's day", { default: 'Europe/Amsterdam', arg: 'tz' }),
  dashboardOrigin: opt.text("web origins (comma-separated) whose dashboard pages may call the status API (default: the node's, which serves the dashboard)", { arg: 'url[,url]' }),
  maxPowerW: opt.int("the meter's rating for the register guard until the ledger's is known", { arg: 'W' }),
  production: opt.flag('a production meter: show its export as production'),
  closeAfterMs: opt.int('close a slot when the meter has been silent this long after it ended', { default: '60000', arg: 'ms' }),
  maxGapMs: opt.int('longest span without a sample that is not a gap', { default: '30000', arg: 'ms' }),
  pollMs: opt.int('how often pending readings are checked', { default: '1000', arg: 'ms' }),
  exitWhenDone: opt.flag('with file sources only: exit once the replay is read and every reading is delivered or parked'),
  logLevel: opt.choice(['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const)('log level (JSON lines on stderr)', { default: 'info' }),
};

type EdgeOptions = ParsedOptions<typeof edgeOptions>;

function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw E.EDGE_CONFIG_INVALID(`${flag} expects HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw E.EDGE_CONFIG_INVALID(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as Record<string, unknown>;
  } catch (err) {
    throw E.EDGE_CONFIG_INVALID(`${path} is not a JSON/YAML object: ${(err as Error).message}`);
  }
}

/** The single-meter configuration the flags describe. */
function configFromFlags(o: EdgeOptions, cmd: Command): Record<string, unknown> {
  const meter = o.meter;
  if (meter === undefined) throw E.EDGE_CONFIG_INVALID('give --meter ID (and its key with --from KEY), or --config FILE');
  const key = globals(cmd).from ?? process.env.GRIDLEDGER_FROM;
  if (key === undefined) throw E.EDGE_CONFIG_INVALID(`give the meter's key with --from KEY (meter keys are separate from trader keys)`);
  const sources: Record<string, unknown>[] = [];
  if (o.p1Serial) sources.push({ kind: 'serial', meter, path: o.p1Serial, baudRate: o.baud, dataBits: Number(o.dataBits), parity: o.parity, stopBits: Number(o.stopBits) });
  if (o.p1Tcp) sources.push({ kind: 'tcp', meter, ...hostPort(o.p1Tcp, '--p1-tcp') });
  if (o.p1File) sources.push({ kind: 'file', meter, path: o.p1File === '-' ? '-' : resolve(o.p1File), speed: o.speed === 'max' ? 'max' : Number(o.speed) });
  if (o.mqtt)
    sources.push({
      kind: 'mqtt',
      url: o.mqtt,
      topics: [{ topic: o.mqttTopic, meter }],
      maxPayloadBytes: o.mqttMaxBytes,
      ...(o.mqttClientId ? { clientId: o.mqttClientId } : {}),
      ...(o.mqttUsername ? { username: o.mqttUsername } : {}),
      ...(o.mqttPasswordEnv ? { passwordEnv: o.mqttPasswordEnv } : {}),
    });
  if (o.httpListen) sources.push({ kind: 'http', ...hostPort(o.httpListen, '--http-listen') });
  if (sources.length === 0) throw E.EDGE_CONFIG_INVALID('name at least one source: --p1-serial, --p1-tcp, --p1-file, --mqtt or --http-listen');
  return {
    db: o.db ?? join(resolveHome(globals(cmd).home), 'edge', `${meter}.db`),
    meters: [{ id: meter, key, ...(o.community ? { community: o.community } : {}), ...(o.maxPowerW !== undefined ? { maxPowerW: o.maxPowerW } : {}), production: o.production === true }],
    sources,
  };
}

export function buildAgentConfig(o: EdgeOptions, cmd: Command): AgentConfig {
  const base = o.config !== undefined ? readConfigFile(o.config) : configFromFlags(o, cmd);
  if (o.config !== undefined && typeof base.db === 'string') base.db = resolve(base.db);
  return parseAgentConfig({
    closeAfterMs: o.closeAfterMs,
    maxGapMs: o.maxGapMs,
    pollMs: o.pollMs,
    timezone: o.timezone,
    status: o.status === 'off' ? null : hostPort(o.status ?? '127.0.0.1:26680', '--status'),
    exitWhenDone: o.exitWhenDone === true,
    ...(o.dashboardOrigin !== undefined ? { dashboardOrigins: o.dashboardOrigin.split(',').map((u) => u.trim()).filter((u) => u !== '') } : {}),
    ...base,
    node: globals(cmd).node ?? (typeof base.node === 'string' ? base.node : nodeUrl(cmd)),
  });
}

async function runEdge(o: EdgeOptions, cmd: Command): Promise<void> {
  const config = buildAgentConfig(o, cmd);
  const keyring = keyringOf(cmd);
  const signers = new Map<string, MeterSigner>(config.meters.map((m) => [m.id, { address: keyring.show(m.key).address, signer: keyring.signer(m.key) }]));
  const logger = pino({ level: o.logLevel ?? 'info', base: { service: 'gridledger-edge' } }, pino.destination(2));
  const agent = await EdgeAgent.start(config, { signers, logger });
  if (process.stderr.isTTY) process.stderr.write(`edge agent for ${config.meters.map((m) => m.id).join(', ')}${agent.statusUrl ? `: status ${agent.statusUrl}/` : ''}\n`);
  const stopped = new Promise<'signal'>((resolveStop) => {
    process.once('SIGINT', () => resolveStop('signal'));
    process.once('SIGTERM', () => resolveStop('signal'));
  });
  await Promise.race([stopped, agent.done]);
  await agent.stop();
  const summary = agent.summary();
  print(cmd, summary, (s) => `readings delivered ${s.delivered}, pending ${s.pending}, parked ${s.parked}${s.keptPrivate > 0 ? ` (${s.keptPrivate} kept private for flex events)` : ''}`);
  // Readings kept private for a flex event were parked on purpose: only refused ones fail a replay.
  const refused = summary.parked - summary.keptPrivate;
  if (config.exitWhenDone && refused > 0) throw E.EDGE_READINGS_PARKED(`${refused} readings were refused by the ledger and parked (see the log and the status page)`);
}

const verifyOptions = {
  meter: opt.text('meter id', { required: true, arg: 'id' }),
  toSlot: opt.slot('end of the range, exclusive (also --to)'),
  fromSlot: opt.slot('first slot of the range (also --from: first slot, index or ISO time)'),
  to: opt.slot('end of the range, exclusive: slot index or ISO time'),
  db: opt.text("the agent's SQLite file (default HOME/edge/METER.db)", { arg: 'file' }),
  as: opt.text("read the meter's private fingerprints as this keyring key: the meter's key, its community's owner or an auditor (--from is the range here)", { arg: 'key' }),
};

async function runVerify(o: ParsedOptions<typeof verifyOptions>, cmd: Command): Promise<void> {
  // `--from` is also the global signing-key option, which commander hands to the root: read it there.
  const fromText = globals(cmd).from;
  const fromSlot = o.fromSlot ?? (fromText !== undefined ? parseSlot(fromText, { round: globals(cmd).round === true }) : undefined);
  const toSlot = o.toSlot ?? o.to;
  if (fromSlot === undefined || toSlot === undefined) throw E.EDGE_BAD_OPTION('give the range: --from SLOT|ISO --to SLOT|ISO (end exclusive)');
  requireSlotRange(fromSlot, toSlot, '--from', '--to');
  const db = o.db ?? join(resolveHome(globals(cmd).home), 'edge', `${o.meter}.db`);
  const store = new SampleStore(db);
  try {
    const reader = o.as !== undefined ? keyringOf(cmd).signer(o.as) : undefined;
    const report = await verifyAgainstLedger(store, new LedgerLink(nodeUrl(cmd), () => reader), o.meter, fromSlot, toSlot);
    print(cmd, report, formatVerification);
    if (!report.ok) {
      const broken = report.slots.filter((s) => s.status !== 'intact' && s.status !== 'missing-on-chain');
      throw E.EDGE_SAMPLES_NOT_VERIFIED(`${broken.length} slots of meter ${o.meter} do not match the ledger: ${broken.map((s) => `${s.slot} ${s.status}${s.firstDifferingSeq !== undefined ? ` at seq ${s.firstDifferingSeq}` : ''}`).join(', ')}`);
    }
  } finally {
    store.close();
  }
}

const replayOptions = {
  out: opt.text('file to write ("-" = stdout)', { required: true, arg: 'file' }),
  slots: opt.int('how many 15-minute slots', { default: '96', arg: 'n' }),
  end: opt.slot('end of the replay, exclusive (default: the start of the current slot, so every slot has ended)'),
  intervalMs: opt.int('time between telegrams', { default: '10000', arg: 'ms' }),
  seed: opt.int('household variant (same seed, same bytes)', { default: '1', arg: 'n' }),
};

/** A P1 capture for demos and tests: DSMR 5 telegrams of a generated household, in the real meter's layout. */
function runReplay(o: ParsedOptions<typeof replayOptions>, cmd: Command): void {
  const end = o.end ?? Math.floor(Date.now() / SLOT_MS);
  const slots = o.slots ?? 96;
  if (slots < 1 || (o.intervalMs ?? 10_000) < 1000) throw E.EDGE_BAD_OPTION('--slots must be at least 1 and --interval-ms at least 1000');
  const text = replayFile({ startMs: (end - slots) * SLOT_MS, durationMs: slots * SLOT_MS, intervalMs: o.intervalMs ?? 10_000, seed: o.seed ?? 1 });
  if (o.out === '-') process.stdout.write(text, 'latin1');
  else {
    writeFileSync(o.out, text, 'latin1');
    print(cmd, { file: resolve(o.out), fromSlot: end - slots, toSlot: end, bytes: Buffer.byteLength(text, 'latin1') }, (v) => `wrote ${v.file}: slots [${v.fromSlot}, ${v.toSlot}), ${v.bytes} bytes`);
  }
}

/** Adds `edge`, `edge replay` and `verify samples` to the program. */
export function registerEdgeCli(program: Command): void {
  const edge = customCommand(program, 'edge', {
    description: 'run the meter edge agent: read P1/MQTT/HTTP samples, keep them off-chain, submit signed slot readings with fingerprints (docs/edge.md)',
    options: edgeOptions,
    run: (o, cmd) => runEdge(o, cmd),
  });
  customCommand(edge, 'replay', {
    description: 'write a P1 capture of a generated household (DSMR 5, the real meter layout) for the recent past, to replay with --p1-file',
    options: replayOptions,
    run: (o, cmd) => runReplay(o, cmd),
  });
  const verify = verifyGroup(program);
  customCommand(verify, 'samples', {
    description: "recompute a meter's slot fingerprints from the edge store and compare them with the ledger: intact slots, and what happened to the others",
    options: verifyOptions,
    run: (o, cmd) => runVerify(o, cmd),
  });
  registerFlexEdgeCli(program);
}

import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { loadScenarioFile, type Scenario } from '../../sim/community/index.js';
import { addressFromPublicKey } from '../crypto/address.js';
import type { Keyring } from '../crypto/keyring.js';
import { slotIso } from '../util/slots.js';
import { LedgerError } from '../util/errors.js';
import { loadConfig, openKeyring } from '../home/home.js';
import { CommunityDriver, simulateCommunity, type SimulateProgress, type SimulateSummary } from './community/driver.js';
import { SIMULATE_ERRORS } from './community/errors.js';
import { registerReportCommand } from './report.js';
import { CLI_ERRORS, keyringOf, nodeUrl, parseInteger, print, signerName } from './kit.js';

/** Keyring secret the simulated members' keys are derived from (created on the first run). */
export const SIM_SECRET_NAME = 'simulate';

/** Reads a scenario file; a file that cannot be read is a coded error, an invalid one SIM_SCENARIO_INVALID. */
export function readScenario(path: string): Scenario {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw SIMULATE_ERRORS.SIMULATE_SCENARIO_UNREADABLE(`cannot read scenario ${path}: ${(err as Error).message}`);
  }
  if (!isFile) throw SIMULATE_ERRORS.SIMULATE_SCENARIO_UNREADABLE(`scenario ${path} is not a file`);
  return loadScenarioFile(path);
}

/** The home's simulation secret, created (32 random bytes, encrypted like the keys) when missing. */
export function simulationSecret(keyring: Keyring): Uint8Array {
  if (!keyring.hasSecret(SIM_SECRET_NAME)) keyring.addSecret(SIM_SECRET_NAME, new Uint8Array(randomBytes(32)));
  return keyring.secret(SIM_SECRET_NAME);
}

function progressBar(enabled: boolean): { update(p: SimulateProgress): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: '{phase} [{bar}] {value}/{total} slots | {readings} readings, {transfers} transfers | slot {slot}', hideCursor: true, stream: process.stderr, clearOnComplete: false },
  );
  let started = false;
  return {
    update(p) {
      const payload = { phase: p.phase.padEnd(8), readings: p.readingsAccepted, transfers: p.transfersAccepted, slot: p.lastSlot === null ? '-' : slotIso(p.lastSlot) };
      if (!started) {
        bar.start(Math.max(1, p.slotsTotal), p.slotsDone, payload);
        started = true;
      }
      bar.setTotal(Math.max(1, p.slotsTotal));
      bar.update(p.slotsDone, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function summaryText(s: SimulateSummary): string {
  const created = s.created;
  const rejected = Object.entries(s.rejected);
  return [
    `community ${s.community}: ${s.members.length} members (${s.members.filter((m) => m.kind === 'plant').length} shared plants)`,
    `created   ${created.community ? 'the community, ' : ''}${created.accounts} accounts, ${created.traders} traders, ${created.meters} meters`,
    s.fromSlot === null ? 'slots     none (the ledger is up to date)' : `slots     ${s.slots} from ${slotIso(s.fromSlot)} to ${slotIso(s.toSlot!)}`,
    `readings  ${s.readings.accepted} of ${s.readings.submitted} accepted: ${s.wh.import} Wh import, ${s.wh.export} Wh export`,
    `transfers ${s.transfers.accepted} of ${s.transfers.submitted} accepted: ${s.wh.internal} Wh shared inside the community`,
    ...(rejected.length > 0 ? [`rejected  ${rejected.map(([c, n]) => `${c} ×${n}`).join(', ')}`, ...s.firstRejections.map((r) => `  ${r}`)] : []),
    `time      ${s.seconds.toFixed(1)} s, ${Math.round(s.readingsPerSecond)} readings/s`,
  ].join('\n');
}

export function registerSimulateCommands(program: Command): void {
  program
    .command('simulate')
    .description('drive a running node with a simulated energy community (scenario file: households, PV, batteries, cars, shared plants)')
    .requiredOption('--scenario <file>', 'scenario file (.json, .yaml or .yml; see docs/simulation.md)')
    .option('--days <n>', 'backfill this many days of past slots (within the reading window)', '1')
    .option('--follow', 'after the backfill, submit each slot as it ends until Ctrl-C')
    .option('--seed <s>', "override the scenario's seed (0 … 2^32−1)")
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (opts: { scenario: string; days: string; follow?: boolean; seed?: string; progress: boolean }, cmd: Command) => {
      const scenario = readScenario(opts.scenario);
      if (opts.seed !== undefined) {
        const seed = parseInteger(opts.seed, '--seed');
        if (seed > 0xffffffff) throw CLI_ERRORS.CLI_INVALID_OPTION('--seed must be at most 2^32−1');
        scenario.seed = seed;
      }
      const days = parseInteger(opts.days, '--days');
      const keyring = keyringOf(cmd);
      const name = signerName(cmd);
      const signer = keyring.signer(name);
      const operator = { address: addressFromPublicKey(signer.publicKey), signer };
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const bar = progressBar(opts.progress && process.stderr.isTTY === true);
      let summary: SimulateSummary;
      try {
        summary = await simulateCommunity({ url: nodeUrl(cmd), scenario, operator, secret: simulationSecret(keyring), days, follow: opts.follow === true, signal: controller.signal, onProgress: (p) => bar.update(p) });
      } catch (err) {
        throw err instanceof LedgerError ? err : CLI_ERRORS.CLI_ERROR((err as Error).message);
      } finally {
        bar.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      print(cmd, summary, summaryText, { annotate: false });
    });
  registerReportCommand(program);
}

/** A simulation running beside a devnet supervisor (`devnet --simulate FILE`, the main job). */
export interface DevnetSimulation {
  /** Stops following and waits for the submission in flight. */
  stop(): Promise<void>;
}

const RETRY_AFTER_MS = 10_000;

/**
 * Backfills `days` days and then follows real time, signing the setup with the `admin` key of
 * node0's home. Progress goes to `report` as lines (the supervisor prints there too, so no bar). If
 * the node stops answering (a restart), it tries again after 10 s: the driver resumes where the
 * ledger's readings end.
 */
export function startDevnetSimulation(options: { url: string; home: string; scenario: Scenario; days: number; report(line: string): void }): DevnetSimulation {
  const keyring = openKeyring(options.home, loadConfig(options.home).keyringBackend);
  const signer = keyring.signer('admin');
  const operator = { address: addressFromPublicKey(signer.publicKey), signer };
  const secret = simulationSecret(keyring);
  const controller = new AbortController();
  const id = options.scenario.community.id;
  let lastHour = -1;
  const onProgress = (p: SimulateProgress) => {
    if (p.phase !== 'follow' || p.lastSlot === null) return;
    // In real time: one line per simulated hour.
    const hour = Math.floor(p.lastSlot / 4);
    if (hour !== lastHour) options.report(`simulation ${id}: slot ${slotIso(p.lastSlot)} submitted (${p.readingsAccepted} readings, ${p.transfersAccepted} transfers so far)`);
    lastHour = hour;
  };
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        options.report(`simulation ${id}: setting up the community and backfilling ${options.days} day(s)…`);
        const driver = new CommunityDriver({ url: options.url, scenario: options.scenario, operator, secret, days: options.days, follow: true, signal: controller.signal, onProgress });
        driver.onBackfilled = (s) => options.report(`simulation ${id}: ${summaryText(s).split('\n').join('\n  ')}`);
        await driver.run();
      } catch (err) {
        if (controller.signal.aborted) return;
        const e = err as Error & { code?: string };
        options.report(`simulation ${id}: ${e.code ?? 'error'}: ${e.message}; trying again in ${RETRY_AFTER_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, RETRY_AFTER_MS));
      }
    }
  };
  const done = run();
  return {
    async stop() {
      controller.abort();
      await done;
    },
  };
}

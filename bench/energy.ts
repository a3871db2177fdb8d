import { createHash } from 'node:crypto';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { Signer } from '../src/crypto/ed25519.js';
import { energyRoutes } from '../src/modules/energy/routes.js';
import { meteringRoutes } from '../src/modules/metering/routes.js';
import { openKeyring } from '../src/home/home.js';
import { login } from '../src/cli/session.js';
import { toHex } from '../src/util/bytes.js';
import { slotOfMs } from '../src/util/slots.js';
import { CommitWatcher, DEFAULT_WARMUP_TXS, measureSaturation, startBenchNetwork, submitBatches, warmUp } from './foundation.js';
import { cpuWindow, type CpuReport } from './cpu-report.js';

/**
 * Energy benchmark: the foundation harness (node processes over HTTP, pre-signed transactions,
 * commit times from the event stream) driving the metering and energy modules. One community, two
 * traders A and B, M producer meters of A labelled `solar`. Phase 1: signed meter readings spread
 * over the meters and recent ended slots. Phase 2: 1 Wh `solar` transfers A → B at those slots.
 * Rates are computed exactly like the foundation's saturation figure (count / (last commit − first submit)).
 */

const COMMUNITY = 'bench';
const LABELS = ['solar'];
/** 10 kW: at most 2 500 Wh per 15-minute slot; readings below stay far inside. */
const MAX_POWER_W = 10_000;
/** Messages per setup transaction (≤ MAX_MSGS_PER_TX = 64): admit + add-meter for 32 meters. */
const METERS_PER_SETUP_TX = 32;
/** Readings per meter stay well inside the 672-slot reading window. */
const MAX_SLOTS_PER_METER = 600;
const EXPIRES = 1_000_000;

/** Deterministic keys: the same run signs the same transactions. */
function signerFor(label: string): { signer: Signer; address: string; pubKey: string } {
  const seed = new Uint8Array(createHash('sha256').update(`gridledger-bench-energy/${label}`).digest());
  const signer = new Signer(seed);
  return { signer, address: addressFromPublicKey(signer.publicKey), pubKey: toHex(signer.publicKey) };
}

/** Waits (GET /v1/txs/:hash?wait=30) until the transaction is committed and requires code OK. */
async function waitOk(url: string, hash: string, what: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await callRoute(url, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    if (r.status === 'committed') {
      if (r.result?.code !== 'OK') throw new Error(`${what} failed: ${r.result?.code} ${r.result?.message}`);
      return;
    }
  }
  throw new Error(`${what} was not committed within 300 s`);
}

/** Exported energy of meter m in its j-th reading: 500–999 Wh; every other reading also imports 40 Wh. */
function exportWh(m: number, j: number): number {
  return 500 + ((m * 7919 + j * 104_729) % 500);
}
function importWh(j: number): number {
  return j % 2 === 1 ? 40 : 0;
}

/** `cpu`, when given, receives the CPU report of each saturation window (readings, transfers). */
export async function benchEnergy(options: { validators: number; readings: number; transfers: number; meters?: number; cpu?: Record<string, CpuReport>; warmupTxs?: number }): Promise<Record<string, number>> {
  const readings = options.readings;
  const transfers = options.transfers;
  const meters = Math.max(options.meters ?? 200, Math.ceil(readings / MAX_SLOTS_PER_METER));
  const perMeter = (m: number) => Math.floor(readings / meters) + (m < readings % meters ? 1 : 0);
  const slotsUsed = Math.max(1, perMeter(0));

  const net = await startBenchNetwork(options.validators);
  const url = net.urls[0]!;
  const watcher = new CommitWatcher();
  try {
    await watcher.start(url);
    const status = await callRoute(url, coreRoutes.status, {});
    const chainId = status.chainId;
    const keyring = openKeyring(net.home, 'test');
    const admin = { signer: keyring.signer('admin'), address: keyring.show('admin').address };
    const traderA = signerFor('trader-a');
    const traderB = signerFor('trader-b');
    const meterKeys = Array.from({ length: meters }, (_, m) => signerFor(`meter-${m}`));
    const meterId = (m: number) => `bench-m${m}`;

    // ---- setup: community, traders, meters (several messages per transaction) ----
    const tSetup = performance.now();
    let adminNonce = (await callRoute(url, coreRoutes.accountNonce, { params: { address: admin.address } })).next;
    const adminTx = (msgs: Msg[]) => signTx({ chainId, sender: admin.address, nonce: adminNonce++, expiresAtHeight: EXPIRES, msgs, memo: 'bench setup' }, admin.signer);
    const setup: SignedTx[] = [
      adminTx([
        { type: 'registry/admit', value: { address: traderA.address, roles: ['trader'] } },
        { type: 'registry/admit', value: { address: traderB.address, roles: ['trader'] } },
        { type: 'energy/create-community', value: { id: COMMUNITY, name: 'Bench neighbourhood', timezone: 'Europe/Amsterdam' } },
        { type: 'energy/add-trader', value: { community: COMMUNITY, address: traderA.address } },
        { type: 'energy/add-trader', value: { community: COMMUNITY, address: traderB.address } },
      ]),
    ];
    for (let b = 0; b < meters; b += METERS_PER_SETUP_TX) {
      const msgs: Msg[] = [];
      for (let m = b; m < Math.min(meters, b + METERS_PER_SETUP_TX); m++) {
        const k = meterKeys[m]!;
        msgs.push({ type: 'registry/admit', value: { address: k.address, roles: ['meter'] } });
        msgs.push({
          type: 'energy/add-meter',
          value: { community: COMMUNITY, meterId: meterId(m), kind: 'producer', trader: traderA.address, labels: LABELS, address: k.address, pubKey: k.pubKey, maxPowerW: MAX_POWER_W },
        });
      }
      setup.push(adminTx(msgs));
    }
    const setupHashes = await submitBatches(url, setup, 100, 1);
    for (const [i, h] of setupHashes.entries()) await waitOk(url, h, `setup transaction ${i}`);
    const setupSeconds = (performance.now() - tSetup) / 1000;

    // ---- readings: meter m reports slots base … base+perMeter(m)−1 with seq 1…, consistent registers ----
    // The latest slot is the one that ended before now, so it has ended by any later block time.
    const base = slotOfMs(Date.now()) - slotsUsed;
    const exportedAt = new Array<number>(slotsUsed).fill(0);
    const readingTxs: SignedTx[] = [];
    const registers = Array.from({ length: meters }, () => ({ imp: 0, exp: 0 }));
    for (let j = 0; j < slotsUsed; j++) {
      // Round-robin over the meters so every batch carries many senders, each in nonce order.
      for (let m = 0; m < meters; m++) {
        if (j >= perMeter(m)) continue;
        const k = meterKeys[m]!;
        const reg = registers[m]!;
        const exp = exportWh(m, j);
        const imp = importWh(j);
        reg.exp += exp;
        reg.imp += imp;
        exportedAt[j]! += exp;
        const value = { meterId: meterId(m), slot: base + j, importWh: imp, exportWh: exp, importRegisterWh: reg.imp, exportRegisterWh: reg.exp, seq: j + 1 };
        readingTxs.push(signTx({ chainId, sender: k.address, nonce: j, expiresAtHeight: EXPIRES, msgs: [{ type: 'metering/reading', value }], memo: '' }, k.signer));
      }
    }

    // ---- transfers: 1 Wh solar A → B, sequential nonces of A, spread over the readings' slots ----
    const transferTxs: SignedTx[] = [];
    const transfersAt = new Array<number>(slotsUsed).fill(0);
    for (let i = 0; i < transfers; i++) {
      const j = i % slotsUsed;
      transfersAt[j]! += 1;
      const value = { community: COMMUNITY, to: traderB.address, slot: base + j, labels: LABELS, wh: 1 };
      transferTxs.push(signTx({ chainId, sender: traderA.address, nonce: i, expiresAtHeight: EXPIRES, msgs: [{ type: 'energy/transfer', value }], memo: '' }, traderA.signer));
    }
    if (transfersAt.some((n, j) => n > exportedAt[j]!)) throw new Error('more transfers per slot than A holds: use more readings or fewer transfers');

    const height = async () => (await callRoute(url, coreRoutes.status, {})).height;
    /** Highest consensus round among the commits of blocks from..to: > 0 means rounds timed out (e.g. a block took longer to check than the propose timeout). */
    const maxRound = async (from: number, to: number) => {
      let max = 0;
      for (let h = from; h <= to; h++) max = Math.max(max, Number((await callRoute(url, coreRoutes.getBlock, { params: { height: h } })).commit.round ?? 0));
      return max;
    };
    const h0 = await height();
    // The first transactions of each kind (at most a quarter) warm the node up, unmeasured, as in the foundation part.
    const warmup = options.warmupTxs ?? DEFAULT_WARMUP_TXS;
    const measured = async (part: string, all: typeof readingTxs) => {
      const warm = Math.min(warmup, Math.floor(all.length / 4));
      await warmUp(url, all.slice(0, warm), watcher);
      const load = all.slice(warm);
      if (load.length === 0) return 0;
      const endCpu = await cpuWindow(net.urls);
      const rate = await measureSaturation(url, load, watcher);
      if (options.cpu) options.cpu[part] = await endCpu();
      return rate;
    };
    const readingsPerSec = await measured('readings', readingTxs);
    const h1 = await height();
    const transfersPerSec = await measured('transfers', transferTxs);
    const h2 = await height();

    const readingMaxRound = await maxRound(h0 + 1, h1);
    const transferMaxRound = await maxRound(h1 + 1, h2);

    // ---- check the outcome in state: every reading and transfer was booked (not only committed) ----
    let readingsRecorded = 0;
    let after: string | undefined;
    for (;;) {
      const page = await callRoute(url, meteringRoutes.listMeters, { query: { limit: 500, ...(after !== undefined ? { after } : {}) } });
      for (const m of page.meters) if (m.meterId.startsWith('bench-m')) readingsRecorded += m.readings;
      if (page.meters.length < 500) break;
      after = page.meters[page.meters.length - 1]!.meterId;
    }
    const range = { fromSlot: String(base), toSlot: String(base + slotsUsed) };
    // Balances by trader are private reads: the community owner (admin) logs in for them.
    const { token } = await login(net.home, url, keyring, 'admin');
    const balB = await callRoute(url, energyRoutes.balances, { params: { id: COMMUNITY }, query: { trader: traderB.address, labels: 'solar', ...range } }, { token });
    const balA = await callRoute(url, energyRoutes.balances, { params: { id: COMMUNITY }, query: { trader: traderA.address, labels: 'solar', ...range } }, { token });
    const exportedWh = exportedAt.reduce((a, b) => a + b, 0);
    if (readingsRecorded !== readings) throw new Error(`${readingsRecorded} of ${readings} readings were recorded`);
    if (balB.totals.wh !== transfers || balA.totals.wh !== exportedWh - transfers) {
      throw new Error(`balances after transfers: B ${balB.totals.wh} Wh (expected ${transfers}), A ${balA.totals.wh} Wh (expected ${exportedWh - transfers})`);
    }

    return {
      validators: options.validators,
      meters,
      readings,
      readingSlots: slotsUsed,
      readingsRecorded,
      readingsPerSec: Math.round(readingsPerSec),
      readingBlocks: h1 - h0,
      readingMaxRound,
      transfers,
      transfersBookedWh: balB.totals.wh,
      transfersPerSec: Math.round(transfersPerSec),
      transferBlocks: h2 - h1,
      transferMaxRound,
      households: Math.round(readingsPerSec * 900),
      setupTxs: setup.length,
      setupSeconds: Number(setupSeconds.toFixed(2)),
    };
  } finally {
    watcher.stop();
    await net.stop();
  }
}

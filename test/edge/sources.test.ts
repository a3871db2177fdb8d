import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incoming, OfferOutcome } from '../../src/edge/agent/ingest.js';
import { FileP1Source, SerialP1Source, TcpP1Source, type Source, type SourceSink } from '../../src/edge/agent/sources.js';
import { replayTelegrams } from '../../src/edge/p1/replay.js';
import { tempDir } from './helpers.js';

/** The P1 byte-stream sources on real transports: a TCP socket, a serial device (a pseudo-terminal), a paced file. */

const START = Date.UTC(2026, 5, 1, 10, 0, 0);
const telegrams = [...replayTelegrams({ startMs: START, durationMs: 120_000, intervalMs: 10_000, seed: 2 })];
const ALL = telegrams.map((t) => t.text).join('');

function collector() {
  const samples: Incoming[] = [];
  const refused: string[] = [];
  const sink: SourceSink = {
    offer: (item: Incoming): OfferOutcome => {
      samples.push(item);
      return { status: 'queued' };
    },
    refuse: (code) => void refused.push(code),
    now: () => Date.now(),
    logger: pino({ level: 'silent' }),
  };
  return { sink, samples, refused };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
const started = (s: Source) => {
  s.start();
  cleanups.push(() => s.stop());
  return s;
};

describe('P1 sources', () => {
  it('TCP: frames telegrams from odd chunks, reconnects after the peer drops mid-telegram, refuses the cut one', async () => {
    let connections = 0;
    const sockets: Socket[] = [];
    const cut = ALL.indexOf('/', 1) + 400; // inside the second telegram
    const server = createServer((socket) => {
      sockets.push(socket);
      connections++;
      // First connection: everything up to the cut, 7 bytes at a time, then the peer goes away.
      const text = connections === 1 ? ALL.slice(0, cut) : ALL.slice(ALL.lastIndexOf('/', cut));
      const bytes = Buffer.from(text, 'latin1');
      let i = 0;
      const push = () => {
        if (socket.destroyed) return;
        if (i >= bytes.length) return void (connections === 1 ? socket.destroy() : undefined);
        socket.write(bytes.subarray(i, i + 7));
        i += 7;
        setImmediate(push);
      };
      push();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }));
    const c = collector();
    const source = started(new TcpP1Source('tcp', 'E1', '127.0.0.1', (server.address() as { port: number }).port, undefined, c.sink));
    await until('every telegram', () => c.samples.length === telegrams.length);
    expect(connections).toBe(2);
    expect(c.refused).toEqual(['P1_TRUNCATED']);
    expect(c.samples.map((s) => [s.sample.timestampMs, s.sample.importT2Wh])).toEqual(telegrams.map((t) => [t.state.timestampMs, t.state.importT2Wh]));
    expect(source.status()).toMatchObject({ kind: 'tcp', connected: true, counters: { telegramsOk: telegrams.length } });
  });

  it('serial: reads a pseudo-terminal at 115200 8N1 like a P1 cable', async () => {
    const c = collector();
    // python3 (installed for node-gyp anyway) makes the pty pair and writes the telegrams to its master side.
    const py = spawn('python3', ['-c', 'import os,sys,time,tty\nm,s=os.openpty()\ntty.setraw(m)\nprint(os.ttyname(s),flush=True)\nd=sys.stdin.buffer.read()\nos.write(m,d)\ntime.sleep(30)'], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(() => void py.kill('SIGKILL'));
    const path = await new Promise<string>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const source = started(new SerialP1Source('serial', 'E1', { path, baudRate: 115_200, dataBits: 8, parity: 'none', stopBits: 1 }, undefined, c.sink));
    await until('the port to open', () => source.status().connected);
    py.stdin.end(Buffer.from(ALL, 'latin1'));
    await until('every telegram', () => c.samples.length === telegrams.length);
    expect(c.refused).toEqual([]);
    expect(c.samples.map((s) => s.sample.exportT1Wh)).toEqual(telegrams.map((t) => t.state.exportT1Wh));
  });

  it('file: paces a replay by the telegram timestamps (speed × real time) and ends', async () => {
    const t = tempDir('edge-source-file');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'p1.txt');
    writeFileSync(path, ALL.slice(0, ALL.indexOf('/', 1) * 5), 'latin1'); // 5 telegrams, 10 s apart
    const c = collector();
    const t0 = Date.now();
    const source = started(new FileP1Source('file', 'E1', path, 100, undefined, c.sink));
    await source.finished;
    const ms = Date.now() - t0;
    expect(c.samples).toHaveLength(5);
    expect(source.ended).toBe(true);
    // 40 s of telegrams at 100 × real time: 400 ms.
    expect(ms).toBeGreaterThanOrEqual(380);
    expect(ms).toBeLessThan(3_000);
  });
});

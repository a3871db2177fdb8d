import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseAgentConfig } from '../../src/edge/agent/config.js';
import { main } from '../../src/cli/main.js';
import { codeOf, tempDir } from './helpers.js';

const base = { db: '/tmp/x.db', node: 'http://127.0.0.1:26657', meters: [{ id: 'M1', key: 'm1' }], sources: [{ kind: 'file', meter: 'M1', path: 'p1.txt' }] };

describe('agent configuration', () => {
  it('fills the defaults (115200 8N1, status on 127.0.0.1:26680, dsmr-reader payload cap)', () => {
    const c = parseAgentConfig({ ...base, sources: [{ kind: 'serial', meter: 'M1', path: '/dev/ttyUSB0' }, { kind: 'mqtt', url: 'mqtt://127.0.0.1', topics: [{ topic: 'dsmr/json', meter: 'M1' }] }] });
    expect(c.sources[0]).toEqual({ kind: 'serial', meter: 'M1', path: '/dev/ttyUSB0', baudRate: 115_200, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(c.sources[1]).toMatchObject({ maxPayloadBytes: 4096 });
    expect(c.status).toEqual({ host: '127.0.0.1', port: 26680 });
    expect(c).toMatchObject({ closeAfterMs: 60_000, maxGapMs: 30_000, exitWhenDone: false, timezone: 'Europe/Amsterdam' });
  });

  it('refuses inconsistent configurations with EDGE_CONFIG_INVALID', () => {
    const bad = (patch: Record<string, unknown>) => codeOf(() => parseAgentConfig({ ...base, ...patch }));
    expect(bad({ sources: [{ kind: 'file', meter: 'M2', path: 'x' }] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ meters: [{ id: 'M1', key: 'a' }, { id: 'M1', key: 'b' }] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ meters: [{ id: 'M1', key: 'a' }, { id: 'M2', key: 'a' }] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ sources: [] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ node: 'ftp://x' })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ timezone: '+01:00' })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ sources: [{ kind: 'mqtt', url: 'mqtt://h', topics: [{ topic: 'dsmr/#', meter: 'M1' }] }] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ sources: [{ kind: 'serial', meter: 'M1', path: '/dev/x', parity: 'mark' }] })).toBe('EDGE_CONFIG_INVALID');
    expect(bad({ backoffBaseMs: 10, backoffMaxMs: 5 })).toBe('EDGE_CONFIG_INVALID');
  });
});

describe('gridledger edge (command line)', () => {
  const t = tempDir('edge-cli');
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => t.cleanup());

  async function run(args: string[]): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    const code = await main(['-o', 'json', '--home', t.dir, '--node', 'http://127.0.0.1:1', ...args]);
    return { code, stderr };
  }

  it('explains what is missing, as one JSON error', async () => {
    expect(JSON.parse((await run(['edge', '--p1-file', 'x'])).stderr).error.code).toBe('EDGE_CONFIG_INVALID');
    expect(JSON.parse((await run(['--from', 'k', 'edge', '--meter', 'M1'])).stderr).error.message).toMatch(/at least one source/);
    expect(JSON.parse((await run(['edge', '--meter', 'M1', '--p1-file', 'x'])).stderr).error.message).toMatch(/--from KEY/);
    expect(JSON.parse((await run(['--from', 'k', 'edge', '--meter', 'M1', '--p1-tcp', 'nohost'])).stderr).error.message).toMatch(/HOST:PORT/);
    const exit = await run(['--from', 'k', 'edge', '--meter', 'M1', '--mqtt', 'mqtt://h', '--exit-when-done']);
    expect(exit.code).toBe(1);
    expect(JSON.parse(exit.stderr).error.code).toBe('KEY_NOT_FOUND');
    expect(JSON.parse((await run(['verify', 'samples', '--meter', 'M1', '--to', '5'])).stderr).error.code).toBe('EDGE_BAD_OPTION');
  });

  it('reads a building configuration from YAML', async () => {
    const path = join(t.dir, 'agent.yaml');
    writeFileSync(path, 'db: edge.db\nmeters:\n  - id: M1\n    key: nokey\nsources:\n  - kind: file\n    meter: M2\n    path: p1.txt\n');
    const res = await run(['edge', '--config', path]);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stderr).error).toMatchObject({ code: 'EDGE_CONFIG_INVALID', message: expect.stringMatching(/M2/) });
  });
});

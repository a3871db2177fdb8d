import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeCpuProfile, summarizeHeapProfile, type CpuProfile, type HeapProfile } from '../../bench/profile-summary.js';

/** The profile tools of BENCHMARKS.md ("Profiles"): bench/profile-summary.ts and bench/alloc-sampling.mjs. */

const frame = (functionName: string, line = 0) => ({ functionName, url: 'file:///x/bench/a.js', lineNumber: line });

/** root → main → { work → leaf, (idle) }: samples given as node ids with their time deltas (µs). */
function cpuProfile(samples: Array<[id: number, us: number]>): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 5] },
      { id: 2, callFrame: frame('main'), children: [3] },
      { id: 3, callFrame: frame('work'), children: [4] },
      { id: 4, callFrame: frame('leaf') },
      { id: 5, callFrame: frame('(idle)') },
    ],
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, us]) => us),
  };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('profile summaries', () => {
  it('gives self time by default, inclusive time for matching frames, and the part under a frame', () => {
    const p = cpuProfile([[4, 300], [3, 100], [2, 50], [5, 1000]]);
    const self = summarizeCpuProfile(p);
    expect(self.total).toBe(1450);
    expect(self.rows.map((r) => [r.label, r.amount])).toEqual([
      ['(idle) bench/a.js:1', 1000],
      ['leaf bench/a.js:1', 300],
      ['work bench/a.js:1', 100],
      ['main bench/a.js:1', 50],
    ]);
    const incl = summarizeCpuProfile(p, { incl: /^(main|work) / });
    expect(incl.rows.map((r) => [r.label.split(' ')[0], r.amount])).toEqual([['main', 450], ['work', 400]]);
    const under = summarizeCpuProfile(p, { under: /^work / });
    expect(under.total).toBe(400);
    expect(under.rows.map((r) => r.label.split(' ')[0])).toEqual(['leaf', 'work']);
  });

  it('finds the window with the least idle time', () => {
    // 0–3 ms idle, then 2 ms of work, then idle again: a 2-ms window holds only the work.
    const p = cpuProfile([[5, 1000], [5, 1000], [5, 1000], [4, 1000], [3, 1000], [5, 1000], [5, 1000]]);
    const s = summarizeCpuProfile(p, { busiestUs: 1500 });
    expect(s.total).toBe(2000);
    expect(s.windowStartUs).toBe(3000);
    expect(s.rows.map((r) => r.label.split(' ')[0])).toEqual(['leaf', 'work']);
  });

  it('sums allocated bytes of a heap profile by function, self or inclusive', () => {
    const p: HeapProfile = {
      head: { callFrame: frame('(root)'), selfSize: 0, children: [{ callFrame: frame('outer'), selfSize: 10, children: [{ callFrame: frame('inner'), selfSize: 90 }] }] },
    };
    expect(summarizeHeapProfile(p).rows.map((r) => [r.label.split(' ')[0], r.amount])).toEqual([['inner', 90], ['outer', 10]]);
    expect(summarizeHeapProfile(p, { incl: /^outer / }).rows).toEqual([{ label: 'outer bench/a.js:1', amount: 100 }]);
  });

  it('reads a real --cpu-prof profile: a busy function comes first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-cpuprof-'));
    dirs.push(dir);
    const script = 'function spinHere(){let x=0;const end=Date.now()+400;while(Date.now()<end)x+=Math.sqrt(x+1);return x}spinHere()';
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    const s = summarizeCpuProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, { incl: /^spinHere / });
    expect(s.rows[0]?.label).toMatch(/^spinHere /);
    expect(s.rows[0]!.amount).toBeGreaterThan(200_000);
  });

  it('the allocation sampler writes what a function allocated between two signals, freed objects included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-allocprof-'));
    dirs.push(dir);
    // Allocates ~100 MB of short-lived arrays in allocateHere; nothing survives, so only a profile
    // that counts collected objects can show it.
    const script = `
      function allocateHere(){let keep=0;for(let i=0;i<200000;i++){const a=new Array(64).fill(i);keep+=a.length}return keep}
      process.on('message',(m)=>{ if(m==='go'){allocateHere();process.send('done')} });
      process.send('ready');`;
    const child = spawn(process.execPath, ['--import', resolve('bench/alloc-sampling.mjs'), '-e', script], {
      env: { ...process.env, GRIDLEDGER_ALLOC_PROFILE_DIR: dir },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const logged = (text: string) =>
      new Promise<void>((res) => {
        const check = () => (stderr.includes(text) ? res() : setTimeout(check, 20));
        check();
      });
    try {
      const next = () => new Promise<unknown>((res) => child.once('message', res));
      expect(await next()).toBe('ready');
      child.kill('SIGUSR2');
      await logged('alloc-sampling: sampling');
      child.send('go');
      expect(await next()).toBe('done');
      child.kill('SIGUSR2');
      await logged('alloc-sampling: wrote');
    } finally {
      child.kill('SIGKILL');
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.heapprofile'))!;
    const s = summarizeHeapProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as HeapProfile, { incl: /^allocateHere / });
    expect(s.rows[0]?.label).toMatch(/^allocateHere /);
    expect(s.rows[0]!.amount).toBeGreaterThan(20e6);
  });
});

/** Determinism lint for src/consensus: no clock, randomness, environment, floats or number division. */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '../../src/consensus');
/** The one file allowed to divide, and only bigints (exact). */
const DIVISION_ALLOWED = new Set(['intmath.ts']);

/** Blanks out comments and string/template literal contents so only code is inspected. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/.*$/gm, ' ')
    .replace(/'(?:\\.|[^'\\\n])*'/g, "''")
    .replace(/`(?:\\.|[^`\\])*`/g, '``');
}

export function determinismProblems(file: string, source: string): string[] {
  const code = codeOnly(source);
  const rules: [RegExp, string][] = [
    [/\bDate\b/, 'Date'],
    [/\bMath\.random\b/, 'Math.random'],
    [/\bperformance\b/, 'performance'],
    [/\bprocess\.env\b/, 'process.env'],
    [/\bsetTimeout\b|\bsetInterval\b/, 'timers'],
    [/(?<![\w.])\d+\.\d+(?![\w.])|\b\d+e-?\d+\b/, 'float literal'],
    [/\bMath\.(?:floor|ceil|round|trunc|sqrt|pow)\b/, 'float Math'],
  ];
  if (!DIVISION_ALLOWED.has(file)) rules.push([/[\w)\]]\s*\/(?![/*])/, 'division']);
  return rules.filter(([re]) => re.test(code)).map(([, name]) => `${file}: ${name}`);
}

describe('determinism lint (src/consensus)', () => {
  it('finds no forbidden construct in any consensus source file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('engine.ts');
    const problems = files.flatMap((f) => determinismProblems(f, readFileSync(join(DIR, f), 'utf8')));
    expect(problems).toEqual([]);
  });

  it('flags each forbidden construct (the lint is not vacuous)', () => {
    expect(determinismProblems('x.ts', 'const t = Date.now();')).toEqual(['x.ts: Date']);
    expect(determinismProblems('x.ts', 'const r = Math.random();')).toContain('x.ts: Math.random');
    expect(determinismProblems('x.ts', 'const v = process.env.X;')).toEqual(['x.ts: process.env']);
    expect(determinismProblems('x.ts', 'const h = 1.5 * k;')).toEqual(['x.ts: float literal']);
    expect(determinismProblems('x.ts', 'const q = a / b;')).toEqual(['x.ts: division']);
    expect(determinismProblems('intmath.ts', 'const q = a / b;')).toEqual([]);
    expect(determinismProblems('x.ts', "// Date.now() in a comment\nconst s = 'a / b 1.5';")).toEqual([]);
    expect(determinismProblems('x.ts', 'const re = /^[0-9a-f]{64}$/;')).toEqual([]);
  });
});

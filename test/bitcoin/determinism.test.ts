import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * The pure half of src/bitcoin is called by the ledger's state machine, so it must obey the same
 * determinism rules as src/modules (no clock, randomness, environment, floats, "/", I/O). The
 * project's lint applies them by folder; this test applies them to these files too.
 */
const PURE_FILES = ['bytes', 'checkpoint', 'errors', 'header', 'index', 'inclusion', 'merkle', 'network', 'tx', 'verify'].map((f) => `src/bitcoin/${f}.ts`);

describe('pure Bitcoin library obeys the ledger determinism rules', () => {
  it('eslint with the modules\' determinism rules reports nothing', async () => {
    // The project's flat config (plain JS, no types): the entry that applies the rules to src/modules.
    const projectConfig: unknown = (await import(new URL('../../eslint.config.js', import.meta.url).href)).default;
    const moduleEntry = (projectConfig as { files?: string[]; rules?: Record<string, unknown> }[]).find((c) => c.files?.includes('src/modules/**/*.ts'));
    expect(moduleEntry?.rules?.['no-restricted-syntax']).toBeDefined();
    const eslint = new ESLint({
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      overrideConfigFile: true,
      overrideConfig: [tseslint.configs.base, { files: ['**/*.ts'], rules: moduleEntry!.rules as never }] as never,
    });
    const results = await eslint.lintFiles(PURE_FILES);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(results).toHaveLength(PURE_FILES.length);
    expect(problems).toEqual([]);
    // Control: the same setup does flag a clock read and a division.
    const [control] = await eslint.lintText('export const t = Date.now() / 2;\n', { filePath: 'src/bitcoin/control.ts' });
    expect(control!.messages.map((m) => m.ruleId).sort()).toEqual(['no-restricted-globals', 'no-restricted-syntax']);
  });
});

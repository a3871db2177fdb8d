import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../foundation/cli-helpers.js';

/**
 * A throwaway project with this repository's launcher and build scripts (bin/gridledger.mjs,
 * compiled-cli.mjs, dist.mjs, build.mjs) and a one-file CLI whose main() prints which file ran, which source version it was built
 * from and its arguments — to test what the launcher runs (dist/ or the sources) without the real CLI.
 */
export class OneFileProject {
  readonly root: string;
  readonly mainTs: string;

  constructor(prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.mainTs = join(this.root, 'src', 'cli', 'main.ts');
    mkdirSync(join(this.root, 'bin'));
    for (const f of ['gridledger.mjs', 'compiled-cli.mjs', 'dist.mjs', 'build.mjs']) cpSync(join(REPO, 'bin', f), join(this.root, 'bin', f));
    mkdirSync(join(this.root, 'src', 'cli'), { recursive: true });
    writeFileSync(join(this.root, 'package.json'), JSON.stringify({ name: 'x', type: 'module' }));
    symlinkSync(join(REPO, 'node_modules'), join(this.root, 'node_modules'));
    this.writeMain('v1');
  }

  /** The CLI's source at `version`. */
  writeMain(version: string): void {
    writeFileSync(this.mainTs, `export async function main(args: string[]): Promise<number> {\n  const v: string = '${version}';\n  console.log(JSON.stringify({ url: import.meta.url, version: v, args }));\n  return 0;\n}\n`);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

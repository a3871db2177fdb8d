// `node:module` for the browser build. Shared code loads a few CommonJS packages on first use with
// createRequire (src/zk/poseidon.ts: Poseidon's round constants cost the CLI ~80 ms at start-up);
// the page bundles them and hands them out here. Any other package is not available in the browser.
import * as poseidon1 from 'poseidon-lite/poseidon1';
import * as poseidon2 from 'poseidon-lite/poseidon2';

const BUNDLED: Record<string, unknown> = { 'poseidon-lite/poseidon1': poseidon1, 'poseidon-lite/poseidon2': poseidon2 };

export function createRequire(_from: string | URL): (id: string) => unknown {
  return (id) => {
    if (!(id in BUNDLED)) throw new Error(`${id} is not bundled into the browser build (web/src/shims/node-module.ts)`);
    return BUNDLED[id];
  };
}
export default { createRequire };

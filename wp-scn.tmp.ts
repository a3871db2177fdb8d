import { buildModulesScenario } from './test/web/modules-scenario.js';
const t = Date.now();
const s = await buildModulesScenario();
console.log('ms', Date.now() - t, JSON.stringify({ ...s, node: undefined, carolStatement: undefined }).slice(0, 2000));
await s.node.cleanup();

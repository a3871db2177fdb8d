export * from './types.js';
export * from './engine.js';
export * from './wal.js';
export { floorDiv, hasOneThird, hasTwoThirds } from './intmath.js';

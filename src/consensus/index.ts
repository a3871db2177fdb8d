export * from './messages.js';
export * from './validators.js';
export * from './commit.js';
export * from './evidence.js';
export * from './engine.js';
export * from './wal.js';
export { floorDiv, hasOneThird, hasTwoThirds } from './intmath.js';

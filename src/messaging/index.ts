export * from './errors.js';
export * from './params.js';
export * from './envelope.js';
export * from './stamp.js';
export * from './seal.js';
export * from './check.js';
export * from './pool.js';
export * from './node.js';
export { messagingRoutes } from './routes.js';

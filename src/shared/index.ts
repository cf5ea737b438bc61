export * from './errors.js';
export * from './json.js';
export * from './limits.js';
export * from './clock.js';
export * from './ids.js';
export * from './logger.js';
export * from './secrets.js';
export * from './storable.js';

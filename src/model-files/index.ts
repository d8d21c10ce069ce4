export * from './catalog.js';
export * from './cache.js';
export * from './errors.js';
export * from './pull.js';
export * from './install.js';

export * from './types.js';
export * from './ids.js';
export * from './environment.js';
export * from './run.js';
export * from './runs.js';
export * from './compare.js';

export * from './types.js';
export * from './errors.js';
export * from './gate.js';
export * from './registry.js';
export * from './from-run.js';
export * from './model-card.js';
export * from './model-card-markdown.js';

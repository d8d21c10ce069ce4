export * from './confusion.js';
export * from './ks-test.js';
export * from './psi.js';
export * from './quantiles.js';
export * from './roc-auc.js';
export * from './round.js';

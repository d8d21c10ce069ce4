// Preloaded with `node --require` (a process and every worker thread it starts): onnxruntime-node's native binding
// cannot be found, as on a platform whose binaries the package does not ship. Its JavaScript loads as usual and
// then fails where it would there: at `require('onnxruntime-node')`. Nothing else changes.
'use strict';
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/onnxruntime_binding\.node$/.test(request)) {
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};

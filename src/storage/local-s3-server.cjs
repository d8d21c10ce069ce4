'use strict';
// The local S3 server (s3rver) in a process of its own, started by local-s3.ts: s3rver is unmaintained and its
// dependencies have published vulnerabilities, so it never runs inside the serving process. It gets its settings
// as JSON in argv[2], answers over IPC with { ready: {address, port} } or { error }, and exits when its parent
// goes away (the IPC channel closes) or on SIGTERM.

const fs = require('node:fs');

function send(message) {
  if (process.send) process.send(message);
}

/** Exit once the message has left (an exit right after process.send can lose it). */
function fail(error) {
  if (!process.send) process.exit(1);
  process.send({ error }, () => process.exit(1));
}

let S3rver;
try {
  S3rver = require('s3rver');
} catch (err) {
  fail(`the optional package s3rver is not installed (${err.message.split('\n')[0]}): npm install s3rver, or point AREYOUACAT_S3_ENDPOINT at an S3 server`);
  return;
}

const opts = JSON.parse(process.argv[2]);
fs.mkdirSync(opts.dir, { recursive: true });
const server = new S3rver({
  address: opts.host,
  port: opts.port,
  directory: opts.dir,
  silent: true,
  configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
});
// s3rver's own listen() never settles when the port is taken (the error is emitted, not passed on):
// listen through its callback form and turn the server's 'error' event into a rejection.
const listen = server.listen.bind(server);
server.listen = (...args) =>
  new Promise((resolve, reject) => {
    const srv = listen(...args, () => resolve(srv));
    srv.once('error', reject);
  });

let closing = false;
function stop() {
  if (closing) return;
  closing = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

server.run().then(
  (address) => send({ ready: { address: address.address, port: address.port } }),
  (err) => fail(err.message),
);

// Docker HEALTHCHECK for the Vigil image: exit 0 when what runs in the container is ready.
// A service is ready when it answers /readyz with 200; the stand-ins when their status page answers.
// The port comes from HTTP_PORT (STANDINS_STATUS_PORT), else from what PID 1 runs: the entrypoint
// starts each service from /app/apps/<service>, so PID 1's working folder names the service.
'use strict';
const { readFileSync, readlinkSync } = require('node:fs');
const http = require('node:http');
const { basename } = require('node:path');

const DEFAULT_PORTS = { ingest: 8081, correlation: 8082, 'siem-forwarder': 8083, 'alert-router': 8084, soar: 8085 };

function read(fn) {
  try {
    return fn();
  } catch {
    return '';
  }
}

const cmdline = read(() => readFileSync('/proc/1/cmdline', 'utf8')).split('\0');
let port;
let path = '/readyz';
if (cmdline.includes('standins')) {
  port = Number(process.env.STANDINS_STATUS_PORT || 9399);
  path = '/status';
} else {
  const service = process.env.SERVICE || basename(read(() => readlinkSync('/proc/1/cwd')));
  port = Number(process.env.HTTP_PORT || DEFAULT_PORTS[service] || 0);
}
if (!port) {
  console.error('healthcheck: nothing to check (set HTTP_PORT)');
  process.exit(1);
}
const req = http.get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));

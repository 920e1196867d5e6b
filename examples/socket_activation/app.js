// A socket-activated HTTP app: it binds nothing itself.
//
// arbor (or systemd) binds the address in `listen` once and hands the same
// listening socket to every run as fd 3 (LISTEN_FDS=1, LISTEN_PID=<our pid>),
// so a crashed or replaced run never leaves the port closed: connections wait
// in the socket's queue until a run accepts them.
//
// GET /health -> "ok"; GET / -> which pid answered. On SIGTERM: stop
// accepting, finish the requests in flight, exit 0.

'use strict';
const http = require('http');

const SD_LISTEN_FDS_START = 3;

if (process.env.LISTEN_PID !== String(process.pid) || Number(process.env.LISTEN_FDS || 0) < 1) {
  console.error('app.js: no socket handed on (run it from arbor with `listen`)');
  process.exit(1);
}
for (const key of ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES']) delete process.env[key];

const server = http.createServer((req, res) => {
  const reply = (status, text) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.method !== 'GET') return reply(405, 'method not allowed\n');
  if (req.url === '/health') return reply(200, 'ok\n');
  if (req.url === '/') return reply(200, `hello from node pid ${process.pid}\n`);
  return reply(404, 'not found\n');
});

server.listen({ fd: SD_LISTEN_FDS_START }, () => {
  console.log(`node pid ${process.pid} serving on fd ${SD_LISTEN_FDS_START}`);
});

process.on('SIGTERM', () => {
  // close() stops accepting (our copy of the socket: the others keep it) and
  // calls back once every connection has ended; idle keep-alive ones end now.
  server.close(() => {
    console.log(`node pid ${process.pid} stopped`);
    process.exit(0);
  });
  server.closeIdleConnections();
});

#!/usr/bin/env python3
"""A socket-activated HTTP app: it binds nothing itself.

arbor (or systemd) binds the address in `listen` once and hands the same
listening socket to every run as fd 3 (LISTEN_FDS=1, LISTEN_PID=<our pid>),
so a crashed or replaced run never leaves the port closed: connections wait
in the socket's queue until a run accepts them.

GET /health -> "ok"; GET / -> which pid answered. On SIGTERM: stop
accepting, finish the requests in flight, exit 0.
"""

import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SD_LISTEN_FDS_START = 3


def inherited_socket():
    """The first socket handed by the socket-activation protocol."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
        sys.exit("app.py: no socket handed on (run it from arbor with `listen`)")
    for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(key, None)  # not for our own children
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    # The socket is shared with the app's other runs: its blocking mode is
    # theirs too. accept() here waits in the server's own loop.
    sock.setblocking(True)
    return sock


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, "ok\n")
        elif self.path == "/":
            self.reply(200, "hello from python pid %d\n" % os.getpid())
        else:
            self.reply(404, "not found\n")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # one line per request would flood the app's log


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the requests in flight


def main():
    server = Server(("", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = inherited_socket()
    # shutdown() must not run on the thread inside serve_forever().
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("python pid %d serving on fd 3" % os.getpid(), flush=True)
    server.serve_forever()
    server.server_close()  # closes our copy of the socket only: the others keep accepting
    print("python pid %d stopped" % os.getpid(), flush=True)


if __name__ == "__main__":
    main()

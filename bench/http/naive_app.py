#!/usr/bin/env python3
"""The naive HTTP app of the zero-downtime bench (zero_downtime.sh).

What a new user writes: Python's threading HTTP server on one public port,
GET / says which pid answered, GET /health is 200. Its listening socket is
either arbor's (socket activation: LISTEN_FDS / LISTEN_PID, fd 3) or its own,
bound to 127.0.0.1:$APP_PORT with SO_REUSEPORT so that instances share it.
On SIGTERM it stops accepting, closes its listener, finishes the requests in
flight (keep-alive connections are told `Connection: close`) and exits 0.
"""

import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

closing = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = ("ok\n" if self.path == "/health" else f"pid {os.getpid()}\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if closing.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def inherited_socket():
    """fd 3 when arbor passed sockets to this very process, else None."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    if int(os.environ.get("LISTEN_FDS", "0")) < 1:
        return None
    return socket.socket(fileno=3)


def own_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", int(os.environ["APP_PORT"])))
    s.listen(1024)
    return s


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = inherited_socket() or own_socket()
    server.daemon_threads = False
    server.block_on_close = True

    def on_term(signum, frame):
        closing.set()
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, on_term)
    server.serve_forever(poll_interval=0.05)
    server.server_close()  # closes the listener, then joins the request threads
    return 0


if __name__ == "__main__":
    sys.exit(main())

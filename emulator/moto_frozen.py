#!/usr/bin/env python3
"""moto server under a clock the tests can move (moto cannot move time itself).

    moto_frozen.py <port> <clock-port> <start ISO-8601>

Serves moto on 127.0.0.1:<port>, with time frozen at <start> and ticking from there. A POST to
http://127.0.0.1:<clock-port>/clock with a body of an ISO-8601 time moves the clock there.
Stopped by its pid, like the plain moto server.
"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from freezegun import freeze_time

port, clock_port, start = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

# Freeze before moto is imported, so every datetime it takes is the movable one.
freezer = freeze_time(start, tick=True)
clock = freezer.start()

from moto.server import ThreadedMotoServer  # noqa: E402


class Clock(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        clock.move_to(body.strip())
        self.send_response(204)
        self.end_headers()


server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
ThreadingHTTPServer(("127.0.0.1", clock_port), Clock).serve_forever()

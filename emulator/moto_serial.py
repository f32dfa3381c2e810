#!/usr/bin/env python3
"""moto server answering one request at a time.

    moto_serial.py <port>

moto's own server is threaded, and its DynamoDB does not make a conditional write atomic across
threads: two concurrent writes with the same condition can both succeed, which DynamoDB never
allows. Served one request at a time, every write is atomic, as in AWS, and the tests of
concurrent invocations test this project's code, not the emulator's races.
"""
import os
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)

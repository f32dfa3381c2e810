#!/usr/bin/env python3
"""The same job's cold start as a Python boto3 custom runtime: boto3 imported and a session made,
then the first poll of the Runtime API. Its clients, like the Rust function's, are built at the
first event (BENCH_CLIENTS names them). Used only by cold_start.py for the side-by-side figure."""
import os
import urllib.request

import boto3

session = boto3.session.Session()
# The clients the first event would build (none is sent here), as the Rust function's would
# (remediate: ecs,dynamodb,sns).
CLIENTS = os.environ.get("BENCH_CLIENTS", "ecs,dynamodb,sns").split(",")

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next").read()

#!/usr/bin/env python3
"""The same job's cold start as a Python boto3 custom runtime: build the same clients, then poll
the Runtime API for the first event. Used only by cold_start.py for the side-by-side figure."""
import os
import urllib.request

import boto3

session = boto3.session.Session()
# The same clients as the Rust function being compared (remediate: ecs,dynamodb,sns).
clients = [session.client(name) for name in os.environ.get("BENCH_CLIENTS", "ecs,dynamodb,sns").split(",")]

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next").read()

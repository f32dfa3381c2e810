#!/usr/bin/env python3
"""The same job's cold start as a Python boto3 custom runtime: boto3 imported and a session made,
then the first poll of the Runtime API. Its clients, like the Rust function's, would be built at
the first event, which is never sent. Used only by cold_start.py for the side-by-side figure."""
import os
import urllib.request

import boto3

session = boto3.session.Session()

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next").read()

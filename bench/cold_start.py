#!/usr/bin/env python3
"""Benchmarks of the function binaries, as Lambda runs them (run by `make bench`).

- cold start: process spawn -> first Runtime API poll (configuration read; the SDK clients are
  built at the first event, by both programs) of each
  function, side by side in one run with (a) the same job as a Python boto3 custom runtime and
  (b) the floor: an empty Rust Lambda (`bench/floor`, lambda_runtime + tokio, no SDK), under the
  same Runtime API harness; each on two hosts' trust-store layouts: `SSL_CERT_FILE` set (as on
  Lambda's provided.al2023), and unset with the machine's populated certificate directory (a
  default Linux host). Medians over N runs, the three programs interleaved run by run;
- peak RSS of `remediate` while it handles every sample in events/ against moto;
- each stripped x86_64 binary's size (for comparison only: the 6 MiB budget is the deployed
  arm64 build's, which `.ci/deploy-path` checks; x86_64 code of the same job is larger).

Prints Markdown tables for the README, and whether the cold-start targets (>= 50x Python,
<= 1.5x the floor) are met.
"""
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
# `make release` (bench/build): x86_64, built as the Lambda zips are (not PIE, no unwind tables).
def bootstrap(binary):
    return TARGET / "lambda" / binary / "bootstrap"


BINARY = bootstrap("remediate")
FLOOR = bootstrap("floor")
FUNCTIONS = ("remediate", "snapshot", "maintenance", "certwatch", "backup", "drill")
VENV_PY = ROOT / ".venv" / "bin" / "python"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


class RuntimeApi(http.server.ThreadingHTTPServer):
    """A Lambda Runtime API that notes the first poll and serves queued events."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self._init_state()

    def handle_error(self, request, client_address):
        pass  # a process killed mid-request is how every run ends

    def _init_state(self):
        self.first_poll = None
        self.events = []
        self.answers = {}
        self.cv = threading.Condition()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.cv:
            if srv.first_poll is None:
                srv.first_poll = time.perf_counter()
                srv.cv.notify_all()
            while not srv.events:
                srv.cv.wait(timeout=30)
            rid, body = srv.events.pop(0)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:remediate")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        parts = self.path.split("/")
        srv = self.server
        with srv.cv:
            if len(parts) >= 6 and parts[3] == "invocation":
                srv.answers[parts[4]] = (parts[5], body)
            srv.cv.notify_all()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve():
    srv = RuntimeApi()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def base_env(api, endpoint):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "remediate",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "OPS_LEDGER_TABLE": "axiomcore-ops-ledger",
        "OPS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:axiomcore-ops",
        # backup's and drill's, as the template sets them.
        "OPS_BACKUP_BUCKET": "axiomcore-ops-backups",
        "OPS_BACKUP_KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000001",
        "OPS_BACKUP_HMAC_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000002",
        "AWS_LAMBDA_LOG_LEVEL": "warn",
    }


def trust_stores():
    """The two hosts: a bundle named by SSL_CERT_FILE, and a default host's certificate directory."""
    bundle = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    cert_dir = os.environ.get("SSL_CERT_DIR", "/etc/ssl/certs")
    return (
        ("SSL_CERT_FILE set", {"SSL_CERT_FILE": bundle}),
        ("no SSL_CERT_FILE", {"SSL_CERT_DIR": cert_dir}),
    )


def cold_start(cmd, env):
    api = serve()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server_address[1]}")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with api.cv:
        while api.first_poll is None and p.poll() is None:
            api.cv.wait(timeout=0.05)
    t1 = api.first_poll
    p.kill()
    p.wait()
    api.shutdown()
    if t1 is None:
        raise SystemExit(f"{cmd[0]} exited before polling (code {p.returncode})")
    return (t1 - t0) * 1000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def peak_rss_under_load():
    """Runs the binary over every sample against a seeded moto; returns VmHWM in MiB."""
    port = free_port()
    moto = subprocess.Popen([str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        seed = subprocess.run([str(VENV_PY), str(ROOT / "bench/seed.py"), endpoint], capture_output=True, text=True)
        if seed.returncode != 0:
            raise SystemExit(seed.stderr)
        api = serve()
        env = base_env(api, endpoint)
        p = subprocess.Popen([str(BINARY)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = sorted((ROOT / "events").glob("*.json"))
        ids = []
        with api.cv:
            for i, f in enumerate(samples * 5):
                rid = f"bench-{i}"
                ids.append(rid)
                api.events.append((rid, json.loads(f.read_text())))
            api.cv.notify_all()
        deadline = time.time() + 120
        with api.cv:
            while len(api.answers) < len(ids) and time.time() < deadline:
                api.cv.wait(timeout=0.5)
        status = Path(f"/proc/{p.pid}/status").read_text()
        hwm = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM"))
        p.kill()
        p.wait()
        api.shutdown()
        return hwm / 1024, len(api.answers), len(ids)
    finally:
        moto.kill()
        moto.wait()


def main():
    binaries = [bootstrap(name) for name in FUNCTIONS] + [FLOOR]
    for b in binaries:
        if not b.exists():
            raise SystemExit(f"{b} missing: run `make release` first")
    dummy = serve()
    env = base_env(dummy, "http://127.0.0.1:9")
    dummy.shutdown()
    print(f"Cold start, spawn -> first Runtime API poll, median of {RUNS} interleaved runs:\n")
    print("| function | host trust store | Rust | empty Rust Lambda (floor) | Python boto3 | × faster than Python (≥ 50) | × the floor (≤ 1.5) |")
    print("|---|---|---|---|---|---|---|")
    met = True
    for name in FUNCTIONS:
        binary = bootstrap(name)
        for host, extra in trust_stores():
            run_env = dict(env, AWS_LAMBDA_FUNCTION_NAME=name, **extra)
            rust, floor, py = [], [], []
            for _ in range(RUNS):
                rust.append(cold_start([str(binary)], run_env))
                floor.append(cold_start([str(FLOOR)], run_env))
                py.append(cold_start([str(VENV_PY), str(ROOT / "bench/python_bootstrap.py")], run_env))
            r, f, p = (statistics.median(x) for x in (rust, floor, py))
            met &= p / r >= 50 and r / f <= 1.5
            print(f"| `{name}` | {host} | {r:.2f} ms | {f:.2f} ms | {p:.1f} ms | {p / r:.0f}× | {r / f:.2f}× |")
    print("\n| binary (x86_64, as measured) | stripped size |")
    print("|---|---|")
    for b in binaries:
        print(f"| `{b.parent.name}` | {b.stat().st_size / (1024 * 1024):.2f} MiB |")
    rss, answered, sent = peak_rss_under_load()
    print(f"\n`remediate` peak RSS handling {answered}/{sent} events against moto: {rss:.1f} MiB")
    print(f"\ncold-start targets {'met' if met else 'NOT met'}: ≥ 50× Python and ≤ 1.5× the floor, on both hosts")
    print("(the 6 MiB size budget is the deployed arm64 build's: `.ci/deploy-path` checks it)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Idle connections and the event loop: what thousands of idle keep-alive connections cost everyone else, and the
trivial handler's throughput next to nginx.

1. Fresh-request latency: `seresnet serve` (the tiny test model; `GET /healthz` on a new connection each time, so the
   accept path and the loop are measured, not the model) with 0, 1,000 and 10,000 idle keep-alive connections open
   (each has made one request, then sits in the server's keep-alive state). The levels are visited up and back down
   in each of --rounds rounds (--requests requests each visit); p50 and p99 over all of a level's requests. The ratio
   to 0 idle is what the issue judges (p50 ≤ 1.2×, p99 ≤ 1.5× at 10,000). --tls runs the same over HTTPS (a self-signed P-256 certificate from the openssl CLI; the idle connections
   are TLS connections too). --baseline BIN measures another `seresnet` binary (e.g. one built from an older commit) in
   the same rounds, alternating.
2. Throughput (--throughput): `hey -c 64` on Benchmarks/HTTPBenchServer's trivial handler and on nginx with one worker
   answering `return 200` (on the same cores, alternating, --rounds rounds, medians); --baseline-http BIN adds another
   http-bench-server build.

  Benchmarks/bench-connections.py [--levels 0 1000 10000] [--requests 2000] [--rounds 3] [--tls] [--baseline BIN]
                                  [--throughput] [--seconds 10] [--baseline-http BIN]

Needs the release build (`swift build -c release`), python3, and for --throughput hey and nginx (Debian packages).
The client raises its own descriptor limit to the hard limit; 10,000 idle connections need about 10,100 on each side.
"""
import argparse
import gc
import os
import pathlib
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
from harness import BINARY, ServiceProcess, fixture, free_port  # noqa: E402

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"


def read_response(sock):
    """Reads one response with a Content-Length body; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return int(head.split(b" ", 2)[1])


class Client:
    def __init__(self, port, context):
        self.port, self.context = port, context

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.context.wrap_socket(sock, server_hostname="localhost") if self.context else sock

    def open_idle(self, count, into):
        """Opens `count` connections, each making one request, and keeps them in `into`."""
        for _ in range(count):
            sock = self.connect()
            sock.sendall(REQUEST)
            assert read_response(sock) == 200
            into.append(sock)

    def fresh_latencies(self, requests):
        latencies = []
        for _ in range(requests):
            start = time.perf_counter()
            sock = self.connect()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            status = read_response(sock)
            latencies.append((time.perf_counter() - start) * 1000)
            sock.close()
            assert status == 200, status
        return latencies


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def still_open(sockets):
    """How many idle connections the server has kept (a closed one reads EOF at once)."""
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            alive += 0 if sock.recv(1) == b"" else 1
        except (BlockingIOError, ssl.SSLWantReadError):
            alive += 1
        except OSError:
            pass
        sock.setblocking(True)
    return alive


def latency_rounds(args, binaries, certificate):
    model = fixture("tiny-seresnet")
    context = None
    if certificate:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    results = {name: {level: [] for level in args.levels} for name in binaries}
    for round_index in range(args.rounds):
        order = list(binaries) if round_index % 2 == 0 else list(reversed(binaries))
        for name in order:
            extra = ["--max-connections", str(max(args.levels) + 2000), "--keep-alive-timeout-s", "600"]
            if certificate:
                extra += ["--tls-cert", certificate[0], "--tls-key", certificate[1]]
            service = ServiceProcess.ready(binaries[name], model, *extra, ssl_context=context)
            try:
                client = Client(service.port, context)
                idle = []
                client.fresh_latencies(200)  # warm-up
                # Up through the levels, then down again (closing idle connections), so each level is measured
                # twice, early and late, and drift within the process (caches, clock) cancels out of the ratios.
                ascending = sorted(args.levels)
                for level in ascending + ascending[-2::-1]:
                    if level < len(idle):
                        for sock in idle[level:]:
                            sock.close()
                        del idle[level:]
                    client.open_idle(level - len(idle), idle)
                    # The client's own collector would otherwise walk 10,000 socket objects now and then, inside a
                    # measured request: frozen objects are never scanned.
                    gc.collect()
                    gc.freeze()
                    time.sleep(0.5)
                    latencies = client.fresh_latencies(args.requests)
                    kept = still_open(idle)
                    if kept != len(idle):
                        sys.exit(f"{name}: only {kept} of {len(idle)} idle connections were still open")
                    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                    results[name][level].append(latencies)
                    print(f"  round {round_index + 1} {name:>9} {level:>6} idle: p50 {p50:6.3f} ms  p99 {p99:6.3f} ms", flush=True)
                for sock in idle:
                    sock.close()
            finally:
                service.stop()
    return results


def self_signed(directory):
    key, certificate = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", certificate], check=True, capture_output=True)
    return certificate, key


def hey_rps(url, seconds, concurrency=64):
    output = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(concurrency), url], capture_output=True, text=True, check=True).stdout
    codes = dict((int(c), int(n)) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output))
    if set(codes) != {200}:
        sys.exit(f"{url}: answers {codes}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def throughput_rounds(args):
    servers = {"seresnet": ROOT / ".build" / "release" / "http-bench-server"}
    if args.baseline_http:
        servers["baseline"] = pathlib.Path(args.baseline_http)
    work = tempfile.mkdtemp(prefix="seresnet-nginx-")
    nginx_port = free_port()
    with open(os.path.join(work, "nginx.conf"), "w") as conf:
        conf.write(f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work}; uwsgi_temp_path {work}; scgi_temp_path {work};
    server {{ listen 127.0.0.1:{nginx_port}; location / {{ return 200 "ok\\n"; }} }}
}}
""")
    rates = {name: [] for name in [*servers, "nginx"]}
    for round_index in range(args.rounds):
        for name in (list(rates) if round_index % 2 == 0 else list(reversed(rates))):
            if name == "nginx":
                process = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work], stderr=subprocess.DEVNULL)
                url = f"http://127.0.0.1:{nginx_port}/"
            else:
                port = free_port()
                process = subprocess.Popen([str(servers[name]), str(port)], stdout=subprocess.DEVNULL)
                url = f"http://127.0.0.1:{port}/"
            try:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/"))), timeout=1).close()
                        break
                    except OSError:
                        time.sleep(0.05)
                rate = hey_rps(url, args.seconds)
                rates[name].append(rate)
                print(f"  round {round_index + 1} {name:>9}: {rate:9.0f} req/s", flush=True)
            finally:
                process.terminate()
                process.wait()
    shutil.rmtree(work, ignore_errors=True)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--baseline", help="another seresnet binary to measure alongside")
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--baseline-http", help="another http-bench-server binary for --throughput")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(args.levels) + 500 > hard:
        sys.exit(f"the hard descriptor limit ({hard}) is too low for {max(args.levels)} idle connections")
    info = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    print(f"CPU: {info.get('model name', '?')} (family {info.get('cpu family', '?')} model {info.get('model', '?')}), "
          f"{len(os.sched_getaffinity(0))} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")

    binaries = {"seresnet": str(BINARY)}
    if args.baseline:
        binaries["baseline"] = args.baseline
    with tempfile.TemporaryDirectory() as directory:
        certificate = self_signed(directory) if args.tls else None
        print(f"fresh GET /healthz latency{' over TLS' if args.tls else ''} with idle keep-alive connections open "
              f"({args.requests} requests a level, {args.rounds} rounds):")
        results = latency_rounds(args, binaries, certificate)
    print(f"\n{'server':>9} {'idle':>6} {'p50 ms':>8} {'p99 ms':>8} {'p50 ×':>7} {'p99 ×':>7}   "
          "(over every measurement of the level in every round; × = against 0 idle)")
    for name, levels in results.items():
        pooled = {level: [x for run in runs for x in run] for level, runs in levels.items()}
        base = pooled[min(pooled)]
        base50, base99 = percentile(base, 0.5), percentile(base, 0.99)
        for level, values in pooled.items():
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            print(f"{name:>9} {level:>6} {p50:8.3f} {p99:8.3f} {p50 / base50:7.2f} {p99 / base99:7.2f}")
    if args.throughput:
        print(f"\ntrivial handler, hey -c 64 -z {args.seconds}s ({args.rounds} rounds, alternating):")
        rates = throughput_rounds(args)
        nginx = statistics.median(rates["nginx"])
        for name, values in rates.items():
            rate = statistics.median(values)
            print(f"{name:>9}: {rate:9.0f} req/s  {rate / nginx:5.2f}× nginx")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`seresnet serve` inside a memory cgroup well below what unbounded buffering would need, under uploads that would
exhaust it: never OOM-killed, only 200/413/503 answers, its peak resident set under the limit.

The release binary serves the full-size synthetic SE-ResNet-50 in a cgroup this test makes (v2 `memory.max` where the
memory controller is on the unified hierarchy, else v1 `memory.limit_in_bytes`; no swap), limited to --limit-mib
(700 by default). --clients threads (32) then post, for --seconds (60): 50-megapixel JPEGs (baseline and progressive,
~9 MB is what a camera makes; these are upscaled photos), a JPEG padded to exactly the body limit (16 MiB) and a body
one byte over it. Checked: every answer is 200, 413 or 503 (with Retry-After), at least one 50-MP image and one
body-limit upload were classified, the process is alive and answers /healthz afterwards, the cgroup saw no OOM kill,
and the process's peak resident set (VmHWM) stayed under the limit. Prints the budget the server logged and the
figures.

Needs root (to make the cgroup) and the release build; python3 with Pillow.

  Tests/system/test-memory-limit.py [--limit-mib 700] [--clients 32] [--seconds 60] [--binary PATH]
"""
import argparse
import collections
import http.client
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
from harness import BINARY, ServiceProcess, fixture  # noqa: E402

BODY_LIMIT = 16 << 20


class Cgroup:
    """A memory cgroup of its own, v2 or v1, removed on exit."""

    def __init__(self, limit):
        name = f"seresnet-memory-test-{os.getpid()}"
        unified = pathlib.Path("/sys/fs/cgroup")
        if (unified / "cgroup.controllers").exists() and "memory" in (unified / "cgroup.controllers").read_text().split():
            self.version, self.path = 2, unified / name
            self.path.mkdir()
            (self.path / "memory.max").write_text(str(limit))
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
        else:
            self.version, self.path = 1, pathlib.Path("/sys/fs/cgroup/memory") / name
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
            swap = self.path / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limit))

    def oom_kills(self):
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in (self.path / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self):
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def images(directory):
    """The uploads: 50-MP baseline and progressive JPEGs, one padded to the body limit, one over it."""
    photo = Image.open(fixture("images") / "astronaut-restart.jpg").convert("RGB")
    large = photo.resize((8640, 5760), Image.BICUBIC)  # 49.8 MP: just under the default --max-pixels
    bodies = {}
    for name, options in (("50mp-baseline", {}), ("50mp-progressive", {"progressive": True})):
        buffer = io.BytesIO()
        large.save(buffer, "JPEG", quality=95, **options)
        bodies[name] = buffer.getvalue()
    small = (fixture("images") / "cat-444.jpg").read_bytes()
    bodies["at-body-limit"] = small + b"\0" * (BODY_LIMIT - len(small))  # bytes after EOI: libjpeg ignores them
    bodies["over-body-limit"] = b"\xff\xd8" + b"\0" * (BODY_LIMIT - 1)
    for name, body in bodies.items():
        (directory / f"{name}.jpg").write_bytes(body)
        print(f"  {name}: {len(body) / 1e6:.1f} MB")
    return bodies


def peak_resident(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-mib", type=int, default=700)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--binary", default=str(BINARY), help="the seresnet to test (default: the release build)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("test-memory-limit: needs root to make a memory cgroup")
    limit = args.limit_mib << 20
    work = pathlib.Path(tempfile.mkdtemp(prefix="seresnet-memory-"))
    model = work / "model"
    subprocess.run([args.binary, "synth-weights", "--out", str(model), "--preset", "seresnet50", "--seed", "7"], check=True,
                   capture_output=True)
    print("uploads:")
    bodies = images(work)
    cgroup = Cgroup(limit)
    print(f"cgroup v{cgroup.version} {cgroup.path}: limit {args.limit_mib} MiB")
    # The server joins the cgroup before it execs, so everything it ever allocates is charged there.
    wrapper = work / "in-cgroup.sh"
    wrapper.write_text(f'#!/bin/sh\necho $$ > {cgroup.path}/cgroup.procs && exec {args.binary} "$@"\n')
    wrapper.chmod(0o755)
    service = ServiceProcess.ready(wrapper, model, "--max-body-bytes", str(BODY_LIMIT))
    failures = []
    try:
        budget = next((e for e in service.log_entries() if e.get("message", "").startswith("memory budget")), {})
        print("server's budget: " + ", ".join(f"{k} {v}" for k, v in budget.items() if k.endswith("mib") or k.startswith("largest")))
        answers = collections.Counter()
        refusals = collections.Counter()
        lock = threading.Lock()
        deadline = time.time() + args.seconds
        names = list(bodies)

        def client(index):
            turn = index
            while time.time() < deadline:
                name = names[turn % len(names)]
                turn += 1
                connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=120)
                try:
                    connection.request("POST", "/classify", body=bodies[name], headers={"Content-Type": "image/jpeg"})
                    response = connection.getresponse()
                    body = response.read()
                    outcome = response.status
                    if outcome == 503 and response.getheader("Retry-After") is None:
                        outcome = "503 without Retry-After"
                    elif outcome == 503:
                        with lock:
                            refusals[(name, json.loads(body)["error"]["code"])] += 1
                except (ConnectionError, http.client.HTTPException, OSError) as error:
                    # A 413 or 503 sent before the whole body was read may reset the rest of the upload: the answer
                    # was given (the server reads on briefly, then closes). Anything else is a failure.
                    outcome = f"connection: {type(error).__name__}"
                finally:
                    connection.close()
                with lock:
                    answers[(name, outcome)] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print("answers (upload, status): " + ", ".join(f"{n} {s}: {c}" for (n, s), c in sorted(answers.items(), key=str)))
        print("503s (upload, code): " + ", ".join(f"{n} {code}: {c}" for (n, code), c in sorted(refusals.items())))
        alive = service.process.poll() is None
        peak = peak_resident(service.process.pid) if alive else 0
        kills = cgroup.oom_kills()
        print(f"process alive: {alive}; peak resident {peak >> 20} MiB of {args.limit_mib} MiB; OOM kills in the cgroup: {kills}")
        unexpected = {key: count for key, count in answers.items() if key[1] not in (200, 413, 503)}
        resets = sum(c for (n, s), c in answers.items() if str(s).startswith("connection"))
        answered = sum(c for (n, s), c in answers.items() if not str(s).startswith("connection"))
        # Resets are tolerated only for uploads the server refused early (it closes after a 413 or a body-budget 503);
        # a reset of an upload it was reading would be a crash or a hang, which the checks below catch.
        if {k: c for k, c in unexpected.items() if not str(k[1]).startswith("connection")}:
            failures.append(f"answers other than 200/413/503: {unexpected}")
        if resets > answered // 4:
            failures.append(f"{resets} connection errors against {answered} answers")
        if not answers[("50mp-baseline", 200)]:
            failures.append("no 50-megapixel image was classified")
        if not answers[("at-body-limit", 200)]:
            failures.append("no upload at the body limit was classified")
        if answers[("over-body-limit", 200)]:
            failures.append("a body over the limit was accepted")
        if not alive or kills:
            failures.append(f"the server was killed (alive {alive}, OOM kills {kills})")
        elif service.get("/healthz")[0] != 200:
            failures.append("/healthz does not answer after the load")
        if peak >= limit:
            failures.append(f"peak resident {peak} ≥ limit {limit}")
    finally:
        if service.process.poll() is None:
            service.stop()
        cgroup.remove()
        subprocess.run(["rm", "-rf", str(work)])
    if failures:
        sys.exit("test-memory-limit FAILED: " + "; ".join(failures))
    print("test-memory-limit: passed")


if __name__ == "__main__":
    main()

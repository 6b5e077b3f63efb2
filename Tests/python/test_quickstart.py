"""The README's quick start, run as written: scripts/quickstart.sh builds, finds the hub unreachable (here
forced with HF_ENDPOINT pointing at a closed port), falls back to synthetic weights, and serves."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from harness import ROOT, fixture


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_port(log_text):
    """The port from serve's JSON "listening" line (PORT=0 lets the kernel pick one: no race for a free port)."""
    for line in log_text.splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "listening":
                return int(entry["port"])
    return None


def test_quickstart_serves_with_the_synthetic_fallback(tmp_path):
    closed = free_port()
    env = dict(os.environ, PORT="0", HF_ENDPOINT=f"http://127.0.0.1:{closed}", SERESNET_MODEL_DIR=str(tmp_path / "seresnet50"),
               SERESNET_HOST="127.0.0.1")
    log = open(tmp_path / "quickstart.log", "w")
    process = subprocess.Popen([str(ROOT / "scripts" / "quickstart.sh")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 600
        while True:
            assert process.poll() is None, (tmp_path / "quickstart.log").read_text()
            port = listening_port((tmp_path / "quickstart.log").read_text(errors="replace"))
            try:
                if port is None:
                    raise OSError("not listening yet")
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "quickstart did not become ready"
            time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/classify", data=(fixture("images/cat-444.jpg")).read_bytes())
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert len(body["predictions"]) == 5 and body["model"].startswith("seresnet50.synthetic")
        assert "serving seeded RANDOM weights" in (tmp_path / "quickstart.log").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0

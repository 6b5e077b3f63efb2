"""What every Python test, system test and benchmark shares: where the repository, its fixtures and the release binary
are, a free loopback port, and one way to start and stop `seresnet serve`. Scripts outside Tests/python import it
after `sys.path.insert(0, str(ROOT / "Tests" / "python"))`."""
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"
BINARY = pathlib.Path(os.environ.get("SERESNET_BINARY", ROOT / ".build" / "release" / "seresnet"))


class MissingFixture(FileNotFoundError):
    """A file of Tests/Fixtures is not there: the repository's test data is incomplete."""


def fixture(relative_path):
    """The path of a file or directory under Tests/Fixtures, or MissingFixture naming it."""
    path = FIXTURES / relative_path
    if not path.exists():
        raise MissingFixture(f"test fixture Tests/Fixtures/{relative_path} is missing: the repository's test data is "
                             "incomplete (cd Tests/Fixtures && sha256sum -c SHA256SUMS)")
    return path


def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """A real `seresnet serve` on loopback; its JSON log lines go to a file (a temporary one unless `log_path`).

    With `port=0` (the default) the server picks a port and the harness reads it from the "listening" log line; with
    a fixed port (a load balancer's configuration names it) that line is not needed, so any --log-level works.
    `start()` runs it again on the same port and log, as a restart does."""

    def __init__(self, binary, model, *extra_args, env=None, ssl_context=None, port=0, log_path=None, start=True):
        self.ssl_context = ssl_context  # set: the server speaks HTTPS (its --tls-* arguments are in extra_args)
        self.binary, self.model, self.extra_args, self.requested_port = binary, model, list(extra_args), port
        self.own_log = log_path is None
        self.log_path = log_path or tempfile.NamedTemporaryFile(prefix="seresnet-serve-", suffix=".log", delete=False).name
        # The server's own settings come only from the caller: a developer's exported SERESNET_* or OTEL_* (DCT scaling,
        # kernels, threads…) must not change what the tests check.
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith(("SERESNET_", "OTEL_"))}
        self.environment.update(env or {})
        self.process = None
        self.port = port or None  # known now when fixed; read from the log on start when 0
        if start:
            self.start()

    def start(self, extra_args=None):
        """Starts the process (again, after it has exited) and waits until it listens."""
        if extra_args is not None:
            self.extra_args = list(extra_args)
        log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "serve", "--model", str(self.model), "--host", "127.0.0.1",
                 "--port", str(self.requested_port), *self.extra_args],
                stdout=subprocess.DEVNULL, stderr=log, env=self.environment)
        try:
            self.port = self.requested_port or self._wait_for_port(log_offset)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    @classmethod
    def ready(cls, binary, model, *extra_args, **options):
        """Starts the server and waits until /readyz is 200; stops it again if that fails."""
        service = cls(binary, model, *extra_args, **options)
        try:
            service.wait_ready()
        except BaseException:
            service.stop()
            raise
        return service

    def _wait_for_port(self, log_offset, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for entry in self.log_entries(log_offset):
                if entry.get("message") == "listening":
                    return int(entry["port"])
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log_text()}")
            time.sleep(0.02)
        raise TimeoutError("serve did not report its port")

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_entries(self, offset=0):
        """The JSON log lines from byte `offset` on."""
        entries = []
        with open(self.log_path) as f:
            f.seek(offset)
            for line in f:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    pass
        return entries

    def wait_for_log(self, message, timeout=30, after=0):
        """Waits for a log line with this message (e.g. "draining" once SIGTERM has been handled) among the entries
        from index `after` on, and returns the last such entry."""
        deadline = time.time() + timeout
        while True:
            found = [e for e in self.log_entries()[after:] if e.get("message") == message]
            if found:
                return found[-1]
            if time.time() > deadline:
                raise TimeoutError(f"no {message!r} log line within {timeout} s: " + self.log_text())
            time.sleep(0.02)

    def terminate_and_wait_for_draining(self):
        """Sends SIGTERM and returns once the server has flipped readiness (its "draining" line)."""
        self.process.send_signal(signal.SIGTERM)
        self.wait_for_log("draining")

    def wait_ready(self, timeout=30, interval=0.02):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log_text()}")
            try:
                if self.get("/readyz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(interval)
        raise TimeoutError("not ready: " + self.log_text())

    def connection(self, timeout=60):
        if self.ssl_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path, headers=None, timeout=60):
        connection = self.connection(timeout)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post(self, path, body, headers=None):
        connection = self.connection()
        try:
            connection.request("POST", path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self, timeout=40):
        """SIGTERM, then SIGKILL after `timeout` s (0: SIGKILL at once); removes a temporary log. Returns the exit
        status."""
        if self.process is None:
            return None
        if self.process.poll() is None and timeout == 0:
            self.process.kill()
            self.process.wait()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.own_log and os.path.exists(self.log_path):
            os.unlink(self.log_path)
        return self.process.returncode

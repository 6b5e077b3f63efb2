"""Starts `seresnet serve` on a free loopback port and stops it; shared by the live-server tests."""
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time


class ServiceProcess:
    """A real `seresnet serve` process; its JSON log lines go to a temporary file."""

    def __init__(self, binary, model, *extra_args, env=None, ssl_context=None):
        self.ssl_context = ssl_context  # set: the server speaks HTTPS (its --tls-* arguments are in extra_args)
        self.log = tempfile.NamedTemporaryFile(prefix="seresnet-serve-", suffix=".log", delete=False)
        # The server's own settings come only from the test: a developer's exported SERESNET_* (DCT scaling,
        # kernels, threads…) must not change what the tests check.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SERESNET_")}
        environment.update(env or {})
        self.process = subprocess.Popen([str(binary), "serve", "--model", str(model), "--host", "127.0.0.1", "--port", "0", *extra_args],
                                        stdout=subprocess.DEVNULL, stderr=self.log, env=environment)
        try:
            self.port = self._wait_for_port()
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

    def _wait_for_port(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for entry in self.log_entries():
                if entry.get("message") == "listening":
                    return int(entry["port"])
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {open(self.log.name).read()}")
            time.sleep(0.02)
        raise TimeoutError("serve did not report its port")

    def log_entries(self):
        entries = []
        with open(self.log.name) as f:
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
                raise TimeoutError(f"no {message!r} log line within {timeout} s: " + open(self.log.name).read())
            time.sleep(0.02)

    def terminate_and_wait_for_draining(self):
        """Sends SIGTERM and returns once the server has flipped readiness (its "draining" line)."""
        self.process.send_signal(signal.SIGTERM)
        self.wait_for_log("draining")

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise TimeoutError("not ready: " + open(self.log.name).read())

    def connection(self, timeout=60):
        if self.ssl_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path, headers=None):
        connection = self.connection()
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

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.unlink(self.log.name)
        return self.process.returncode

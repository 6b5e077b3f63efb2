"""A stand-in for the Hugging Face hub on loopback, for testing weights/fetch.py without the network.

It answers the two requests a hub client makes, with the hub's headers:

* the hub (127.0.0.1): `HEAD|GET /{repo}/resolve/{revision}/{file}`. For an LFS file: 302 to the CDN, with
  `X-Repo-Commit`, `X-Linked-Etag: "<sha256>"`, `X-Linked-Size` (and an unrelated weak ETag, as the redirect
  answer has). For a plain git file: 200 with `ETag: "<git blob sha1>"`. 401 without the right token when
  one is required; 404 for an unknown repository, revision or file.
* the CDN (127.0.0.2, a different host, so a client must drop `Authorization` on the redirect):
  `GET /lfs/{sha256}` with `Range`/`If-Range` support and `ETag: "<sha256>"`.

Faults, set on the instance between runs: `corrupt` (file names served with one byte flipped but the true
headers), `cut` (file name → list of byte counts: each GET of that file sends its full Content-Length and then
drops the connection after that many bytes, one list entry per GET), `ignore_range` (answer every range with
a plain 200). Every request is recorded in `requests` as (host, method, path, headers).
"""
import hashlib
import http.server
import re
import socket
import threading
import urllib.parse


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class StandInHub:
    def __init__(self, repos, commits, lfs=("model.safetensors",), token=None):
        """`repos`: repo id → {file name: bytes}; `commits`: repo id → 40-hex commit id of its `main`."""
        self.repos, self.commits, self.lfs, self.token = repos, commits, set(lfs), token
        self.blobs = {hashlib.sha256(data).hexdigest(): (name, data)
                      for files in repos.values() for name, data in files.items() if name in self.lfs}
        self.corrupt, self.cut, self.ignore_range = set(), {}, False
        self.requests = []
        self.lock = threading.Lock()
        self.servers = []

    def __enter__(self):
        self.hub = self.serve("127.0.0.1", self.hub_answer)
        self.cdn = self.serve("127.0.0.2", self.cdn_answer)
        self.endpoint = f"http://127.0.0.1:{self.hub.server_address[1]}"
        self.cdn_base = f"http://127.0.0.2:{self.cdn.server_address[1]}"
        return self

    def __exit__(self, *exc):
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def serve(self, host, answer):
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                stand_in.record(host, self)
                answer(self, head=True)

            def do_GET(self):
                stand_in.record(host, self)
                answer(self, head=False)

        server = http.server.ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.servers.append(server)
        return server

    def record(self, host, handler):
        with self.lock:
            self.requests.append((host, handler.command, handler.path, dict(handler.headers.items())))

    def requests_to(self, host, method=None):
        return [r for r in self.requests if r[0] == host and (method is None or r[1] == method)]

    @staticmethod
    def plain(handler, status, text, headers=()):
        body = text.encode()
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def hub_answer(self, handler, head):
        match = re.fullmatch(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>[^?]+)", handler.path)
        if not match:
            return self.plain(handler, 404, "Entry not found", [("X-Error-Code", "EntryNotFound")])
        repo, revision, name = match["repo"], urllib.parse.unquote(match["revision"]), match["file"]
        if self.token is not None and handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self.plain(handler, 401, "Invalid credentials in Authorization header",
                              [("X-Error-Code", "GatedRepo" if repo in self.repos else "RepoNotFound")])
        if repo not in self.repos:
            return self.plain(handler, 404, "Repository not found", [("X-Error-Code", "RepoNotFound")])
        commit = self.commits[repo]
        if revision not in ("main", commit):
            return self.plain(handler, 404, "Invalid rev id", [("X-Error-Code", "RevisionNotFound")])
        if name not in self.repos[repo]:
            return self.plain(handler, 404, "Entry not found", [("X-Error-Code", "EntryNotFound")])
        data = self.repos[repo][name]
        if name in self.lfs:
            sha256 = hashlib.sha256(data).hexdigest()
            return self.plain(handler, 302, "Found. Redirecting", [
                ("Location", f"{self.cdn_base}/lfs/{sha256}?X-Amz-Signature=stand-in"),
                ("X-Repo-Commit", commit), ("X-Linked-Etag", f'"{sha256}"'), ("X-Linked-Size", str(len(data))),
                ("ETag", 'W/"redirect-answer-not-the-object"'), ("Accept-Ranges", "bytes")])
        self.send_object(handler, name, data, f'"{git_blob_sha1(data)}"', head, [("X-Repo-Commit", commit)])

    def cdn_answer(self, handler, head):
        match = re.fullmatch(r"/lfs/(?P<sha>[0-9a-f]{64})(\?.*)?", handler.path)
        if not match or match["sha"] not in self.blobs:
            return self.plain(handler, 404, "NoSuchKey")
        if "Authorization" in handler.headers:  # as a presigned object store would: two auth mechanisms
            return self.plain(handler, 400, "Only one auth mechanism allowed")
        name, data = self.blobs[match["sha"]]
        self.send_object(handler, name, data, f'"{match["sha"]}"', head, [])

    def send_object(self, handler, name, data, etag, head, extra):
        if name in self.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        wanted = handler.headers.get("Range")
        if_range = handler.headers.get("If-Range")
        if wanted and not self.ignore_range and (if_range is None or if_range == etag):
            match = re.fullmatch(r"bytes=(\d+)-", wanted)
            if match:
                start = int(match[1])
                if start >= len(data):
                    return self.plain(handler, 416, "Range Not Satisfiable", [("Content-Range", f"bytes */{len(data)}")])
        body = data[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", etag)
        handler.send_header("Accept-Ranges", "bytes")
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        for key, value in extra:
            handler.send_header(key, value)
        handler.end_headers()
        if head:
            return
        with self.lock:
            cuts = self.cut.get(name) or []
            limit = cuts.pop(0) if cuts else None
        if limit is None:
            handler.wfile.write(body)
            return
        handler.wfile.write(body[:limit])
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

#!/usr/bin/env python3
"""Download a timm SE-ResNet checkpoint (model.safetensors + config.json) from the Hugging Face hub.

    weights/fetch.py [--repo timm/seresnet50.a1_in1k] [--revision main] [--out weights/seresnet50]

Speaks the hub's plain HTTP protocol the way its own clients do, with the Python standard library only:

* Endpoint from HF_ENDPOINT (default https://huggingface.co); token from HF_TOKEN, else the file at
  HF_TOKEN_PATH, else $HF_HOME/token (default ~/.cache/huggingface/token), sent as `Authorization: Bearer`
  to the hub only (dropped when a redirect leaves the hub's host, e.g. to the LFS CDN).
* A HEAD on `{endpoint}/{repo}/resolve/{revision}/{file}` (redirects not followed, as huggingface_hub does)
  gives the commit (X-Repo-Commit), the object's hash (X-Linked-Etag for LFS files: their SHA-256;
  ETag otherwise: the git blob SHA-1) and size (X-Linked-Size / Content-Length). Both files are then
  downloaded from that commit, so they always belong together.
* Bytes go to `.{file}.{hash}.incomplete` beside the target. An interrupted download is resumed with
  `Range` + `If-Range` (within the same run up to --retries times, or by running the tool again); a server
  that answers the range with 200 restarts it from zero. Only a file whose size and hash match what the
  hub reported is renamed (atomically) to its final name; a mismatch after a resume is retried once from
  scratch, a mismatch on a fresh download is an error and the bad bytes are deleted. A final file is never
  half-written and an existing good one is never replaced by a bad one.
* Writes `SHA256SUMS` (`sha256sum -c` format) and `SOURCE` (repo, revision, commit) into the output directory.
* HF_HUB_OFFLINE=1: no network; checks the files already there against SHA256SUMS instead.

Exit status: 0 on success, 1 on any failure (message on stderr), 2 on bad usage.
"""
import argparse
import hashlib
import http.client
import os
import pathlib
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FILES = ("model.safetensors", "config.json")
DEFAULT_REPO = "timm/seresnet50.a1_in1k"
DEFAULT_ENDPOINT = "https://huggingface.co"
USER_AGENT = "seresnet-fetch-weights/1 (python-urllib)"
CHUNK = 1 << 20
MAX_REDIRECTS = 10


class FetchError(Exception):
    """A failure the user can act on; printed without a traceback."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, so that the token is dropped when the host changes."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def truthy(value):
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def read_token():
    """HF_TOKEN, else the token file huggingface_hub's login writes; None when there is neither."""
    token = os.environ.get("HF_TOKEN", "").strip()
    if token:
        return token
    path = os.environ.get("HF_TOKEN_PATH") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "token")
    try:
        return pathlib.Path(path).read_text().strip() or None
    except OSError:
        return None


def clean_etag(value):
    """`W/"abc"` / `"abc"` → `abc`, as huggingface_hub normalises ETags."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def request(url, method, token, hub_host, headers=None, timeout=60.0):
    """Opens `url`, following redirects by hand; Authorization only while on the hub's host.

    Returns (response, final_url) for 2xx answers; raises urllib.error.HTTPError for the others. A HEAD
    is not followed to another host: that redirect answer is returned as is, because its headers carry the
    LFS metadata (huggingface_hub's metadata request does the same).
    """
    for _ in range(MAX_REDIRECTS + 1):
        req = urllib.request.Request(url, method=method)
        req.add_header("User-Agent", USER_AGENT)
        req.add_header("Accept-Encoding", "identity")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        if token and urllib.parse.urlsplit(url).netloc == hub_host:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            response = OPENER.open(req, timeout=timeout)
            return response, url
        except urllib.error.HTTPError as error:
            if error.code not in (301, 302, 303, 307, 308) or not error.headers.get("Location"):
                raise
            target = urllib.parse.urljoin(url, error.headers["Location"])
            if method == "HEAD" and urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(url).netloc:
                return error, url  # the hub's redirect to its CDN: the metadata is on this answer
            error.close()
            url = target
    raise FetchError(f"more than {MAX_REDIRECTS} redirects for {url}")


def describe_http_error(error, url):
    if error.code == 401:
        return f"{url}: 401 Unauthorized (set HF_TOKEN for a gated or private repository, or check the repository name)"
    if error.code == 403:
        return f"{url}: 403 Forbidden (the token has no access to this repository; accept its conditions on the hub)"
    if error.code == 404:
        return f"{url}: 404 Not Found (check --repo and --revision, and that the repository has this file)"
    return f"{url}: HTTP {error.code} {error.reason}"


class Remote:
    """What the hub says about one file: hash, size, and the commit it belongs to."""

    def __init__(self, name, url, commit, etag, size):
        self.name, self.url, self.commit, self.etag, self.size = name, url, commit, etag, size

    @property
    def is_lfs_sha256(self):
        return self.etag is not None and len(self.etag) == 64 and all(c in "0123456789abcdef" for c in self.etag)

    @property
    def is_git_sha1(self):
        return self.etag is not None and len(self.etag) == 40 and all(c in "0123456789abcdef" for c in self.etag)


class Fetcher:
    def __init__(self, endpoint, repo, revision, out, token, retries, timeout, log):
        self.endpoint = endpoint.rstrip("/")
        self.repo, self.revision, self.out = repo, revision, pathlib.Path(out)
        self.token, self.retries, self.timeout, self.log = token, retries, timeout, log
        self.hub_host = urllib.parse.urlsplit(self.endpoint).netloc
        self.resumed = False

    def resolve_url(self, revision, name):
        return f"{self.endpoint}/{self.repo}/resolve/{urllib.parse.quote(revision, safe='')}/{name}"

    def metadata(self, name, revision):
        url = self.resolve_url(revision, name)
        try:
            response, _ = request(url, "HEAD", self.token, self.hub_host, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            raise FetchError(describe_http_error(error, url)) from None
        except (urllib.error.URLError, OSError) as error:
            raise FetchError(f"{url}: {getattr(error, 'reason', error)}") from None
        with response:
            headers = response.headers
            etag = clean_etag(headers.get("X-Linked-Etag") or headers.get("ETag"))
            size = headers.get("X-Linked-Size") or headers.get("Content-Length")
            commit = headers.get("X-Repo-Commit")
        if etag is None:
            raise FetchError(f"{url}: the server sent no ETag/X-Linked-Etag, so the download cannot be verified")
        etag = etag.lower()
        return Remote(name, url, commit, etag, int(size) if size and size.isdigit() else None)

    def verify(self, path, remote):
        """None when the file at `path` is the object the hub described, else the reason it is not."""
        actual = path.stat().st_size
        if remote.size is not None and actual != remote.size:
            return f"size {actual} bytes, the hub reports {remote.size}"
        if remote.is_lfs_sha256:
            digest = sha256_of(path)
            if digest != remote.etag:
                return f"SHA-256 {digest}, the hub reports {remote.etag}"
        elif remote.is_git_sha1:
            digest = git_blob_sha1_of(path)
            if digest != remote.etag:
                return f"git blob SHA-1 {digest}, the hub reports {remote.etag}"
        else:
            raise FetchError(f"{remote.url}: ETag {remote.etag!r} is neither a SHA-256 (LFS) nor a git blob SHA-1")
        return None

    def download(self, remote):
        """Downloads `remote` into the output directory, resuming a partial file if there is one."""
        final = self.out / remote.name
        if final.exists() and self.verify(final, remote) is None:
            self.log(f"{remote.name}: up to date ({remote.etag})")
            return final
        partial = self.out / f".{remote.name}.{remote.etag}.incomplete"
        for stale in self.out.glob(f".{remote.name}.*.incomplete"):
            if stale != partial:
                stale.unlink()
        url = self.resolve_url(remote.commit or self.revision, remote.name)
        attempt, restarted = 0, False
        while True:
            try:
                self.transfer(url, remote, partial)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                if isinstance(error, urllib.error.HTTPError) and error.code not in (408, 429, 500, 502, 503, 504):
                    raise FetchError(describe_http_error(error, url)) from None
                attempt += 1
                have = partial.stat().st_size if partial.exists() else 0
                if attempt > self.retries:
                    raise FetchError(f"{remote.name}: download interrupted ({error}); {have} bytes kept in "
                                     f"{partial}, run again to resume") from None
                self.log(f"{remote.name}: interrupted after {have} bytes ({error}); resuming (retry {attempt}/{self.retries})")
                time.sleep(min(2 ** (attempt - 1), 10) * 0.5)
                continue
            problem = self.verify(partial, remote)
            if problem is None:
                break
            partial.unlink()
            if restarted or not self.resumed:
                raise FetchError(f"{remote.name}: downloaded file rejected: {problem}; nothing was kept")
            self.log(f"{remote.name}: resumed file does not verify ({problem}); downloading again from scratch")
            restarted = True
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, final)
        fsync_dir(self.out)
        self.log(f"{remote.name}: {final.stat().st_size} bytes, verified ({remote.etag})")
        return final

    def transfer(self, url, remote, partial):
        """One GET, appending to `partial` from its current size; sets self.resumed."""
        offset = partial.stat().st_size if partial.exists() else 0
        if remote.size is not None and offset > remote.size:
            partial.unlink()
            offset = 0
        headers = {}
        if offset:
            headers = {"Range": f"bytes={offset}-", "If-Range": f'"{remote.etag}"'}
        try:
            response, _ = request(url, "GET", self.token, self.hub_host, headers=headers, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            if error.code == 416 and offset:
                error.close()
                partial.unlink()  # the partial is not a prefix of this object: start over on the next attempt
                raise http.client.HTTPException("range not satisfiable, restarting") from None
            raise
        with response:
            if offset and response.status == 206:
                start = parse_content_range_start(response.headers.get("Content-Range"))
                if start != offset:
                    partial.unlink()
                    raise http.client.HTTPException(f"server resumed at byte {start}, not {offset}; restarting")
                mode, self.resumed = "ab", True
                self.log(f"{remote.name}: resuming at byte {offset}")
            else:
                if offset:
                    self.log(f"{remote.name}: server does not resume (HTTP {response.status}); restarting from zero")
                mode, self.resumed = "wb", False
            expected = response.headers.get("Content-Length")
            received = 0
            with open(partial, mode) as handle:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    handle.write(chunk)
                    received += len(chunk)
            if expected is not None and expected.isdigit() and received < int(expected):
                raise http.client.IncompleteRead(b"", int(expected) - received)
        have = partial.stat().st_size
        if remote.size is not None and have < remote.size:
            raise http.client.IncompleteRead(b"", remote.size - have)  # connection closed early, no Content-Length

    def run(self):
        self.out.mkdir(parents=True, exist_ok=True)
        remotes, commit = [], None
        for name in FILES:
            # The first file pins the commit; the second is asked for at that commit, so both always match.
            remote = self.metadata(name, commit or self.revision)
            commit = commit or remote.commit
            remotes.append(remote)
        if remotes[0].is_git_sha1:
            self.log(f"warning: {remotes[0].name} is not stored in LFS; verifying it by its git blob SHA-1")
        for remote in remotes:
            self.download(remote)
        sums = "".join(f"{sha256_of(self.out / name)}  {name}\n" for name in FILES)
        write_atomically(self.out / "SHA256SUMS", sums)
        write_atomically(self.out / "SOURCE", f"repo={self.repo}\nrevision={self.revision}\ncommit={commit or 'unknown'}\n"
                                              f"endpoint={self.endpoint}\n")
        self.log(f"wrote {self.out}/SHA256SUMS and {self.out}/SOURCE ({self.repo}@{commit or self.revision})")


def parse_content_range_start(value):
    try:
        unit, spec = value.split(" ", 1)
        return int(spec.split("-", 1)[0]) if unit == "bytes" else None
    except (AttributeError, ValueError):
        return None


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_blob_sha1_of(path):
    """The id git gives the file's content: SHA-1 of `blob <size>\\0<bytes>` (the hub's ETag for non-LFS files)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path, text):
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_offline(out, log):
    """HF_HUB_OFFLINE: verify what is already there against SHA256SUMS."""
    sums = out / "SHA256SUMS"
    if not sums.exists():
        raise FetchError(f"HF_HUB_OFFLINE is set and {sums} does not exist: nothing to check, and no network allowed")
    for line in sums.read_text().splitlines():
        expected, name = line.split(None, 1)
        path = out / name.lstrip("*")
        if not path.exists():
            raise FetchError(f"HF_HUB_OFFLINE is set and {path} is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise FetchError(f"{path}: SHA-256 {actual}, SHA256SUMS says {expected}")
        log(f"{name}: OK (offline check against SHA256SUMS)")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="weights/fetch.py",
        description="Download a timm SE-ResNet checkpoint (model.safetensors + config.json) from the Hugging Face "
                    "hub, verified against the hub's hashes. Honours HF_ENDPOINT, HF_TOKEN (or HF_TOKEN_PATH / "
                    "HF_HOME's token file), HF_HUB_OFFLINE and HF_HUB_DOWNLOAD_TIMEOUT.")
    parser.add_argument("--repo", default=DEFAULT_REPO, help=f"hub repository (default {DEFAULT_REPO})")
    parser.add_argument("--revision", default="main", help="branch, tag or commit (default main)")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "seresnet50"),
                        help="directory to write (default: seresnet50/ beside this script)")
    parser.add_argument("--retries", type=int, default=5,
                        help="resume attempts after a dropped connection within one run (default 5)")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    args = parser.parse_args(argv)
    if args.retries < 0:
        parser.error("--retries must be >= 0")
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    out = pathlib.Path(args.out)
    try:
        if truthy(os.environ.get("HF_HUB_OFFLINE")):
            check_offline(out, log)
            return 0
        timeout = float(os.environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 60)
        endpoint = os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        log(f"fetching {args.repo}@{args.revision} from {endpoint.rstrip('/')} into {out}")
        Fetcher(endpoint, args.repo, args.revision, out, read_token(), args.retries, timeout, log).run()
    except FetchError as error:
        print(f"fetch.py: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fetch.py: interrupted; run again to resume", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""weights/fetch.py against a stand-in Hugging Face hub on loopback (Tests/python/hub_standin.py).

Covers: a fresh download verified against X-Linked-Etag (LFS) and the git blob SHA-1 ETag (config.json),
SHA256SUMS in `sha256sum -c` format, both files pinned to one commit, the token sent to the hub and never to
the CDN host, 401/404 reported, a corrupted download rejected (nothing kept, a good existing file untouched),
a dropped connection resumed within one run and across runs with Range/If-Range, a server that ignores
ranges, a stale or corrupt partial file, an up-to-date directory left alone, HF_HUB_OFFLINE, and a fetched
timm checkpoint loaded by the release binary.
"""
import hashlib
import os
import random
import subprocess
import sys

import pytest

from harness import ROOT, fixture
from hub_standin import StandInHub, git_blob_sha1

FETCH = ROOT / "weights" / "fetch.py"
REPO = "timm/seresnet50.a1_in1k"
OTHER = "timm/seresnet50.ra2_in1k"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
MODEL = random.Random(6).randbytes(3 * 1024 * 1024 + 12345)  # > 3 read chunks, odd size
CONFIG = b'{\n  "architecture": "seresnet50",\n  "num_classes": 1000\n}\n'
OTHER_MODEL = random.Random(7).randbytes(200_000)
OTHER_CONFIG = b'{"architecture": "seresnet50", "pretrained_cfg": {"tag": "ra2_in1k"}}\n'


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hub():
    repos = {REPO: {"model.safetensors": MODEL, "config.json": CONFIG},
             OTHER: {"model.safetensors": OTHER_MODEL, "config.json": OTHER_CONFIG}}
    with StandInHub(repos, {REPO: COMMIT, OTHER: OTHER_COMMIT}) as stand_in:
        yield stand_in


def fetch(hub, out, *args, token=None, offline=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_ENDPOINT"] = hub.endpoint
    env["HF_HOME"] = str(out.parent / "hf-home")  # no stray token file from the machine
    if token is not None:
        env["HF_TOKEN"] = token
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, str(FETCH), "--out", str(out), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def partials(out):
    return sorted(p.name for p in out.glob(".*.incomplete"))


def test_fresh_download_is_verified_and_recorded(hub, tmp_path):
    out = tmp_path / "seresnet50"
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert (out / "model.safetensors").read_bytes() == MODEL
    assert (out / "config.json").read_bytes() == CONFIG
    assert (out / "SHA256SUMS").read_text() == f"{sha256(MODEL)}  model.safetensors\n{sha256(CONFIG)}  config.json\n"
    assert f"commit={COMMIT}" in (out / "SOURCE").read_text()
    assert partials(out) == []
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # Metadata from `main`, downloads pinned to the commit it resolved to, LFS bytes from the CDN host.
    hub_gets = [path for _, _, path, _ in hub.requests_to("127.0.0.1", "GET")]
    assert hub_gets == [f"/{REPO}/resolve/{COMMIT}/model.safetensors", f"/{REPO}/resolve/{COMMIT}/config.json"]
    assert len(hub.requests_to("127.0.0.2", "GET")) == 1


def test_token_goes_to_the_hub_only(hub, tmp_path):
    hub.token = "hf_secret"
    denied = fetch(hub, tmp_path / "a")
    assert denied.returncode == 1
    assert "401" in denied.stderr and "HF_TOKEN" in denied.stderr
    assert not (tmp_path / "a" / "model.safetensors").exists()
    hub.requests.clear()
    result = fetch(hub, tmp_path / "b", token="hf_secret")
    assert result.returncode == 0, result.stderr
    assert all(h.get("Authorization") == "Bearer hf_secret" for _, _, _, h in hub.requests_to("127.0.0.1"))
    assert hub.requests_to("127.0.0.2") and all("Authorization" not in h for _, _, _, h in hub.requests_to("127.0.0.2"))


def test_token_file_under_hf_home_is_used(hub, tmp_path):
    hub.token = "hf_from_file"
    (tmp_path / "hf-home").mkdir()
    (tmp_path / "hf-home" / "token").write_text("hf_from_file\n")
    result = fetch(hub, tmp_path / "out")
    assert result.returncode == 0, result.stderr


def test_other_repo_and_unknown_names(hub, tmp_path):
    result = fetch(hub, tmp_path / "ra2", "--repo", OTHER)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ra2" / "model.safetensors").read_bytes() == OTHER_MODEL
    assert f"repo={OTHER}" in (tmp_path / "ra2" / "SOURCE").read_text()
    pinned = fetch(hub, tmp_path / "pinned", "--revision", COMMIT)
    assert pinned.returncode == 0, pinned.stderr
    missing = fetch(hub, tmp_path / "missing", "--repo", "timm/no-such-model")
    assert missing.returncode == 1 and "404" in missing.stderr
    bad_revision = fetch(hub, tmp_path / "rev", "--revision", "v9")
    assert bad_revision.returncode == 1 and "404" in bad_revision.stderr and "--revision" in bad_revision.stderr


def test_corrupted_download_is_rejected(hub, tmp_path):
    out = tmp_path / "seresnet50"
    hub.corrupt = {"model.safetensors"}
    result = fetch(hub, out)
    assert result.returncode == 1
    assert "rejected" in result.stderr and sha256(MODEL) in result.stderr
    assert not (out / "model.safetensors").exists()
    assert not (out / "SHA256SUMS").exists()
    assert partials(out) == []


def test_corrupted_update_keeps_the_good_file(hub, tmp_path):
    out = tmp_path / "seresnet50"
    assert fetch(hub, out).returncode == 0
    (out / "model.safetensors").write_bytes(MODEL[:-1] + b"\0")  # damaged on disk
    hub.corrupt = {"model.safetensors"}
    assert fetch(hub, out).returncode == 1
    hub.corrupt = set()
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert (out / "model.safetensors").read_bytes() == MODEL


def test_corrupted_plain_git_file_is_rejected(hub, tmp_path):
    hub.corrupt = {"config.json"}
    result = fetch(hub, tmp_path / "out")
    assert result.returncode == 1
    assert "git blob SHA-1" in result.stderr and git_blob_sha1(CONFIG) in result.stderr
    assert not (tmp_path / "out" / "config.json").exists()


def test_dropped_connection_resumes_within_one_run(hub, tmp_path):
    out = tmp_path / "seresnet50"
    hub.cut = {"model.safetensors": [1_000_000, 700_000]}
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert (out / "model.safetensors").read_bytes() == MODEL
    ranges = [h.get("Range") for _, _, _, h in hub.requests_to("127.0.0.2", "GET")]
    assert ranges == [None, "bytes=1000000-", "bytes=1700000-"]
    assert all(h.get("If-Range") == f'"{sha256(MODEL)}"' for _, _, _, h in hub.requests_to("127.0.0.2", "GET")[1:])
    assert "resuming at byte 1700000" in result.stderr


def test_interrupted_run_leaves_no_final_file_and_next_run_resumes(hub, tmp_path):
    out = tmp_path / "seresnet50"
    hub.cut = {"model.safetensors": [1_500_000]}
    first = fetch(hub, out, "--retries", "0")
    assert first.returncode == 1 and "run again to resume" in first.stderr
    assert not (out / "model.safetensors").exists()
    partial = out / f".model.safetensors.{sha256(MODEL)}.incomplete"
    assert partials(out) == [partial.name] and partial.stat().st_size == 1_500_000
    hub.requests.clear()
    second = fetch(hub, out)
    assert second.returncode == 0, second.stderr
    assert [h.get("Range") for _, _, _, h in hub.requests_to("127.0.0.2", "GET")] == ["bytes=1500000-"]
    assert (out / "model.safetensors").read_bytes() == MODEL
    assert partials(out) == []


def test_server_ignoring_ranges_restarts_from_zero(hub, tmp_path):
    out = tmp_path / "seresnet50"
    hub.cut = {"model.safetensors": [500_000]}
    hub.ignore_range = True
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert "restarting from zero" in result.stderr
    assert (out / "model.safetensors").read_bytes() == MODEL


def test_corrupt_partial_file_is_restarted(hub, tmp_path):
    out = tmp_path / "seresnet50"
    out.mkdir()
    (out / f".model.safetensors.{sha256(MODEL)}.incomplete").write_bytes(b"\xee" * 4096)  # not a prefix of the object
    (out / ".model.safetensors.0000.incomplete").write_bytes(b"stale partial of another version")
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert "downloading again from scratch" in result.stderr
    assert (out / "model.safetensors").read_bytes() == MODEL
    assert partials(out) == []


def test_up_to_date_directory_is_not_downloaded_again(hub, tmp_path):
    out = tmp_path / "seresnet50"
    assert fetch(hub, out).returncode == 0
    hub.requests.clear()
    result = fetch(hub, out)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stderr
    assert [r[1] for r in hub.requests] == ["HEAD", "HEAD"]


def test_offline_mode_checks_local_files_only(hub, tmp_path):
    out = tmp_path / "seresnet50"
    missing = fetch(hub, out, offline=True)
    assert missing.returncode == 1 and "HF_HUB_OFFLINE" in missing.stderr
    assert fetch(hub, out).returncode == 0
    hub.requests.clear()
    assert fetch(hub, out, offline=True).returncode == 0
    assert hub.requests == []
    (out / "config.json").write_bytes(b"{}")
    damaged = fetch(hub, out, offline=True)
    assert damaged.returncode == 1 and "SHA256SUMS says" in damaged.stderr


def test_fetched_timm_checkpoint_loads_in_the_binary(binary, tmp_path):
    tiny = fixture("tiny-seresnet")
    files = {"model.safetensors": (tiny / "model.safetensors").read_bytes(), "config.json": (tiny / "config.json").read_bytes()}
    with StandInHub({REPO: files}, {REPO: COMMIT}) as stand_in:
        out = tmp_path / "seresnet50"
        result = fetch(stand_in, out)
        assert result.returncode == 0, result.stderr
    bench = subprocess.run([str(binary), "bench", "--model", str(out), "--iterations", "1", "--warmup", "0", "--threads", "1"],
                           capture_output=True, text=True, timeout=120)
    assert bench.returncode == 0, bench.stderr
    assert sha256(files["model.safetensors"]) in bench.stdout + bench.stderr

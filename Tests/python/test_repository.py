"""The repository stands alone: its fixtures are complete and unchanged (SHA256SUMS), nothing it tracks reaches
outside it, and the service's label list is the fixtures' ImageNet class list. scripts/test.sh runs this first."""
import hashlib
import subprocess

import pytest

from harness import FIXTURES, ROOT

DATA_FOLDERS = ("images", "golden", "tiny-seresnet")


def manifest():
    entries = {}
    for line in (FIXTURES / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        entries[path.lstrip("*")] = digest
    return entries


def test_every_fixture_matches_its_sha256():
    wrong = [path for path, digest in manifest().items()
             if not (FIXTURES / path).is_file() or hashlib.sha256((FIXTURES / path).read_bytes()).hexdigest() != digest]
    assert not wrong, f"fixtures missing or changed (Tests/Fixtures/README.md says how they are made): {wrong}"


def test_every_fixture_is_in_the_manifest():
    present = {str(p.relative_to(FIXTURES)) for folder in DATA_FOLDERS for p in (FIXTURES / folder).rglob("*") if p.is_file()}
    assert present - set(manifest()) == set(), "fixtures not listed in Tests/Fixtures/SHA256SUMS"


def tracked_files():
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_nothing_tracked_reaches_outside_the_repository():
    # Spelled in pieces so this file does not name them itself.
    forbidden = [b"../" + b"shared", b"SHARED_" + b"FIXTURES"]
    offenders = [str(path.relative_to(ROOT)) for path in tracked_files()
                 if path.is_file() and any(word in path.read_bytes() for word in forbidden)]
    assert not offenders, f"these tracked files name a folder outside the repository: {offenders}"


def test_the_service_labels_are_the_fixtures_imagenet_classes():
    rows = [line.split("\t") for line in (FIXTURES / "imagenet-1k-labels.tsv").read_text().splitlines()[1:]]
    assert [int(r[0]) for r in rows] == list(range(1000))
    assert (ROOT / "weights" / "imagenet-1k-labels.txt").read_text().splitlines() == [r[2] for r in rows]

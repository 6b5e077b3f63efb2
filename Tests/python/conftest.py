"""Shared helpers for the Python test tier: where the binary, the fixtures and a scratch model live."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(os.environ.get("SHARED_FIXTURES", ROOT.parent / "shared" / "fixtures"))
BINARY = pathlib.Path(os.environ.get("SERESNET_BINARY", ROOT / ".build" / "release" / "seresnet"))


@pytest.fixture(scope="session")
def binary():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build -c release` first")
    return BINARY


@pytest.fixture(scope="session")
def seresnet50_model(tmp_path_factory, binary):
    """A full-size synthetic SE-ResNet-50 model directory (112 MB, made once per session)."""
    directory = tmp_path_factory.mktemp("seresnet50")
    subprocess.run([str(binary), "synth-weights", "--out", str(directory), "--preset", "seresnet50", "--seed", "7"], check=True)
    return directory

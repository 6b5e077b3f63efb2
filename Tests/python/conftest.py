"""pytest fixtures of the Python test tier; paths and the server harness are in harness.py."""
import subprocess

import pytest

from harness import BINARY


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

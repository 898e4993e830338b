"""Fixtures shared by several test modules: a real gpg with throwaway keys, the demo package, and
real S3, GCS and BigQuery servers on free ports. Plain helpers are in tests/helpers.py."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.disks import small_tmpfs
from tests.helpers import REPO, Keys, kill_agent, short_tempdir

sys.path.insert(0, str(REPO / "scripts"))


@pytest.fixture(scope="session")
def keys():
    root = short_tempdir("gpg")
    keys = Keys(root)
    yield keys
    keys.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def demo():
    """The demo package (scripts/make_demo_package.py) with its own gpg home, made once per module."""
    root = short_tempdir("demo")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_demo_package.py"), str(root / "pkg")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    yield root / "pkg"
    kill_agent(root / "pkg" / "gnupg")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3 protocol server (moto) on a port the OS picks."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Test credentials, and nothing from the developer's own AWS configuration."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


@pytest.fixture
def s3(moto_endpoint, aws_env):
    """A boto3 client on a freshly reset moto server."""
    import urllib.request

    import boto3

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10
    )
    return boto3.client("s3", endpoint_url=moto_endpoint)


@pytest.fixture(scope="session")
def gcs_server():
    """A real GCS JSON API server (fake-gcs-server) on a port the OS picks."""
    from tests.servers import FakeGcsServer

    with FakeGcsServer() as server:
        yield server


@pytest.fixture(scope="session")
def bigquery_server(gcs_server):
    """A BigQuery REST emulator (local-bigquery) that reads gs:// from `gcs_server`.
    Errors, rather than skips, when .venv-bqemu is missing."""
    from tests.servers import BigQueryEmulator

    with BigQueryEmulator(gcs_url=gcs_server.url) as server:
        yield server


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs (tests/disks.py), for writes that run out of space."""
    with small_tmpfs(tmp_path / "small", "512k") as mount:
        yield mount

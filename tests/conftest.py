"""Shared fixtures: a real gpg with throwaway keys, and a real S3 server (moto) on a free port."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.disks import small_tmpfs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

PASSPHRASE = "correct horse battery staple"


def _short_tempdir(prefix: str) -> Path:
    # gpg-agent's socket path must be short, and pytest's tmp_path can be long.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def make_gnupghome(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # No passphrase caching: a wrong passphrase must fail even right after a right one.
    (path / "gpg-agent.conf").write_text(
        "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n"
    )
    return path


def kill_agent(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, capture_output=True
    )


class Keys:
    """A keyring with two keys (one without passphrase, one with), and a second keyring holding
    only a foreign key, for files the first keyring cannot decrypt."""

    def __init__(self, root: Path):
        import gnupg

        self.home = make_gnupghome(root / "home")
        self.other_home = make_gnupghome(root / "other")
        self.gpg = gnupg.GPG(gnupghome=str(self.home))
        self.plain_key = self._generate(self.gpg, "czar@example.org", None)
        self.protected_key = self._generate(self.gpg, "czar-pass@example.org", PASSPHRASE)
        self.other_gpg = gnupg.GPG(gnupghome=str(self.other_home))
        self.foreign_key = self._generate(self.other_gpg, "someone-else@example.org", None)
        self.gpg.import_keys(self.other_gpg.export_keys(self.foreign_key))

    @staticmethod
    def _generate(gpg, email, passphrase):
        options = {"passphrase": passphrase} if passphrase else {"no_protection": True}
        key = gpg.gen_key(
            gpg.gen_key_input(
                key_type="RSA", key_length=2048, name_email=email, expire_date=0, **options
            )
        )
        assert key.fingerprint, key.stderr
        return key.fingerprint

    def encrypt(self, data: bytes, key: str | None = None) -> bytes:
        result = self.gpg.encrypt(data, [key or self.plain_key], armor=False, always_trust=True)
        assert result.ok, result.status
        return result.data

    def close(self):
        kill_agent(self.home)
        kill_agent(self.other_home)


@pytest.fixture(scope="session")
def keys():
    root = _short_tempdir("gpg")
    keys = Keys(root)
    yield keys
    keys.close()
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

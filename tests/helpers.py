"""Plain helpers shared by several test modules (and the benchmarks in bench/): the repository's
path, a throwaway gpg keyring, and real Snakemake runs of the workflow on the demo package with
what they leave in DuckDB.

Fixtures live in tests/conftest.py, which pytest finds without imports; test modules import from
here, never from conftest.py or from one another."""

import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

PASSPHRASE = "correct horse battery staple"

# The dates config/demo.yaml runs over: the whole demo package.
DEMO_DATES = {"begin": "2026-11-01", "end": "2026-11-08"}


def short_tempdir(prefix: str) -> Path:
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


def snakemake_command(
    workdir: Path, config: dict | None, *args, cores: int | None = 2
) -> list[str]:
    """A Snakemake run of the workflow in `workdir`: `config` written to workdir/config.yaml as its
    --configfile (None: none, the workflow reads workdir/config/config.yaml); --cores unless None."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
    ]
    if config is not None:
        configfile = workdir / "config.yaml"
        configfile.write_text(yaml.safe_dump(config))
        command += ["--configfile", str(configfile)]
    if cores is not None:
        command += ["--cores", str(cores)]
    return [*command, *args]


def snakemake(workdir: Path, config: dict | None, *args, env=None, cores=2, timeout=600):
    """That run, with `env` added to this process's environment."""
    return subprocess.run(
        snakemake_command(workdir, config, *args, cores=cores),
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def run_script(script: str, *args, **options) -> subprocess.CompletedProcess:
    """One of the step scripts (scripts/<script>) in a process of its own; `options` go to
    subprocess.run (env, preexec_fn, ...)."""
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), *args],
        capture_output=True,
        text=True,
        **options,
    )


def accounted(receipt: dict) -> int:
    """The lines a split receipt accounts for: each must be one of these, so they add up to
    lines_in."""
    return (
        receipt["blank"]
        + sum(receipt["by_course"].values())
        + receipt["no_course"]
        + receipt["rejected"]
        + receipt["duplicates"]
        + receipt["filtered_out"]
    )


def protected_log_run(keys, workdir: Path, passphrase_env: str) -> tuple[dict, str]:
    """A local source in workdir/source holding one day's log (demox, 2026-11-08) encrypted to the
    key with a passphrase, and the config of a run over the demo dates that reads the passphrase
    from `passphrase_env`: (config, the log's key)."""
    import datetime as dt
    import gzip

    from edxflow.core import naming

    key = naming.log_key("demox", "edx", dt.date(2026, 11, 8))
    encrypted = workdir / "source" / "edx-course-data" / key
    encrypted.parent.mkdir(parents=True)
    encrypted.write_bytes(keys.encrypt(gzip.compress(b'{"event_type": "x"}\n'), keys.protected_key))
    config = {
        "org": "demox",
        "file_types": ["log"],
        "dates": dict(DEMO_DATES),
        "source": {"kind": "local", "local_root": str(workdir / "source")},
        "gpg": {"homedir": str(keys.home), "passphrase_env": passphrase_env},
        "results_dir": str(workdir / "results"),
    }
    return config, key


def encrypted_bundle(path: Path, members: dict[str, bytes], keys, key=None) -> Path:
    """A zip at `path` of `members`, the `.gpg` ones encrypted with `keys` (to `key`, or the key
    without passphrase)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, keys.encrypt(data, key) if name.endswith(".gpg") else data)
    path.write_bytes(buffer.getvalue())
    return path


def job_counts(output: str) -> dict[str, int]:
    table = output[output.index("Job stats:") :]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
        if m.group(1) != "total"
    }


def demo_config(demo: Path, workdir: Path, **changes) -> dict:
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["source"]["local_root"] = str(demo / "source")
    config["gpg"]["homedir"] = str(demo / "gnupg")
    config["results_dir"] = str(workdir / "results")
    config.update(changes)
    return config


def warehouse_counts(results: Path) -> dict[str, int]:
    """dataset.table -> rows, read from the DuckDB file itself."""
    import duckdb

    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name NOT LIKE '\\_%' ESCAPE '\\'"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'SELECT count(*) FROM "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }


def table_contents(results: Path) -> dict[str, tuple[int, str]]:
    """dataset.table -> (rows, a digest of its sorted rows), from the DuckDB file itself."""
    import duckdb

    contents = {}
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        for table, rows in warehouse_counts(results).items():
            schema, name = table.split(".")
            text = (
                connection.execute(
                    f"SELECT string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)) "
                    f'FROM "{schema}"."{name}" AS t'
                ).fetchone()[0]
                or ""
            )
            contents[table] = (rows, hashlib.sha256(text.encode()).hexdigest())
    return contents

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from edxflow.core.config import (
    ConfigError,
    date_range,
    load_config_file,
    selected_courses,
    validate_config,
)
from tests.helpers import REPO, protected_log_run, run_script, snakemake


def test_defaults_are_filled_in():
    config = validate_config({"org": "mitx"})
    assert config["sites"] == ["edx"]
    assert config["file_types"] == ["log", "sql", "email"]
    assert config["source"]["buckets"] == {
        "sql": "course-data",
        "email": "course-data",
        "log": "edx-course-data",
    }
    assert config["source"]["kind"] == "s3"
    assert config["gpg"] == {"homedir": None, "passphrase_env": None}
    assert config["dates"] == {"begin": "2012-09-01", "end": None, "latest": False}
    assert config["keep_encrypted"] is False and config["results_dir"] == "results"


def test_shipped_configs_are_valid():
    for name in ("config.yaml", "demo.yaml"):
        validate_config(yaml.safe_load((REPO / "config" / name).read_text()))


@pytest.mark.parametrize(
    "change, named",
    [
        ({"colour": "red"}, "unknown config key 'colour'"),
        ({"source": {"kind": "s3", "bukets": {}}}, "unknown config key 'source.bukets'"),
        ({"sites": ["edx", "moon"]}, "config key 'sites.1'"),
        ({"file_types": ["rdx"]}, "config key 'file_types.0'"),
        ({"dates": {"begin": "2021-02-30"}}, "config key 'dates.begin'"),
        ({"dates": {"end": "yesterday"}}, "config key 'dates.end'"),
        ({"dates": {"begin": "2021-02-01", "end": "2021-01-01"}}, "begin is after end"),
        ({"source": {"kind": "local"}}, "config key 'source.local_root' is required"),
        ({"source": {"kind": "ftp"}}, "config key 'source.kind'"),
        ({"gpg": {"passphrase_env": "my secret passphrase"}}, "config key 'gpg.passphrase_env'"),
        ({"courses": ["course-v1:MITx+1x+T1", "nonsense"]}, "config key 'courses[1]'"),
        ({"course_list_file": "/nonexistent/list.txt"}, "config key 'course_list_file'"),
    ],
)
def test_invalid_config_names_the_key(change, named):
    with pytest.raises(ConfigError) as raised:
        validate_config({"org": "mitx", **change})
    assert named in str(raised.value)


def test_missing_org_is_named():
    with pytest.raises(ConfigError, match="config key 'org'"):
        validate_config({})


def test_end_defaults_to_today():
    config = validate_config({"org": "mitx", "dates": {"begin": "2021-01-01"}})
    assert date_range(config, today=dt.date(2026, 11, 30)) == (
        dt.date(2021, 1, 1),
        dt.date(2026, 11, 30),
    )


def test_courses_from_config_and_list_file(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("MITx/2.2x/T2\n")
    config = validate_config(
        {"org": "mitx", "courses": ["course-v1:MITx+1.1x+T1"], "course_list_file": str(listing)}
    )
    assert selected_courses(config) == ["MITx/1.1x/T1", "MITx/2.2x/T2"]


def unreadable_lists(tmp_path):
    directory = tmp_path / "a-directory"
    directory.mkdir()
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("MITx/Caf\xe9/T1\n".encode("latin-1"))
    return {
        "missing": (tmp_path / "missing.txt", "does not exist"),
        "directory": (directory, "is a directory"),
        "not UTF-8": (latin1, "line 1 is not UTF-8"),
    }


@pytest.mark.parametrize("case", ["missing", "directory", "not UTF-8"])
def test_unreadable_course_list_file_is_one_clear_error(tmp_path, case):
    path, said = unreadable_lists(tmp_path)[case]
    with pytest.raises(ConfigError) as raised:
        validate_config({"org": "mitx", "course_list_file": str(path)})
    message = str(raised.value)
    assert (
        message.startswith(f"config key 'course_list_file': {path} {said}") and "\n" not in message
    )


def test_course_list_file_without_permission():
    """As root every file is readable: then the check runs as root without the capabilities that
    override file permissions (the user nobody might not be able to read the checkout)."""
    directory = Path(tempfile.mkdtemp(prefix="perm", dir="/tmp"))
    try:
        directory.chmod(0o755)
        path = directory / "list.txt"
        path.write_text("MITx/1x/T1\n")
        path.chmod(0)
        check = (
            "import sys; sys.path.insert(0, 'scripts'); from edxflow.core.config import ConfigError, validate_config\n"
            "try:\n    validate_config({'org': 'mitx', 'course_list_file': sys.argv[1]})\n"
            "except ConfigError as error:\n    print(error)"
        )
        unprivileged = (
            ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
            if os.geteuid() == 0
            else []
        )
        ran = subprocess.run(
            [*unprivileged, sys.executable, "-c", check, str(path)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(directory)
    assert ran.stdout.startswith(
        f"config key 'course_list_file': {path} cannot be read (permission denied)"
    ), ran


BROKEN_YAML = 'org: mitx\ndates:\n  begin: "2021-01-01"\n  end: [2021-12-31\nsites: [edx]\n'


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(BROKEN_YAML)
    with pytest.raises(ConfigError, match=rf"^{path}:5:6: YAML syntax error: "):
        load_config_file(path)


def test_yaml_syntax_error_in_the_workflow_config_names_file_and_line(tmp_path):
    """The config file the Snakefile reads (config/config.yaml in the directory snakemake runs in)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(BROKEN_YAML)
    ran = snakemake(tmp_path, None, "-n", cores=None, timeout=300)
    output = ran.stdout + ran.stderr
    assert ran.returncode != 0
    assert "config/config.yaml:5:6: YAML syntax error: " in output, output
    assert "Traceback (most recent call last)" not in output


def test_yaml_syntax_error_in_a_step_scripts_configfile(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(BROKEN_YAML)
    ran = run_script(
        "manifest.py",
        "--configfile",
        str(path),
        "--file-type",
        "sql",
        "--output",
        str(tmp_path / "m.json"),
        "--passed-over",
        str(tmp_path / "p.json"),
        env={**os.environ, "PYTHONPATH": str(REPO / "scripts")},
    )
    assert ran.returncode == 1 and f"{path}:5:6: YAML syntax error" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "m.json").exists()


def test_unset_passphrase_env_stops_a_real_run_before_any_download(keys, tmp_path, monkeypatch):
    """Checked with the configuration: a real run that decrypts stops before its first job (no
    download made); a dry run plans and warns; a run that only downloads is not stopped."""
    monkeypatch.delenv("EDX_UNSET_PASSPHRASE", raising=False)
    config, key = protected_log_run(keys, tmp_path, "EDX_UNSET_PASSPHRASE")

    def run(*args):
        ran = snakemake(tmp_path, config, *args, cores=1, timeout=300)
        return ran, ran.stdout + ran.stderr

    said = (
        "gpg.passphrase_env names the environment variable EDX_UNSET_PASSPHRASE, which is not set: "
        "export EDX_UNSET_PASSPHRASE"
    )
    planned, output = run("-n")
    assert (
        planned.returncode == 0
        and said in output
        and "A real run would stop before its first job" in output
    )
    ran, output = run()
    assert ran.returncode != 0 and said in output
    assert "Traceback (most recent call last)" not in output
    assert (
        not (tmp_path / "results" / "raw").exists() and not (tmp_path / "results" / "logs").exists()
    )
    fetched, output = run("download")
    assert fetched.returncode == 0, output
    assert (tmp_path / "results" / "raw" / "edx-course-data" / key).exists()

"""The project's own files: dependency lists in sync, config documented, workflow lint- and format-clean."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SNAKEFMT = Path(sys.executable).with_name("snakefmt")
RUFF = Path(sys.executable).with_name("ruff")

# conda names that differ from the pip names
CONDA_TO_PIP = {
    "python-isal": "isal",
    "python-duckdb": "duckdb",
    "matplotlib-base": "matplotlib",  # matplotlib without a GUI toolkit
}
NOT_PYTHON = {"python", "pip", "gnupg", "c-compiler"}


def _name(requirement: str) -> str:
    requirement = requirement.split("#")[0].strip()
    if requirement.startswith("."):  # a project directory of this repository
        return Path(requirement).name
    return re.split(r"[=<>!\[ ]", requirement, maxsplit=1)[0].lower()


def conda_packages(path: Path) -> set[str]:
    names = set()
    for dependency in yaml.safe_load(path.read_text())["dependencies"]:
        if isinstance(dependency, dict):
            names |= {_name(item) for item in dependency.get("pip", [])}
        elif _name(dependency) not in NOT_PYTHON:
            names.add(CONDA_TO_PIP.get(_name(dependency), _name(dependency)))
    return names


def pinned_versions(lines) -> dict[str, str]:
    return {_name(line): line.split("==")[1].strip() for line in lines if "==" in line}


def test_environment_and_requirements_list_the_same_packages():
    requirements = [
        line
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert conda_packages(REPO / "environment.yml") == {_name(line) for line in requirements}


def test_environment_and_requirements_pin_the_same_versions():
    requirements = [
        line
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    environment = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda_pins = {}
    for dependency in environment:
        items = (
            dependency.get("pip", [])
            if isinstance(dependency, dict)
            else [dependency.replace("=", "==", 1)]
        )
        conda_pins.update(
            {CONDA_TO_PIP.get(name, name): pin for name, pin in pinned_versions(items).items()}
        )
    for name, version in pinned_versions(requirements).items():
        assert conda_pins.get(name) == version, name


def test_step_environment_is_a_subset_of_the_project_environment():
    assert conda_packages(REPO / "workflow" / "envs" / "steps.yaml") <= conda_packages(
        REPO / "environment.yml"
    )


def schema_keys(node, prefix=""):
    for key, value in (node.get("properties") or {}).items():
        yield prefix + key
        if isinstance(value, dict) and value.get("type") == "object":
            yield from schema_keys(value, prefix + key + ".")


def test_every_config_key_has_a_default_a_description_and_documentation():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    documented = (REPO / "config" / "README.md").read_text()
    for key in schema_keys(schema):
        node = schema
        for part in key.split("."):
            node = node["properties"][part]
        assert "description" in node, key
        assert "default" in node or key == "org", key
        assert f"`{key}`" in documented, f"{key} is not in config/README.md"


def test_snakemake_lint_is_clean():
    done = subprocess.run(SNAKEMAKE + ["--lint"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_snakefmt_is_clean():
    done = subprocess.run(
        [str(SNAKEFMT), "--check", "workflow"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_is_clean():
    """The Python files are formatted and lint-clean, as pyproject.toml's [tool.ruff] says."""
    output = ""
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [str(RUFF), *command, "--no-cache", "."], cwd=REPO, capture_output=True, text=True
        )
        if done.returncode:
            output += f"$ ruff {' '.join(command)} .\n{done.stdout}{done.stderr}\n"
    assert not output, output


def test_scripts_explain_themselves():
    for script in (
        "manifest.py",
        "fetch_object.py",
        "decrypt.py",
        "sql_snapshot.py",
        "publish_files.py",
        "load_files.py",
    ):
        done = subprocess.run(
            [sys.executable, str(REPO / "scripts" / script), "--help"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and "usage:" in done.stdout, script


# Errors that are not the user's to fix: retried (and turned into a SourceError once retries run
# out), or internal to one module.
NOT_USER_ERRORS = {"TransientError", "VerificationError", "_Stop"}


def test_every_error_a_user_can_cause_is_a_user_error():
    import importlib
    import pkgutil

    import edxflow
    from edxflow.core.errors import UserError

    found = {}
    for module in pkgutil.walk_packages(edxflow.__path__, "edxflow."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == module.name
            ):
                found[name] = value
    assert {"ConfigError", "SourceError", "DecryptionError", "WarehouseError", "CloudError"} <= set(
        found
    )
    not_user = {name for name, kind in found.items() if not issubclass(kind, UserError)}
    assert not_user == NOT_USER_ERRORS


def test_a_bad_course_id_on_a_command_line_is_a_usage_error_naming_it():
    from tests.helpers import run_script

    required = {
        "split_tracking_log.py": ["--input", "x.log.gz", "--outdir", "o", "--receipt", "r.json"],
        "index_bundle.py": ["--bundle", "b.zip", "--index", "i.json"],
        "sql_snapshot.py": ["--bundle", "b.zip", "--outdir", "o", "--receipt", "r.json"],
        "email_opt_in.py": ["--input", "d", "--outdir", "o", "--receipt", "r.json"],
    }
    for script, arguments in required.items():
        done = run_script(script, *arguments, "--courses", "MITx/6.002x/2012_Fall", "not a course")
        assert done.returncode == 2, (script, done.stderr)
        assert "--courses" in done.stderr and "'not a course'" in done.stderr, (script, done.stderr)
        assert "Traceback" not in done.stderr, script
    done = run_script("sql_course.py", "--bundle", "b.zip", "--index", "i.json", "--course", "x")
    assert done.returncode == 2 and "--course" in done.stderr and "Traceback" not in done.stderr

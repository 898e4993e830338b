"""Fixtures of the fault suite: one small encrypted package, and one clean run of it to compare with."""

import shutil

import pytest

from tests.faults.harness import fault_config, make_package, run
from tests.helpers import short_tempdir

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="session")
def package(keys):
    root = short_tempdir("faultpkg")
    yield make_package(root, keys)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def clean(package, tmp_path_factory):
    """A run without faults: the results every rerun after a fault must equal."""
    workdir = tmp_path_factory.mktemp("clean")
    ran = run(workdir, fault_config(package, workdir))
    assert ran.returncode == 0, ran.output
    return workdir

"""The fault suite's baseline: a clean run passes every common assertion."""

import pytest

from tests.faults.harness import assert_completed, assert_left_clean

pytestmark = pytest.mark.workflow


def test_a_clean_run_passes_every_check(clean):
    assert_completed(clean / "results")
    assert_left_clean(clean)

"""Plaintext a killed run leaves behind is found and removed, and nothing else is."""

from edxflow.leftovers import leftovers, remove_leftovers


def touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_what_a_killed_run_leaves_is_removed_and_nothing_else(tmp_path):
    base = tmp_path / "SQL" / "MITx__1x__T1"
    left = [
        touch(tmp_path / "TRACKING_LOGS" / "MITx__1x__T1" / ".tracklog-2021-01-01.edx-2021-01-01.json.gz.part"),
        touch(tmp_path / "receipts" / "split_tracking_log" / "edx" / ".2021-01-01.json.abc123.part"),
        touch(base / ".2021-01-03.k2j3" / "plain" / "auth_user.sql"),
        touch(tmp_path / "decrypted" / "log" / "edx" / "2021-01-01.log.gz"),
    ]
    kept = [
        touch(tmp_path / "TRACKING_LOGS" / "MITx__1x__T1" / "tracklog-2021-01-01.edx-2021-01-01.json.gz"),
        touch(tmp_path / "receipts" / "split_tracking_log" / "edx" / "2021-01-01.json", "{}"),
        touch(base / "2021-01-03" / "auth_user.json.gz"),
        touch(tmp_path / "decrypted" / "log" / "edx" / "2021-01-02.log.gz"),  # not split yet: still needed
    ]
    assert leftovers(tmp_path, keep_decrypted=True) == sorted(left[:2] + [base / ".2021-01-03.k2j3"])
    removed = remove_leftovers(tmp_path, keep_decrypted=False)
    assert removed == sorted(left[:2] + [base / ".2021-01-03.k2j3", left[3]])
    assert not any(path.exists() for path in left) and all(path.exists() for path in kept)

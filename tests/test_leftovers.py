"""Plaintext a killed run leaves behind is found and removed, and nothing else is."""

from edxflow.fetch.leftovers import leftovers, remove_leftovers


def touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_what_a_killed_run_leaves_is_removed_and_nothing_else(tmp_path):
    base = tmp_path / "SQL" / "MITx__1x__T1"
    left = [
        touch(
            tmp_path
            / "TRACKING_LOGS"
            / "MITx__1x__T1"
            / ".tracklog-2021-01-01.edx-2021-01-01.json.gz.part"
        ),
        touch(
            tmp_path / "receipts" / "split_tracking_log" / "edx" / ".2021-01-01.json.abc123.part"
        ),
        touch(base / ".2021-01-03.k2j3" / "plain" / "auth_user.sql"),
        touch(tmp_path / "decrypted" / "log" / "edx" / "2021-01-01.log.gz"),
    ]
    kept = [
        touch(
            tmp_path
            / "TRACKING_LOGS"
            / "MITx__1x__T1"
            / "tracklog-2021-01-01.edx-2021-01-01.json.gz"
        ),
        touch(tmp_path / "receipts" / "split_tracking_log" / "edx" / "2021-01-01.json", "{}"),
        touch(base / "2021-01-03" / "auth_user.json.gz"),
        touch(
            tmp_path / "decrypted" / "log" / "edx" / "2021-01-02.log.gz"
        ),  # not split yet: still needed
    ]
    assert leftovers(tmp_path, keep_decrypted=True) == sorted(
        left[:2] + [base / ".2021-01-03.k2j3"]
    )
    removed = remove_leftovers(tmp_path, keep_decrypted=False)
    assert removed == sorted(left[:2] + [base / ".2021-01-03.k2j3", left[3]])
    assert not any(path.exists() for path in left) and all(path.exists() for path in kept)


def test_at_the_start_of_a_run_what_no_planned_job_reads_is_removed(tmp_path):
    email_done = touch(tmp_path / "decrypted" / "email" / "2021-01-03" / "mitx-email_opt_in.csv")
    touch(tmp_path / "receipts" / "email_opt_in" / "2021-01-03.json", "{}")
    email_pending = touch(tmp_path / "decrypted" / "email" / "2021-01-10" / "mitx-email_opt_in.csv")
    log_split = touch(tmp_path / "decrypted" / "log" / "edx" / "2021-01-01.log.gz")
    touch(tmp_path / "receipts" / "split_tracking_log" / "edx" / "2021-01-01.json", "{}")
    download_read = touch(
        tmp_path / "raw" / "edx-course-data" / "mitx" / "edx" / "events" / "2021" / "b.log.gz.gpg"
    )
    download_left = touch(tmp_path / "raw" / "course-data" / "email-opt-in-mitx-2021-01-03.zip")
    scratch = touch(
        tmp_path / "SQL" / "MITx__1x__T1" / ".2021-01-03.k2j3" / ".members" / "auth_user.sql"
    )
    # at the end of a run: the email CSVs already split go too
    assert leftovers(tmp_path, keep_decrypted=False) == sorted(
        [email_done.parent, log_split, scratch.parents[1]]
    )
    # at the start: nothing a planned job reads (a split to run again, say), and the downloads no job reads
    needed = {str(log_split), str(download_read)}
    assert leftovers(tmp_path, keep_decrypted=False, keep_encrypted=False, needed=needed) == sorted(
        [email_done.parent, download_left, scratch.parents[1]]
    )
    assert leftovers(tmp_path, keep_decrypted=True, keep_encrypted=True, needed=needed) == [
        scratch.parents[1]
    ]
    remove_leftovers(tmp_path, keep_decrypted=False, keep_encrypted=False, needed=needed)
    assert (
        not email_done.parent.exists()
        and not download_left.exists()
        and not scratch.parents[1].exists()
    )
    assert email_pending.exists() and log_split.exists() and download_read.exists()

"""A real Snakemake run over a SQL bundle holding a decompression bomb: the member is refused while
gpg streams it, its table rejected in the course's receipt, and the course's other tables written
and loaded."""

import json
import shutil
import zipfile

import gnupg
import pytest

from tests.helpers import demo_config, snakemake

pytestmark = pytest.mark.workflow

BOMB = "demox-2026-11-08/DemoX-DS101-2026_T1-wiki_article-prod-analytics.sql.gpg"


def test_a_decompression_bomb_is_refused_and_the_course_loaded(demo, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(demo / "source", source)
    gpg = gnupg.GPG(gnupghome=str(demo / "gnupg"))
    bomb = gpg.encrypt(
        b"id\tname\n" + bytes(80 << 20),
        [gpg.list_keys()[0]["fingerprint"]],
        armor=False,
        always_trust=True,
    )
    assert bomb.ok and len(bomb.data) < 1 << 20
    with zipfile.ZipFile(next(source.rglob("demox-2026-11-08.zip")), "a") as archive:
        archive.writestr(BOMB, bomb.data)
    config = demo_config(
        demo,
        tmp_path,
        file_types=["sql"],
        courses=["course-v1:DemoX+DS101+2026_T1"],
        max_member_expansion=200,
    )
    config["source"]["local_root"] = str(source)
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    results = tmp_path / "results"
    receipt = json.loads(
        (
            results / "receipts" / "sql_course" / "demox-2026-11-08" / "DemoX__DS101__2026_T1.json"
        ).read_text()
    )
    assert receipt["rejected_tables"]["wiki_article"]["members"] == [BOMB]
    assert "max_member_expansion (now 200" in receipt["rejected_tables"]["wiki_article"]["reason"]
    assert {"auth_user", "studentmodule", "course_axis", "roles", "user_info_combo"} <= set(
        receipt["tables"]
    )
    log = (
        results / "logs" / "sql_course" / "demox-2026-11-08" / "DemoX__DS101__2026_T1.log"
    ).read_text()
    assert [line for line in log.splitlines() if "WARNING" in line and BOMB in line]
    assert (
        sum(path.stat().st_size for path in (results / "SQL").rglob("*") if path.is_file())
        < 10 << 20
    )
    load = json.loads(
        (results / "receipts" / "load" / "sql" / "DemoX__DS101__2026_T1.json").read_text()
    )
    loaded = load["courses"]["DemoX__DS101__2026_T1"]["loaded"]
    assert {"auth_user", "course_axis", "roles"} <= set(loaded) and "wiki_article" not in loaded

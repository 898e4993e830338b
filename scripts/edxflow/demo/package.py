"""Writing the encrypted package: the throwaway demo key, gpg encryption, zips of gpg members, the
marker and the `source/{bucket}/{key}` layout.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from edxflow.core.errors import UserError
from edxflow.core.naming import sql_key
from edxflow.demo.geoip import DEMO_NETWORKS, write_database
from edxflow.demo.people import USER_COUNT
from edxflow.demo.plan import (
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_SEED,
    ORG,
    SQL_BUCKET,
    PlannedObject,
    build_package,
)

MARKER_NAME = "DEMO_PACKAGE"
GEOIP_NAME = "geoip-demo.mmdb"  # a MaxMind-format City database of made-up places
KEY_EMAIL = "demo-data-czar@example.org"
# gpg-agent puts sockets such as S.gpg-agent.browser in GNUPGHOME; a unix socket path has ~108 bytes.
MAX_GNUPGHOME_CHARS = 80


class DemoPackageError(UserError, RuntimeError):
    pass


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def kill_gpg_agent(gnupghome: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(gnupghome), "--kill", "gpg-agent"],
        capture_output=True,
        check=False,
    )


def check_gnupghome_length(gnupghome: Path) -> None:
    if len(str(gnupghome)) > MAX_GNUPGHOME_CHARS:
        raise DemoPackageError(
            f"GNUPGHOME {gnupghome} is {len(str(gnupghome))} characters long; gpg-agent's socket paths would exceed "
            f"the unix socket limit. Choose an output directory whose path is at most "
            f"{MAX_GNUPGHOME_CHARS - len('/gnupg')} characters."
        )


def create_demo_key(gnupghome: Path):
    """A fresh GNUPGHOME with an RSA-2048 key pair without passphrase; returns (gpg, fingerprint)."""
    import gnupg

    gnupghome.mkdir(mode=0o700)
    gnupghome.chmod(0o700)
    write_atomically(gnupghome / "gpg-agent.conf", b"allow-loopback-pinentry\n")
    gpg = gnupg.GPG(gnupghome=str(gnupghome))
    gpg.encoding = "utf-8"
    key_input = gpg.gen_key_input(
        key_type="RSA",
        key_length=2048,
        no_protection=True,
        expire_date=0,
        name_real="Demo Data Czar",
        name_email=KEY_EMAIL,
    )
    result = gpg.gen_key(key_input)
    if not result.fingerprint:
        raise DemoPackageError(
            f"gpg could not generate the demo key in {gnupghome}: {result.stderr}"
        )
    return gpg, result.fingerprint


def encrypt(gpg, fingerprint: str, data: bytes, what: str) -> bytes:
    result = gpg.encrypt(data, recipients=[fingerprint], armor=False, always_trust=True)
    if not result.ok:
        raise DemoPackageError(f"gpg could not encrypt {what}: {result.status}\n{result.stderr}")
    return result.data


def zip_bytes(members: dict[str, bytes], when: dt.date) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 4, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def encrypted_object_bytes(
    gpg, fingerprint: str, planned: PlannedObject, end_date: dt.date
) -> bytes:
    if planned.zip_members is None:
        return encrypt(gpg, fingerprint, planned.plaintext, planned.path)
    members = {
        f"{name}.gpg": encrypt(gpg, fingerprint, content, f"{planned.path}:{name}")
        for name, content in planned.zip_members.items()
    }
    return zip_bytes(members, end_date)


def prepare_outdir(outdir: Path) -> None:
    """Clear a previous demo package; refuse anything else that is not an empty directory."""
    if outdir.exists():
        if not outdir.is_dir():
            raise DemoPackageError(
                f"{outdir} exists and is not a directory; refusing to replace it"
            )
        if any(outdir.iterdir()):
            if not (outdir / MARKER_NAME).is_file():
                raise DemoPackageError(
                    f"{outdir} exists, is not empty and has no {MARKER_NAME} marker, so it is not a demo package; "
                    "refusing to replace it (remove it yourself or choose another directory)"
                )
            if (outdir / "gnupg").is_dir():
                kill_gpg_agent(outdir / "gnupg")
            shutil.rmtree(outdir)
    outdir.mkdir(parents=True, exist_ok=True)


def write_demo_package(
    outdir: str | Path,
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    end_date: dt.date = DEFAULT_END_DATE,
    users: int = USER_COUNT,
) -> dict:
    """Write the encrypted demo package into `outdir` (replacing an earlier one); returns a summary."""
    outdir = Path(outdir).absolute()
    gnupghome = outdir / "gnupg"
    check_gnupghome_length(gnupghome)
    plan = build_package(seed, end_date, days, users)
    prepare_outdir(outdir)
    # The marker goes first so that a half-written package can still be replaced.
    write_atomically(
        outdir / MARKER_NAME,
        (
            "Generated demo edX data package (scripts/make_demo_package.py); "
            f"seed={seed} end_date={end_date.isoformat()} days={days} users={users}. Safe to delete or regenerate.\n"
        ).encode(),
    )
    gpg, fingerprint = create_demo_key(gnupghome)
    written = []
    try:
        for planned in plan.objects:
            target = outdir / "source" / planned.bucket / planned.key
            write_atomically(target, encrypted_object_bytes(gpg, fingerprint, planned, end_date))
            written.append(str(target.relative_to(outdir)))
    finally:
        kill_gpg_agent(gnupghome)
    # The learners' IPs are in documentation networks no real database places: the demo's
    # reports.geoip database puts them in made-up cities.
    geoip = write_database(outdir / GEOIP_NAME, DEMO_NETWORKS)
    world = plan.world
    return {
        "outdir": str(outdir),
        "gnupghome": str(gnupghome),
        "fingerprint": fingerprint,
        "files": written,
        "geoip_database": str(geoip),
        "courses": [course.course_id for course in world.courses],
        "users": len(world.users),
        "enrollments": len(world.enrollments),
        "events_per_day": plan.events_per_day,
        "sql_members": sorted(
            f"{name}.gpg"
            for obj in plan.objects
            if obj.bucket == SQL_BUCKET and obj.key == sql_key(ORG, end_date)
            for name in obj.zip_members
        ),
    }

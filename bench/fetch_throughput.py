"""Benchmark: how fast a large file is fetched and decrypted (planning: bench/plan_time.py).

    .venv/bin/python bench/fetch_throughput.py [--mb 256]

A MB-sized encrypted daily log is downloaded from a moto S3 server and from a local mirror (size
and MD5 verified), then decrypted with gpg; prints MB/s for each step.
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from edxflow.core import naming  # noqa: E402
from edxflow.fetch.decrypt import decrypt_file  # noqa: E402
from edxflow.fetch.download import download  # noqa: E402
from edxflow.fetch.source import LocalSource, S3Source  # noqa: E402
from tests.helpers import Keys, kill_agent  # noqa: E402


def timed(step):
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def bench_fetch_and_decrypt(root: Path, megabytes: int) -> None:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    keys = Keys(root / "gpg")
    try:
        # A daily file is gzip data: as incompressible as random bytes.
        payload = os.urandom(megabytes << 20)
        key = naming.log_key("mitx", "edx", dt.date(2021, 1, 1))
        local = root / "source" / "edx-course-data" / key
        local.parent.mkdir(parents=True)
        local.write_bytes(keys.encrypt(payload))
        size_mb = local.stat().st_size / 1e6

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
        )
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="edx-course-data")
        client.upload_file(str(local), "edx-course-data", key)

        for name, source in (
            ("moto S3", S3Source(endpoint_url=endpoint)),
            ("local mirror", LocalSource(root / "source")),
        ):
            entry = next(item for item in source.list("edx-course-data", key) if item["key"] == key)
            _, seconds = timed(lambda: download(source, entry, root / "raw.gpg"))
            print(
                f"download from {name:12s}: {size_mb:7.1f} MB in {seconds:6.2f} s = {size_mb / seconds:7.1f} MB/s (size+MD5 verified)"
            )
        server.stop()
        _, seconds = timed(
            lambda: decrypt_file(root / "raw.gpg", root / "plain", str(keys.home), None)
        )
        print(
            f"decrypt with gpg          : {size_mb:7.1f} MB in {seconds:6.2f} s = {size_mb / seconds:7.1f} MB/s"
        )
    finally:
        keys.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mb", type=int, default=256, help="size of the encrypted file to fetch and decrypt"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench", dir="/tmp"))
    try:
        bench_fetch_and_decrypt(root / "f", args.mb)
    finally:
        kill_agent(root / "f" / "gpg" / "home")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

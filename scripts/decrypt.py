"""Decrypt a downloaded package file with gpg: a tracking log (.log.gz.gpg -> .log.gz), or every
member of an email opt-in zip into a directory. The passphrase, if any, is read from the
environment variable named by --passphrase-env, never from the command line.

    python scripts/decrypt.py --input FILE.log.gz.gpg --output FILE.log.gz [--gnupghome DIR]
    python scripts/decrypt.py --zip --input email-opt-in-mitx-2021-01-03.zip --output DIR

With --owner-only-from ROOT (an ancestor of the output), every directory from ROOT down is made 0700.
"""

import logging
from pathlib import Path

from edxflow.core import cli
from edxflow.core.atomic import write_json
from edxflow.fetch.decrypt import decrypt_file, decrypt_zip_members, owner_only_dir, read_passphrase

log = logging.getLogger("edxflow.fetch.decrypt")


def decrypt(
    source: str,
    output: str,
    homedir: str | None,
    passphrase_env: str | None,
    is_zip: bool = False,
    receipt: str | None = None,
    owner_only_from: str | None = None,
) -> None:
    passphrase = read_passphrase(passphrase_env)
    if owner_only_from:
        owner_only_dir(output if is_zip else Path(output).parent, under=owner_only_from)
    if is_zip:
        written = decrypt_zip_members(source, output, homedir, passphrase)
    else:
        written = [decrypt_file(source, output, homedir, passphrase)]
    for item in written:
        log.info("decrypted %s: %d bytes", item["path"], item["bytes"])
    if receipt:
        write_json(receipt, {"input": source, "written": written})


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument(
        "--input", required=True, help="encrypted file, or zip of encrypted members with --zip"
    )
    parser.add_argument("--output", required=True, help="plaintext file, or directory with --zip")
    parser.add_argument(
        "--zip", action="store_true", help="decrypt every member of a zip into --output"
    )
    cli.add_gpg(parser)
    parser.add_argument("--receipt", help="write a JSON receipt of what was decrypted here")
    parser.add_argument(
        "--owner-only-from", help="make every directory from this one down to the output 0700"
    )
    args = cli.parse(parser, argv)
    return cli.run(
        decrypt,
        args.input,
        args.output,
        args.gnupghome,
        args.passphrase_env,
        args.zip,
        args.receipt,
        args.owner_only_from,
    )


def from_snakemake(job):
    return decrypt(
        job.input.encrypted,
        job.output.plain,
        job.params.gpg["homedir"],
        job.params.gpg["passphrase_env"],
        job.params.is_zip,
        job.output.get("receipt"),
        job.params.owner_only_from,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)

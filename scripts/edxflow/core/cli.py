"""What every step's script shares: logging to the rule's log file, and user errors as one clear line."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys

from edxflow.core.courses import CourseIdError, normalize_course_id
from edxflow.core.errors import UserError


def configure_logging(log_path: str | None = None) -> None:
    # A log file that cannot be written (a full disk) must not add a `--- Logging error ---` block
    # to every message: the messages still reach stderr, which Snakemake shows.
    logging.raiseExceptions = False
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=handlers,
        force=True,
    )


def run(step, *args, **kwargs) -> int:
    """Run a step; a user error is logged as one message (no traceback) and gives exit status 1."""
    try:
        step(*args, **kwargs)
    except (UserError, FileNotFoundError) as error:
        logging.getLogger("edxflow").error("%s", error)
        return 1
    except OSError as error:
        message = file_system_error(error)
        if message is None:
            raise
        logging.getLogger("edxflow").error("%s", message)
        return 1
    return 0


def file_system_error(error: OSError) -> str | None:
    """One line for a write the file system refused (full, over quota, read-only), naming the file
    and what to do; None for any other error."""
    if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        return None
    where = error.filename or os.getcwd()
    if error.errno == errno.EACCES:
        return f"permission denied: {where}: give the user running the workflow access to it and run again"
    mount = os.path.abspath(where)
    while not os.path.ismount(mount):
        mount = os.path.dirname(mount)
    if error.errno == errno.EROFS:
        return f"read-only file system: cannot write {where}: make {mount} writable or choose another results_dir"
    what = "no space left on device" if error.errno == errno.ENOSPC else "disk quota exceeded"
    return f"{what} writing {where}: free space on {mount} and run again"


def entry(snakemake, from_snakemake, main) -> None:
    """A step script's entry point: run by a rule's `script:` (Snakemake sets the global
    `snakemake`), the step gets the rule's files and logs to the rule's log; from the command
    line, `main()` parses the arguments. Exits with the step's status."""
    if snakemake is not None:
        configure_logging(snakemake.log[0])
        sys.exit(run(from_snakemake, snakemake))
    sys.exit(main())


def step_parser(description: str) -> argparse.ArgumentParser:
    """A step script's parser; its description (the script's docstring) is shown as written."""
    return argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def parse(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """The arguments of a step run from the command line; its log goes to stderr."""
    args = parser.parse_args(argv)
    configure_logging()
    return args


def course_id(text: str) -> str:
    """An argument naming a course, in any id form, as its `Org/Num/Run` id; a bad one is a usage
    error naming it."""
    try:
        return normalize_course_id(text)
    except CourseIdError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_courses(parser: argparse.ArgumentParser) -> None:
    """`--courses`: only these courses."""
    parser.add_argument(
        "--courses",
        nargs="*",
        type=course_id,
        default=[],
        help="only these courses, in any id form",
    )


def add_gpg(parser: argparse.ArgumentParser) -> None:
    """`--gnupghome` and `--passphrase-env`: the key that decrypts the package (see gpg_settings)."""
    parser.add_argument(
        "--gnupghome", help="GNUPGHOME holding the private key (default: gpg's own)"
    )
    parser.add_argument(
        "--passphrase-env", help="NAME of the environment variable holding the passphrase"
    )


def gpg_settings(args: argparse.Namespace) -> dict:
    """The rules' `gpg` parameter, from the arguments add_gpg adds."""
    return {"homedir": args.gnupghome, "passphrase_env": args.passphrase_env}


def unit_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a step on one unit's per-course files (publish, load)."""
    parser = step_parser(description)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--file-type", required=True, choices=["log", "sql", "email"])
    parser.add_argument(
        "--input", required=True, help="the receipt of the step that wrote the files"
    )
    parser.add_argument("--receipt", required=True)
    return parser


def unit_args(args: argparse.Namespace) -> tuple[str, str, str, str]:
    """(file type, results dir, receipt of the step that wrote the files, receipt to write), from
    the arguments unit_parser adds."""
    return args.file_type, args.results_dir, args.input, args.receipt


def unit_job_args(job) -> tuple[str, str, str, str]:
    """The same as unit_args, from a unit rule's job (publish_files, load_files)."""
    return job.wildcards.file_type, job.params.results_dir, job.input.written, job.output.receipt

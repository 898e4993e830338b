"""Clients for Google Cloud Storage and BigQuery, and their failures as one clear sentence.

Credentials come from `service_account_file` when it is set, else from Google's standard chain
(GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, the metadata server),
never from config values. Local emulators are used when the standard variables name them:
STORAGE_EMULATOR_HOST for Cloud Storage, BIGQUERY_EMULATOR_HOST for BigQuery.
"""

from __future__ import annotations

import os
from pathlib import Path

from edxflow.core.errors import UserError

TIMEOUT = 60.0
_CREDENTIALS_HELP = (
    "set {key} to a service account key file, or provide Google's default credentials "
    "(GOOGLE_APPLICATION_CREDENTIALS, or `gcloud auth application-default login`)"
)


class CloudError(UserError):
    """A Cloud Storage or BigQuery failure the user can act on."""


def retry():
    """Retry transient failures (connection errors, 429, 5xx) for EDXFLOW_RETRY_SECONDS (60 by
    default): a remote that is down fails the step after a minute, not after the clients' ten."""
    from google.api_core.retry import Retry, if_transient_error

    seconds = float(os.environ.get("EDXFLOW_RETRY_SECONDS") or 60)
    return Retry(
        predicate=if_transient_error,
        initial=min(1.0, seconds),
        maximum=10.0,
        multiplier=2.0,
        timeout=seconds,
    )


def credentials(service_account_file: str | None, key: str, scopes: list[str]):
    """(credentials, project) from the key file, or from the default chain."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from google.oauth2 import service_account

    if service_account_file:
        path = Path(service_account_file).expanduser()
        if not path.is_file():
            raise CloudError(f"{key}: {path} does not exist; {_CREDENTIALS_HELP.format(key=key)}")
        try:
            found = service_account.Credentials.from_service_account_file(str(path), scopes=scopes)
        except (ValueError, KeyError) as error:
            raise CloudError(f"{key}: {path} is not a service account key file ({error})") from None
        return found, found.project_id
    try:
        return google.auth.default(scopes=scopes)
    except DefaultCredentialsError:
        raise CloudError(
            f"no Google credentials found: {_CREDENTIALS_HELP.format(key=key)}"
        ) from None


def storage_client(project: str | None, service_account_file: str | None):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        return storage.Client(
            project=project or "emulator",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    found, default_project = credentials(
        service_account_file,
        "storage.service_account_file",
        ["https://www.googleapis.com/auth/devstorage.read_write"],
    )
    return storage.Client(project=project or default_project, credentials=found)


def bigquery_client(project: str | None, location: str | None, service_account_file: str | None):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        return bigquery.Client(
            project=project or "emulator",
            location=location,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    found, default_project = credentials(
        service_account_file,
        "warehouse.service_account_file",
        [
            "https://www.googleapis.com/auth/bigquery",
            "https://www.googleapis.com/auth/devstorage.read_only",
        ],
    )
    if not (project or default_project):
        raise CloudError(
            "warehouse.project is not set and the credentials name no project: set warehouse.project"
        )
    return bigquery.Client(project=project or default_project, location=location, credentials=found)


def explain(error: Exception, what: str) -> CloudError:
    """A remote failure as a CloudError that says what failed and what to do."""
    import requests
    from google.api_core import exceptions as api_errors
    from google.auth.exceptions import RefreshError, TransportError

    if isinstance(error, CloudError):
        return error
    if isinstance(
        error,
        (
            requests.ConnectionError,
            TransportError,
            api_errors.RetryError,
            api_errors.ServiceUnavailable,
            ConnectionError,
        ),
    ):
        return CloudError(
            f"{what}: the service cannot be reached ({_first_line(error)}); check the network "
            "and the endpoint (STORAGE_EMULATOR_HOST / BIGQUERY_EMULATOR_HOST when set), then run again"
        )
    if isinstance(error, RefreshError):
        return CloudError(
            f"{what}: the credentials were refused ({_first_line(error)}); renew them or "
            "use another service account key"
        )
    if isinstance(error, (api_errors.Unauthorized, api_errors.Forbidden)):
        return CloudError(
            f"{what}: permission denied ({_first_line(error)}); grant this account access "
            "or use another service account key"
        )
    if isinstance(error, api_errors.GoogleAPICallError):
        return CloudError(f"{what}: {_first_line(error)}")
    return CloudError(f"{what}: {type(error).__name__}: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:500] if text else type(error).__name__

"""Fetch: list the package on S3 or a local folder, download with verification, decrypt with gpg,
and clean up the plaintext a killed run left behind."""

"""The root of every error a user can cause or fix (a configuration, a key, a damaged file, a remote
refusal): a step reports one as its message alone, with no traceback, and fails."""


class UserError(Exception):
    """An error whose message names what is wrong and what to do."""

"""The error hierarchy. Each type says what happens next; the CLI prints them as one line.

- ConfigError: bad option, recipe or data file; raised before any work starts.
- InputError: missing or unreadable input; raised before any work starts.
- RetryableError: transient I/O (S3 throttling, a dropped connection); the caller retries.
- ShardError: one task cannot finish; it is recorded as failed and the run goes on.
"""


class CorpusError(Exception):
    """Base class: the message is one line that tells the user the fix."""

    exit_code = 2


class ConfigError(CorpusError):
    pass


class InputError(CorpusError):
    pass


class RetryableError(CorpusError):
    exit_code = 1


class ShardError(CorpusError):
    exit_code = 1


class VerificationError(CorpusError):
    """A digest, hash or conservation check failed."""

    exit_code = 1


def describe_error(error: BaseException, message: str | None = None, limit: int = 160) -> str:
    """`Type: message` on one ASCII line of at most `limit` characters, for ledger evidence and logs. The
    message (default `str(error)`) is cut short because some libraries quote their input in it."""
    msg = " ".join((str(error) if message is None else message).split()).encode("ascii", "replace").decode("ascii")
    return f"{type(error).__name__}: {msg[:limit]}".rstrip(": ")

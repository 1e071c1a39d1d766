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

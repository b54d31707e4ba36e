"""Errors of the job protocol: each message names what was wrong and how to fix it."""


class JobError(Exception):
    """Base class of every sdk.jobs error."""


class PermanentJobError(JobError):
    """Raised by a handler when retrying cannot help: the job is FAILED at once with this message."""


class JobConfigError(JobError, ValueError):
    """A worker/client setting (usually an environment variable) is missing or malformed."""


class JobSubmitError(JobError):
    """Submitting failed after the row was written; the row is FAILED with the same reason."""

    def __init__(self, job_id: str, reason: str) -> None:
        super().__init__(f"job {job_id}: {reason}")
        self.job_id = job_id
        self.reason = reason


class JobNotFoundError(JobError, KeyError):
    """No row with this job_id exists in the job table (never submitted, or expired by TTL)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "job not found"


class InvalidJobMessage(JobError, ValueError):
    """A queue message that is not a valid JobMessage; job_id is set when one could still be read."""

    def __init__(self, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.job_id = job_id

"""The errors every Traction Rec call can raise.

Each error says what happened (`message`), what to change (`hint`), the HTTP
status and Salesforce `errorCode` when there was a response, and whether
trying again later could help (`retryable`). Messages never hold a secret:
no key, assertion, token or consumer secret.
"""


class TractionRecError(Exception):
    retryable_default = False

    def __init__(self, message, *, status=None, error_code="", retryable=None, hint=""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code or ""
        self.retryable = self.retryable_default if retryable is None else retryable
        self.hint = hint or ""

    def __str__(self):
        return self.message

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"error_code={self.error_code!r}, retryable={self.retryable!r})"
        )

    def describe(self):
        """The message and, when there is one, what to change, in one line."""
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message

    def as_dict(self):
        """The shape the fetch manifest records for a failed object."""
        return {
            "code": self.error_code,
            "message": self.message,
            "status": self.status,
            "hint": self.hint,
            "retryable": self.retryable,
        }


class ConfigurationError(TractionRecError):
    """A setting is missing or wrong; retrying without changing it cannot help."""


class AuthenticationError(TractionRecError):
    """The token request was refused, or a fresh token was refused again."""


class QueryError(TractionRecError):
    """Salesforce rejected the query (MALFORMED_QUERY, INVALID_FIELD, ...)."""


class TransientError(TractionRecError):
    """A failure that may pass: timeouts, connection errors, 5xx."""

    retryable_default = True


class LimitError(TractionRecError):
    """An API limit was hit. The daily limit is not retryable; the concurrent
    request limit is, once the other long requests finish."""

"""The errors mailbench shows to its users.

Every failure a user can cause or fix (a bad option, Docker not running, a corrupt
corpus file) is a ``UsageError``: the CLI prints its message as one line and exits
non-zero, so each message must say what went wrong *and* what to do about it.
Failures inside one measured cell are not usage errors: they are recorded in the
cell and the run goes on.
"""


class MailbenchError(Exception):
    """Base of every error mailbench raises on purpose."""


class UsageError(MailbenchError):
    """Bad input or environment; the message is a single actionable line."""


class DockerUnavailable(UsageError):
    """The Docker daemon cannot be reached."""


class PortInUse(UsageError):
    """A port the user asked for is already taken on 127.0.0.1."""


class CorpusError(UsageError):
    """A corpus file or folder cannot be used as a source of messages."""


class ResultsError(UsageError):
    """A results file is unreadable, not JSON, or of a schema this version cannot read."""


class ServerStartError(MailbenchError):
    """A server container did not become ready; carries the container's log tail."""


class NotOffered(MailbenchError):
    """The server does not serve this protocol at all (JMAP on Dovecot or Courier): neither
    a failure of the server nor an operation the protocol lacks (``Unsupported``)."""


class LoginRefused(MailbenchError):
    """The server refused the user name or password; the message is one line."""


class IntegrityError(MailbenchError):
    """What a device holds differs from the truth: lost, changed or unexpected messages.

    ``integrity`` is the check's report (which messages), kept in the failed cell.
    """

    def __init__(self, message: str, integrity: dict | None = None) -> None:
        super().__init__(message)
        self.integrity = integrity or {}


class Unsupported(MailbenchError):
    """The protocol cannot do this operation (POP3 has no flags, for instance).

    Reports show such an operation as "n/a" rather than as a failure.
    """


def one_line(exc: BaseException) -> str:
    """An exception as one line for results and logs: its type and its message, whitespace
    folded, at most 2,000 characters."""
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"[:2000]

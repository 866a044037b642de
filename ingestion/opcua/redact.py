"""Keep the collector's password out of every log line, asyncua's own included.

asyncua logs whole requests at DEBUG ("Sending: ActivateSessionRequest(...)"), and over security policy None the
user token in it carries the password as plain UTF-8 bytes. `redacting(password)` installs a `PasswordRedactor`
while the collector runs: it rewrites a record's message (with its arguments formatted in) and its traceback text,
replacing the password with `***`, before any handler writes it.

A filter on a logger only sees records logged on that very logger, not those its children propagate, so the
redactor sits on every handler of the root logger (where propagated records are written) and on every asyncua
logger that exists (for handlers attached to asyncua's loggers themselves)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

REDACTED = "***"


def spellings(secret: str) -> tuple[str, ...]:
    """How the secret can show in a formatted message: as is, inside a str repr and inside a bytes repr (asyncua
    logs the UTF-8 bytes of the token), longest first so a longer spelling is replaced before its parts."""
    forms = {secret, repr(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1]}
    return tuple(sorted(forms, key=len, reverse=True))


class PasswordRedactor(logging.Filter):
    """Replaces the password in a record's message, arguments and traceback text; drops no record."""

    def __init__(self, password: str) -> None:
        super().__init__()
        self._spellings = spellings(password)

    def redact(self, text: str) -> str:
        for spelling in self._spellings:
            text = text.replace(spelling, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler would print the raw arguments, so drop them
            message = f"{record.msg} (arguments dropped: the message could not be formatted)"
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()  # formatted once: the arguments may hold the password too
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


@contextlib.contextmanager
def redacting(password: str | None) -> Iterator[PasswordRedactor | None]:
    """While the block runs, no log line written by a root or asyncua handler shows `password` (None: no-op)."""
    if not password:
        yield None
        return
    redactor = PasswordRedactor(password)
    guarded: list[logging.Filterer] = [*logging.getLogger().handlers, *_asyncua_loggers()]
    for filterer in guarded:
        filterer.addFilter(redactor)
    try:
        yield redactor
    finally:
        for filterer in guarded:
            filterer.removeFilter(redactor)


def _asyncua_loggers() -> list[logging.Logger]:
    loggers = list(logging.Logger.manager.loggerDict.items())
    return [logging.getLogger("asyncua"), *(logger for name, logger in loggers
                                            if name.startswith("asyncua.") and isinstance(logger, logging.Logger))]

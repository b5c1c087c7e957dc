"""The one error type for user-facing failures; cli.py turns it into one stderr line."""

from __future__ import annotations

from pathlib import Path


def one_line(text: str) -> str:
    """The text with line breaks and other unprintable characters escaped: a folder named
    "001-\\r" must not split the one error line in two."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PublishError(Exception):
    """A failure the user can fix: bad input, missing file, unreachable storage.

    `where` names the file (and `field` the key inside it) so the message points at the fix;
    `detail` is what a tool said (ffmpeg's own lines), shown only with `publish --verbose`.
    """

    exit_code = 1

    def __init__(self, message: str, where: str | Path | None = None, field: str | None = None,
                 detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = str(where) if where is not None else None
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        parts = [p for p in (self.where, self.field) if p]
        prefix = ": ".join(parts)
        return one_line(f"{prefix}: {self.message}" if prefix else self.message)


class ConfigError(PublishError):
    """Invalid feed or episode configuration (exit status 2, like a usage error)."""

    exit_code = 2

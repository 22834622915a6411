"""Errors a user can cause. The library raises them; the CLI prints them and exits 2,
the pages show them with one ``st.error``."""

from __future__ import annotations

from dataclasses import dataclass


class CopeEvalError(Exception):
    """Base class: the message is written for the person who caused it.

    ``options`` names the settings that would fix it by neutral names (``"text_column"``,
    ``"intersect"``, ``"overwrite"``). The message says what is wrong; each edge adds how to fix
    it with what it offers (``with_remedies``): the CLI names its flag, a page its control, so a
    message never quotes a library parameter the user cannot see."""

    def __init__(self, *args, options: tuple[str, ...] = ()):
        super().__init__(*args)
        self.options = tuple(options)

    def with_remedies(self, remedies: dict[str, str]) -> str:
        """The message, then the remedy the edge offers for each of ``options`` (none: as is)."""
        message = str(self)
        found = [remedies[option] for option in self.options if option in remedies]
        if not found:
            return message
        end = "." if message.endswith(".") else ""
        return f"{message.removesuffix('.')}; {'; '.join(found)}{end}"


class ConfigError(CopeEvalError):
    """A setting (environment variable, flag, workspace) is missing or wrong."""


class NotFoundError(CopeEvalError):
    """A named policy, version, golden set or run does not exist."""


class LocalServerError(CopeEvalError):
    """The bundled local vLLM server could not be installed, started or reached."""


class PortInUseError(LocalServerError):
    """The local server's port is held by a process that is not ours."""


class ServerError(CopeEvalError):
    """A model server answered with something that is not a usable result."""


REDACTED = "[redacted]"
"""What stands in for an API key in a message."""


def redact(message: str, secret: str | None) -> str:
    """``message`` with every copy of ``secret`` (an API key) replaced by ``[redacted]``.

    A server, or a proxy in front of it, may quote the key it was sent in its error text; that
    text is stored with the item and shown, so it is redacted before it leaves the client."""
    return message.replace(secret, REDACTED) if secret else message


@dataclass(frozen=True)
class RowProblem:
    """One bad row (or file-level problem) found while validating input."""

    file: str
    """File name as the user gave it."""
    row: int | None
    """1-based data row number (header excluded); None for a file-level problem."""
    column: str | None
    """Column the problem is in, when there is one."""
    value: str | None
    """The offending value, shortened for display."""
    problem: str
    """What is wrong, in words."""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        shown = "" if self.value is None else f" (value {_shorten(self.value)!r})"
        return f"{where}: {self.problem}{shown}"


class ValidationError(CopeEvalError):
    """Input was rejected; ``problems`` lists every bad row found."""

    def __init__(self, problems: list[RowProblem], *, headline: str | None = None, options: tuple[str, ...] = ()):
        self.problems = list(problems)
        first = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(headline or f"{len(self.problems)} problem(s): {first}{more}", options=options)


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"

"""The one error type users see for bad input, and how it is printed."""

from __future__ import annotations


class ScenarioError(Exception):
    """A problem in a scenario (or sweep) file, located by file, line and field path.

    ``str(error)`` is the one-line message the CLI prints, e.g.
    ``scenarios/x.yaml:12: campaigns.tweets.urgency: expected a number <= 3, got 9``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        message = _one_line(message)
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = _one_line(self.file or "<scenario>")
        if self.line:
            where += f":{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


def _one_line(text: str) -> str:
    """Messages are printed as one line: fold any line breaks into spaces."""
    text = str(text)
    return " ".join(text.split()) if "\n" in text or "\r" in text else text

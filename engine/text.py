"""Text for the user: an exception or a message squeezed into one line."""

from __future__ import annotations


def one_line(exc: BaseException | str, limit: int = 300) -> str:
    """Squeeze an exception (or text) into one short line."""
    text = str(exc).strip() if not isinstance(exc, str) else exc.strip()
    if isinstance(exc, BaseException) and not text:
        text = type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The transport interface. A transport only moves bytes; composing and recording are elsewhere."""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    """Sends one already-composed message.

    Raises worker.errors.TransportError, with permanent=True when retrying cannot help
    (every recipient refused, authentication refused), permanent=False otherwise
    (connection refused or dropped, 4xx answers, timeouts).
    Returns the recipients the server refused while accepting the others (address -> reason).
    """

    name: str

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]: ...

    def close(self) -> None: ...

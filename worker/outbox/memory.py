"""Memory transport: keeps what was sent, and fails on request, for tests of the code that sends."""

from __future__ import annotations

from dataclasses import dataclass

from worker.errors import TransportError


@dataclass(frozen=True)
class SentMessage:
    sender: str
    recipients: list[str]
    raw: bytes


@dataclass
class _Failure:
    permanent: bool
    message: str


class MemoryTransport:
    """`sent` lists every accepted message in order.

    `fail_next(n, permanent=...)` makes the next n sends raise TransportError;
    `refuse(address, reason)` makes that recipient refused while the others are accepted
    (or, when every recipient is refused, a permanent TransportError as from a real server).
    """

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.attempts = 0
        self.closed = False
        self._failures: list[_Failure] = []
        self._refused: dict[str, str] = {}

    def fail_next(
        self, times: int = 1, *, permanent: bool = False, message: str = "Simulated failure"
    ) -> None:
        self._failures.extend(_Failure(permanent, message) for _ in range(times))

    def refuse(self, address: str, reason: str = "550 5.1.1 No such user") -> None:
        self._refused[address.lower()] = reason

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        self.attempts += 1
        if self._failures:
            failure = self._failures.pop(0)
            raise TransportError(failure.message, permanent=failure.permanent, stage="send")
        if not recipients:
            raise TransportError("No recipients", permanent=True, stage="envelope")
        refused = {r: self._refused[r.lower()] for r in recipients if r.lower() in self._refused}
        if len(refused) == len(recipients):
            raise TransportError(
                "Every recipient refused", permanent=True, stage="recipients", refused=refused
            )
        self.sent.append(SentMessage(sender, list(recipients), raw))
        self.closed = False
        return refused

    def close(self) -> None:
        self.closed = True

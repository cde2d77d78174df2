"""One exception root. A subclass's docstring is its default message; errors carry data."""

from __future__ import annotations


class CourierError(Exception):
    """attendance-courier failed."""

    def __init__(self, message: str | None = None, **data: object) -> None:
        self.data = data
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(CourierError):
    """The configuration is not valid."""


class RulesError(CourierError):
    """A rules file in rules/ is not valid."""


class ImportFileError(CourierError):
    """A file could not be imported."""


class IllegalTransition(CourierError):
    """This case cannot make that transition from its current state."""


class TransportError(CourierError):
    """A mail transport failed.

    `permanent=True` means retrying will not help (a rejected recipient, a refused login);
    the outbox row is marked failed instead of being retried forever.
    """

    def __init__(self, message: str | None = None, *, permanent: bool = False, **data: object) -> None:
        self.permanent = permanent
        super().__init__(message, permanent=permanent, **data)


class SourceError(CourierError):
    """A mail source (IMAP, Maildir) failed."""


class UnsafeRecipient(CourierError):
    """An address is not registered for this pupil's Main School: pupil data must not go there."""


class NotFound(CourierError):
    """Nothing with that reference."""

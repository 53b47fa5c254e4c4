"""The one exception type a user can cause, with the field it concerns."""


class ContactsError(Exception):
    """A problem a user can fix; `field` names the input it concerns, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleContactError(ContactsError):
    """The contact changed (or vanished) since the caller read it."""


class DatabaseLockedError(ContactsError):
    """Another process holds the database file for writing."""


class PermissionDenied(ContactsError):
    """The acting user may not do this (unknown, deactivated, or an agent doing an admin's work)."""

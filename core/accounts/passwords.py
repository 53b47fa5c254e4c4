"""Passwords, hashed with argon2id (argon2-cffi); the clear text is never stored or logged."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ContactsError

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def check_password_strength(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ContactsError(f"A password has at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > 1024:
        raise ContactsError("A password has at most 1,024 characters.", field="password")


def hash_password(password: str) -> str:
    """The argon2id hash of a password (salted; its parameters travel in the hash)."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches the stored hash (False for a user with no password)."""
    if not stored_hash:
        _hasher.hash("spend-the-same-time")  # an unknown user should not answer faster than a wrong password
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False

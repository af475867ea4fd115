"""Steps shared by the import management commands (pupils, staff, marks)."""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def importing_user(username: str) -> Any:
    """Return the user named by --user, or None when no name was given."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user has username {username!r}.")
    return user


def read_import_file(path: Path) -> bytes:
    """Return the bytes of the file to import, or stop with the reason it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None

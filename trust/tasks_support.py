"""Helpers for long-running Celery tasks: progress in the cache and a test hook.

A task that writes in one transaction cannot show its progress through the
database, because nothing it writes is visible until it commits. It writes
its progress to the cache instead (Redis when REDIS_URL is set, the local
memory cache in the demo), keyed by what it works on, and the page that
watches it reads the same key.

checkpoint() lets a test hold a task at a named step. It does nothing unless
settings.TRUST_TEST_HOOKS_ENABLED is on and a hook is registered, either in
this process (use_hook) or through Redis (hold_at), which reaches a worker
in another process.
"""

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Progress outlives any import by far, and a finished run keeps its counts on
# its database row, so an entry that is never cleared only wastes a little memory.
PROGRESS_TIMEOUT_SECONDS = 24 * 60 * 60

# How long a held task waits for release before it carries on by itself, so a
# test that fails before releasing cannot leave a worker blocked for good.
HOLD_TIMEOUT_SECONDS = 120

_HOOK_PREFIX = "trust:test-hook"


class Progress(TypedDict):
    processed: int
    total: int
    step: str


def progress_key(kind: str, run_id: int) -> str:
    return f"trust:progress:{kind}:{run_id}"


def report_progress(key: str, *, processed: int, total: int, step: str) -> None:
    """Store how far a task has got, for pages that poll it."""
    value: Progress = {"processed": processed, "total": total, "step": step}
    cache.set(key, value, PROGRESS_TIMEOUT_SECONDS)


def read_progress(key: str) -> Progress | None:
    return cache.get(key)


def clear_progress(key: str) -> None:
    cache.delete(key)


# The test hook ---------------------------------------------------------------------

_local_hooks: dict[str, Callable[..., None]] = {}


@contextmanager
def use_hook(name: str, hook: Callable[..., None]) -> Iterator[None]:
    """Call `hook(**info)` at every checkpoint named `name` reached in this process."""
    _local_hooks[name] = hook
    try:
        yield
    finally:
        _local_hooks.pop(name, None)


def _redis() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _keys(name: str) -> tuple[str, str, str]:
    base = f"{_HOOK_PREFIX}:{name}"
    return f"{base}:hold", f"{base}:reached", f"{base}:release"


def checkpoint(name: str, **info: Any) -> None:
    """Mark a named step of a task, where a test may hold it.

    `info` (JSON-ready values) is passed to a local hook, or stored in Redis
    for a test in another process to read while the task waits.
    """
    if not settings.TRUST_TEST_HOOKS_ENABLED:
        return
    hook = _local_hooks.get(name)
    if hook is not None:
        hook(**info)
    if not settings.REDIS_URL:
        return
    hold, reached, release = _keys(name)
    client = _redis()
    # Only the first task to arrive is held, because arriving removes the hold.
    if not client.delete(hold):
        return
    client.set(reached, json.dumps(info))
    logger.info("Test hook: holding at %s with %s", name, info)
    if client.blpop([release], timeout=HOLD_TIMEOUT_SECONDS) is None:
        logger.warning("Test hook: %s was not released within %s s", name, HOLD_TIMEOUT_SECONDS)


def hold_at(name: str) -> None:
    """Make the next task that reaches checkpoint `name` wait until release(name)."""
    client = _redis()
    hold, reached, release = _keys(name)
    client.delete(reached, release)
    client.set(hold, "1")


def reached(name: str) -> dict[str, Any] | None:
    """Return the info of the task held at `name`, or None while none has arrived."""
    value = _redis().get(_keys(name)[1])
    return None if value is None else json.loads(value)


def release(name: str) -> None:
    """Let the task held at `name` carry on, and cancel a hold not yet reached."""
    client = _redis()
    hold, reached_key, release_key = _keys(name)
    client.delete(hold, reached_key)
    client.rpush(release_key, "1")

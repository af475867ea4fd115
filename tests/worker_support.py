"""Celery worker subprocesses for the tests that run tasks through Redis.

A worker started here reads the pytest database and the suite's Redis
database, so the tests that use it must be transactional: it sees only
committed rows.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{quote(db['USER'])}{password}@{host}:{port}/{db['NAME']}"


def wait_for(condition: Callable[[], Any], what: str, seconds: float) -> Any:
    """Return the first true value of `condition()`, polling for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {seconds} s waiting for {what}")


class WorkerProcesses:
    """Start worker subprocesses, each logging to its own file, and stop them.

    A subclass's `start` passes `launch` the arguments that choose the
    program, the queue and the pool.
    """

    # How long stop_all waits for a terminated worker before killing it.
    stop_seconds = 20

    def __init__(self, tmp_path: Path, name: str, **extra_env: str) -> None:
        self.name = name
        self.log_dir = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "trust.settings",
            "DATABASE_URL": database_url(),
            "DATABASE_POOL": "false",
            "REDIS_URL": settings.REDIS_URL,
            "TRUST_TEST_HOOKS": "true",
            "TRUST_VAR_DIR": str(tmp_path / "var"),
            **extra_env,
        }

    def launch(self, arguments: list[str], **popen: Any) -> subprocess.Popen[bytes]:
        """Start `python ARGUMENTS` with one worker process and a unique hostname."""
        number = len(self.processes) + 1
        log = open(self.log_dir / f"worker-{number}.log", "wb")  # noqa: SIM115
        command = [
            sys.executable,
            *arguments,
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={self.name}-{number}@%h",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, **popen
        )
        log.close()
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.kill()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.kill(process)
                process.wait(timeout=10)

    def logs(self, tail: int | None = 4000) -> str:
        """Return each worker's log, only its last `tail` characters unless `tail` is None or 0."""
        parts = []
        for path in sorted(self.log_dir.glob("worker-*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-tail:] if tail else text}")
        return "\n".join(parts)

"""Imports applied by a real Celery worker process through Redis.

Each test starts `celery worker --pool=solo` in a subprocess. The worker uses
the pytest database, which is why the tests are transactional: it sees only
committed rows. A test confirms an import through the pages and polls the
run page until the run reaches the expected state. It holds the task at a
named step with trust.tasks_support.hold_at, never with sleeps.
"""

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from pupils.models import Enrolment, ImportRun, Pupil
from trust import tasks_support
from trust.celery import app as celery_app

from .factories_imports import (
    IMPORT_MOMENT,
    PUPIL_HEADER,
    csv_bytes,
    pupil_row,
    secondary,
    trust_admin,
)

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60
ROWS = 300
# The worker restores a message left unacknowledged by a killed worker once
# it is older than this. Production keeps kombu's default of one hour, far
# above the task time limit.
VISIBILITY_TIMEOUT_SECONDS = 3
HOLD_STEP = "import-pupils"

WORKER_CODE = """
import sys
from trust.celery import app
app.conf.broker_transport_options = {
    "visibility_timeout": int(sys.argv[1]),
    "unacked_restore_interval": 1,
}
app.worker_main(sys.argv[2:])
"""


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{quote(db['USER'])}{password}@{host}:{port}/{db['NAME']}"


class Workers:
    """Start and stop worker subprocesses on the default queue."""

    def __init__(self, tmp_path: Path, name: str) -> None:
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
        }

    def start(self) -> subprocess.Popen[bytes]:
        number = len(self.processes) + 1
        log = open(self.log_dir / f"worker-{number}.log", "wb")  # noqa: SIM115
        command = [
            sys.executable,
            "-c",
            WORKER_CODE,
            str(VISIBILITY_TIMEOUT_SECONDS),
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={self.name}-{number}@%h",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("worker-*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


@pytest.fixture
def workers(tmp_path, settings) -> Iterator[Workers]:
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    # The Redis database of REDIS_URL belongs to this suite. Emptying it drops
    # messages and progress that an earlier session left, so the worker picks
    # up only this test's task.
    cache.clear()
    started = Workers(tmp_path, f"imports-{uuid.uuid4().hex[:8]}")
    try:
        yield started
    finally:
        celery_app.conf.task_always_eager = eager
        started.stop_all()
        tasks_support.release(HOLD_STEP)
        print(started.logs())


@pytest.fixture
def frozen_clock():
    # The confirm date, which the task receives, is 12/10/2026 whatever the
    # real date. tick=True keeps this process's clock moving while it waits.
    with time_machine.travel(IMPORT_MOMENT, tick=True):
        yield


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Return the first true value of `condition()`, polling for WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {WAIT_SECONDS} s waiting for {what}")


def confirm_import(client, academy) -> tuple[ImportRun, str]:
    file = io.BytesIO(csv_bytes([PUPIL_HEADER] + [pupil_row(i) for i in range(ROWS)]))
    file.name = "pupils.csv"
    preview = client.post(reverse("pupils:import"), {"academy": academy.pk, "file": file})
    assert client.get(preview["Location"]).status_code == 200
    confirmed = client.post(preview["Location"] + "confirm/")
    assert confirmed.status_code == 302
    return ImportRun.objects.get(), confirmed["Location"]


def run_status(run: ImportRun) -> str:
    run.refresh_from_db()
    return run.status


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_worker_applies_confirmed_import(client, workers, frozen_clock):
    academy = secondary(name="Oak Academy", urn="140101")
    admin = trust_admin(academy)
    client.force_login(admin)
    workers.start()

    run, url = confirm_import(client, academy)

    wait_for(lambda: run_status(run) == ImportRun.Status.DONE, "the run to finish")
    assert f"Import finished: {ROWS} pupils created" in page_text(client, url)
    run.refresh_from_db()
    assert run.created_count == ROWS
    assert run.total_rows == ROWS
    assert Pupil.objects.count() == ROWS
    assert Enrolment.objects.filter(start_date=IMPORT_MOMENT.date()).count() == ROWS


def test_run_page_shows_held_progress(client, workers, frozen_clock):
    academy = secondary(name="Oak Academy", urn="140101")
    client.force_login(trust_admin(academy))
    tasks_support.hold_at(HOLD_STEP)
    workers.start()

    run, url = confirm_import(client, academy)
    held = wait_for(lambda: tasks_support.reached(HOLD_STEP), "the task to reach the hold")

    assert held["run_id"] == run.pk
    assert 0 < held["processed"] < ROWS
    assert run_status(run) == ImportRun.Status.RUNNING
    text = page_text(client, url)
    assert f'max="{ROWS}" value="{held["processed"]}"' in text
    assert f"{held['processed']} of {ROWS} rows written." in text
    assert "The import is running." in text
    # The import's transaction is still open, so no pupil is visible yet.
    assert Pupil.objects.count() == 0

    tasks_support.release(HOLD_STEP)

    wait_for(lambda: run_status(run) == ImportRun.Status.DONE, "the run to finish")
    assert "Import finished" in page_text(client, url)
    assert Pupil.objects.count() == ROWS


def test_killed_worker_run_finished_by_next(client, workers, frozen_clock):
    academy = secondary(name="Oak Academy", urn="140101")
    client.force_login(trust_admin(academy))
    tasks_support.hold_at(HOLD_STEP)
    first = workers.start()

    run, url = confirm_import(client, academy)
    wait_for(lambda: tasks_support.reached(HOLD_STEP), "the task to reach the hold")
    first.kill()
    first.wait(timeout=20)

    # The killed worker's transaction was rolled back, so nothing is half-written.
    assert run_status(run) == ImportRun.Status.RUNNING
    assert Pupil.objects.count() == 0
    assert Enrolment.objects.count() == 0

    # Clear the hold so the redelivered task runs straight through.
    tasks_support.release(HOLD_STEP)
    workers.start()

    wait_for(lambda: run_status(run) == ImportRun.Status.DONE, "the next worker to finish")
    assert ImportRun.objects.count() == 1
    assert Pupil.objects.count() == ROWS
    assert Pupil.objects.values("upn").distinct().count() == ROWS
    assert "Import finished" in page_text(client, url)

"""Imports applied by a real Celery worker process through Redis.

Each test starts `celery worker --pool=solo` in a subprocess. The worker uses
the pytest database, which is why the tests are transactional: it sees only
committed rows. A test confirms an import through the pages and polls the
run page until the run reaches the expected state. It holds the task at a
named step with trust.tasks_support.hold_at, never with sleeps.
"""

import io
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from pupils.models import Enrolment, ImportRun, Pupil
from trust import tasks_support
from trust.celery import app as celery_app

from . import worker_support
from .factories_imports import (
    IMPORT_MOMENT,
    PUPIL_HEADER,
    csv_bytes,
    pupil_row,
    secondary,
    trust_admin,
)
from .worker_support import ROOT, WorkerProcesses, database_url  # noqa: F401

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

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


class Workers(WorkerProcesses):
    """Start and stop worker subprocesses on the default queue."""

    def start(self) -> subprocess.Popen[bytes]:
        return self.launch(
            ["-c", WORKER_CODE, str(VISIBILITY_TIMEOUT_SECONDS), "worker", "--pool=solo"]
        )


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
    return worker_support.wait_for(condition, what, WAIT_SECONDS)


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

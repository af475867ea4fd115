"""Report runs produced by a real Celery worker process through Redis.

Each test starts `celery worker` on the reports queue in a subprocess, with
the prefork pool and one pool process, as production runs it. The worker
uses the pytest database, which is why the tests are transactional: it sees
only committed rows. The worker keeps the production visibility timeout of
two hours, so a task that comes back within seconds after its pool process
is killed was requeued by reject_on_worker_lost, not restored by Redis.
Tests hold the task at a named step with trust.tasks_support.hold_at, never
with sleeps.
"""

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from reports.models import ReportRun
from reports.tasks import run_file_name
from trust import tasks_support
from trust.celery import app as celery_app

from . import test_pdf as pdf_tools
from . import worker_support
from .factories import AcademyFactory
from .factories_attstats import whole_year_term
from .personas import TODAY, Personas, build_personas
from .worker_support import ROOT, WorkerProcesses, database_url  # noqa: F401

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90
HOLD_STEPS = ["report-save", "report-saved"]
Status = ReportRun.Status


def pool_process_ids(main_pid: int) -> list[int]:
    """Return the ids of the pool processes the worker `main_pid` has forked."""
    children: list[int] = []
    for task in Path(f"/proc/{main_pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.extend(int(pid) for pid in text)
    return children


class Workers(WorkerProcesses):
    """Start and stop report worker subprocesses."""

    stop_seconds = 30

    def __init__(self, tmp_path: Path, reports_root: Path) -> None:
        super().__init__(
            tmp_path, f"reports-{uuid.uuid4().hex[:8]}", REPORTS_ROOT=str(reports_root)
        )

    def start(self) -> subprocess.Popen[bytes]:
        arguments = ["-m", "celery", "-A", "trust", "worker", "-Q", settings.REPORTS_QUEUE]
        # A session of its own, so teardown can stop the pool processes too.
        return self.launch([*arguments, "--pool=prefork"], start_new_session=True)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)

    def logs(self, tail: int | None = 6000) -> str:
        return super().logs(tail)


@pytest.fixture
def reports_root(tmp_path, settings) -> Path:
    root = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@pytest.fixture
def workers(tmp_path, reports_root, settings) -> Iterator[Workers]:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    # The Redis database of REDIS_URL belongs to this suite. Emptying it drops
    # messages and test-hook keys that an earlier session left, so the worker picks up
    # only this test's task.
    cache.clear()
    started = Workers(tmp_path, reports_root)
    try:
        yield started
    finally:
        celery_app.conf.task_always_eager = eager
        # A task still held would keep its pool process from stopping.
        for step in HOLD_STEPS:
            tasks_support.release(step)
        started.stop_all()
        print(started.logs())


@pytest.fixture
def world() -> Iterator[Personas]:
    # The request date, which the run keeps, is 04/12/2026 whatever the real
    # date. tick=True keeps this process's clock moving while it waits.
    with time_machine.travel(TODAY, tick=True):
        built = build_personas()
        whole_year_term(built.academic_year)
        yield built


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    return worker_support.wait_for(condition, what, WAIT_SECONDS)


def run_status(run: ReportRun) -> str:
    run.refresh_from_db()
    return run.status


def stored_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def request_governance(client, world: Personas) -> ReportRun:
    client.force_login(world.users["trust_leader"])
    response = client.post(reverse("reports-home"), {"kind": "governance"})
    assert response.status_code == 302
    return ReportRun.objects.get()


def poll_html(client, run: ReportRun) -> str:
    response = client.get(
        reverse("report-run-progress", args=[run.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code in (200, 286)
    return response.content.decode()


def test_worker_produces_pdf(client, world, workers, reports_root, tmp_path):
    workers.start()

    run = request_governance(client, world)

    wait_for(lambda: run_status(run) == Status.DONE, "the run to finish")
    assert run.progress == 100
    assert run.attempts == 1
    assert run.as_of == TODAY.date()
    assert stored_files(reports_root) == [run_file_name(run.pk)]
    html = poll_html(client, run)
    assert reverse("report-run-download", args=[run.pk]) in html
    download = client.get(reverse("report-run-download", args=[run.pk]))
    pdf = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF")
    text = pdf_tools.normalised(pdf_tools.pdf_text(pdf, tmp_path))
    assert "Governance report" in text
    assert "04/12/2026" in text


@pytest.mark.parametrize("step", HOLD_STEPS)
def test_killed_pool_process_requeued(client, world, workers, reports_root, step):
    tasks_support.hold_at(step)
    worker = workers.start()

    run = request_governance(client, world)
    held = wait_for(lambda: tasks_support.reached(step), f"the task to reach {step}")

    assert held["run_id"] == run.pk
    assert run_status(run) == Status.RUNNING
    html = poll_html(client, run)
    assert 'max="100" value="99"' in html
    assert "Saving the PDF" in html
    if step == "report-saved":
        # The killed attempt leaves its file behind; the next one replaces it.
        assert stored_files(reports_root) == [run_file_name(run.pk)]
    [pool_process] = pool_process_ids(worker.pid)
    os.kill(pool_process, signal.SIGKILL)

    # The same worker forks a new pool process, which gets the requeued task.
    # The first arrival used up the hold, so this one runs straight through.
    wait_for(lambda: run_status(run) == Status.DONE, "the next pool process to finish")
    assert worker.poll() is None
    assert pool_process not in pool_process_ids(worker.pid)
    assert run.attempts == 2
    assert ReportRun.objects.count() == 1
    assert stored_files(reports_root) == [run_file_name(run.pk)]
    assert run.size_bytes == (reports_root / run_file_name(run.pk)).stat().st_size
    assert "signal 9 (SIGKILL)" in workers.logs(tail=None)


def test_failing_run_records_error(client, world, workers, reports_root):
    empty = AcademyFactory(trust=world.academies["oak"].trust, name="Ash Academy")
    client.force_login(world.users["trust_leader"])
    workers.start()

    response = client.post(
        reverse("reports-home"),
        {"kind": "intervention", "intervention-target": f"academy-{empty.pk}"},
    )
    run = ReportRun.objects.get()

    assert response.status_code == 302
    wait_for(lambda: run_status(run) == Status.FAILED, "the run to fail")
    assert "Ash Academy" in run.error
    assert run.finished_at is not None
    assert stored_files(reports_root) == []
    assert "Ash Academy" in poll_html(client, run)
    assert f"Report run {run.pk} failed" in workers.logs(tail=None)

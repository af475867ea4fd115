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

from reports.models import ReportRun
from reports.tasks import run_file_name
from trust import tasks_support
from trust.celery import app as celery_app

from . import test_pdf as pdf_tools
from .factories import AcademyFactory
from .factories_attstats import whole_year_term
from .personas import TODAY, Personas, build_personas

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 90
HOLD_STEPS = ["report-save", "report-saved"]
Status = ReportRun.Status


def database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{quote(db['USER'])}{password}@{host}:{port}/{db['NAME']}"


def pool_process_ids(main_pid: int) -> list[int]:
    """Return the ids of the pool processes the worker `main_pid` has forked."""
    children: list[int] = []
    for task in Path(f"/proc/{main_pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.extend(int(pid) for pid in text)
    return children


class Workers:
    """Start and stop report worker subprocesses."""

    def __init__(self, tmp_path: Path, reports_root: Path) -> None:
        self.name = f"reports-{uuid.uuid4().hex[:8]}"
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
            "REPORTS_ROOT": str(reports_root),
        }

    def start(self) -> subprocess.Popen[bytes]:
        number = len(self.processes) + 1
        log = open(self.log_dir / f"worker-{number}.log", "wb")  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "trust",
            "worker",
            "-Q",
            settings.REPORTS_QUEUE,
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={self.name}-{number}@%h",
        ]
        # A session of its own, so teardown can stop the pool processes too.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self, tail: int | None = 6000) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("worker-*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-tail:] if tail else text}")
        return "\n".join(parts)


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
    """Return the first true value of `condition()`, polling for WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {WAIT_SECONDS} s waiting for {what}")


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

"""Import runs: the tasks run eagerly in this process, the run page, access and the test hook."""

import datetime
import io
from types import SimpleNamespace

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.urls import reverse

from pupils.models import Enrolment, ImportRun, Pupil
from pupils.services import create_import_run, queue_pupil_import
from pupils.tasks import MAX_RETRIES, apply_pupil_import, run_import
from staff.models import Role, StaffMember
from staff.tasks import apply_staff_import
from trust import tasks_support
from trust.models import AuditEvent
from trust.tabular import load_upload, store_upload

from .factories_imports import (
    IMPORT_DAY,
    IMPORT_MOMENT,
    PUPIL_HEADER,
    csv_bytes,
    pupil_row,
    secondary,
    trust_admin,
    user_with_role,
)

pytestmark = [pytest.mark.django_db]

STAFF_HEADER = ["First Name", "Surname", "Email", "Job Title", "Post Type", "Academy"]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(IMPORT_MOMENT, tick=False):
        yield


@pytest.fixture(autouse=True)
def upload_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    # Run ids restart with each test database, so progress left in Redis by an
    # earlier session would show on a new run with the same id.
    cache.clear()


@pytest.fixture
def academy():
    return secondary(name="Oak Academy", urn="140101")


@pytest.fixture
def admin_user(academy):
    return trust_admin(academy)


def pupil_file(count: int) -> bytes:
    return csv_bytes([PUPIL_HEADER] + [pupil_row(i) for i in range(count)])


def pupil_run(academy, user, content: bytes) -> ImportRun:
    return create_import_run(
        kind=ImportRun.Kind.PUPILS,
        user=user,
        filename="pupils.csv",
        stored_name=store_upload(content, "pupils.csv", "pupils"),
        academy=academy,
    )


def run_url(run: ImportRun) -> str:
    return reverse("pupils:import-run", args=[run.pk])


def poll(client, run: ImportRun):
    return client.get(run_url(run), headers={"HX-Request": "true"})


# The task ---------------------------------------------------------------------------


def test_task_applies_run_and_records_counts(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(250))

    status = apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat()).get()

    run.refresh_from_db()
    assert status == "done"
    assert run.status == ImportRun.Status.DONE
    assert run.created_count == 250
    assert run.updated_count == 0
    assert run.total_rows == 250
    assert run.processed_rows == 250
    assert run.started_at is not None
    assert run.finished_at is not None
    assert "250 pupils created" in run.summary
    assert Pupil.objects.count() == 250
    assert load_upload(run.stored_name) is None


def test_task_twice_writes_once(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(3))
    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())
    events = AuditEvent.objects.count()

    status = apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat()).get()

    assert status == "done"
    assert Pupil.objects.count() == 3
    assert AuditEvent.objects.count() == events
    assert ImportRun.objects.get().created_count == 3


def test_task_uses_confirm_date(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(2))

    # The worker picks the run up two days after the confirm.
    with time_machine.travel(IMPORT_MOMENT + datetime.timedelta(days=2), tick=False):
        apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    starts = set(Enrolment.objects.values_list("start_date", flat=True))
    assert starts == {IMPORT_DAY}


def test_task_audits_requesting_user(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(2))

    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    events = AuditEvent.objects.filter(model="pupils.Pupil")
    assert events.count() == 2
    assert set(events.values_list("actor", flat=True)) == {admin_user.pk}
    assert events.first().reason == "Pupil import: pupils.csv"


def test_invalid_file_fails_run(academy, admin_user):
    content = csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2, sex="X")])
    run = pupil_run(academy, admin_user, content)

    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "1 rows have errors" in run.error_message
    assert "line 3, Sex" in run.error_message
    assert Pupil.objects.count() == 0


def test_missing_upload_fails_run(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(1))
    default_storage.delete(run.stored_name)

    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "is no longer stored" in run.error_message


def test_requester_without_access_fails_run(academy):
    head = user_with_role(Role.HEADTEACHER, academy)
    run = pupil_run(academy, head, pupil_file(1))
    head.staff_member.roles.all().delete()

    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "may no longer import pupils" in run.error_message
    assert Pupil.objects.count() == 0


class StandInTask:
    """A task as a worker runs it: not eager, on attempt `retries` + 1."""

    def __init__(self, retries: int) -> None:
        self.request = SimpleNamespace(retries=retries, is_eager=False)
        self.retried: list[dict] = []

    def retry(self, **options):
        self.retried.append(options)
        return Retry("retry", options["exc"], when=options["countdown"])


def broken_apply(run, content, progress):
    raise OperationalError("server closed the connection unexpectedly")


def test_database_error_retried(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(2))
    task = StandInTask(retries=1)

    with pytest.raises(Retry):
        run_import(task, run.pk, ImportRun.Kind.PUPILS, broken_apply)

    run.refresh_from_db()
    assert task.retried[0]["countdown"] == 2
    assert run.status == ImportRun.Status.RUNNING
    assert load_upload(run.stored_name) is not None


def test_database_error_retries_bounded(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(2))
    task = StandInTask(retries=MAX_RETRIES)

    status = run_import(task, run.pk, ImportRun.Kind.PUPILS, broken_apply)

    run.refresh_from_db()
    assert status == "failed"
    assert task.retried == []
    assert run.status == ImportRun.Status.FAILED
    assert "database was unavailable" in run.error_message


def test_database_error_eager_fails(academy, admin_user, monkeypatch):
    from pupils import tasks

    def broken(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "pupil_import_apply", broken)
    run = pupil_run(academy, admin_user, pupil_file(2))

    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert Pupil.objects.count() == 0


def test_task_options_bounded():
    for task in (apply_pupil_import, apply_staff_import):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.max_retries == 3
        assert task.time_limit is not None
        assert task.soft_time_limit < task.time_limit


def test_staff_task_applies_run(academy, admin_user):
    content = csv_bytes(
        [STAFF_HEADER]
        + [
            [f"First{i}", f"Last{i}", f"s{i}@oak.example", "Teacher", "Teacher", academy.urn]
            for i in range(120)
        ]
    )
    run = create_import_run(
        kind=ImportRun.Kind.STAFF,
        user=admin_user,
        filename="staff.csv",
        stored_name=store_upload(content, "staff.csv", "staff"),
    )

    apply_staff_import.delay(run.pk)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert run.created_count == 120
    assert run.total_rows == 120
    assert StaffMember.objects.filter(email__endswith="@oak.example").count() == 120


def test_run_of_other_kind_ignored(academy, admin_user):
    run = pupil_run(academy, admin_user, pupil_file(1))

    assert apply_staff_import.delay(run.pk).get() == "missing"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED


# Progress and the test hook --------------------------------------------------------


def test_run_page_shows_progress_mid_run(client, academy, admin_user):
    client.force_login(admin_user)
    run = pupil_run(academy, admin_user, pupil_file(250))
    seen = []

    def look(**info):
        seen.append((info["processed"], poll(client, run)))

    with tasks_support.use_hook("import-pupils", look):
        apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    assert [processed for processed, _ in seen] == [100, 200, 250]
    response = seen[0][1]
    body = response.content.decode()
    assert response.status_code == 200
    assert '<progress id="import-progress" max="250" value="100">40%</progress>' in body
    assert "<span>40%</span>" in body
    assert "100 of 250 rows written." in body
    assert 'hx-trigger="every 1s"' in body


def test_poll_announces_status_change_once(client, academy, admin_user):
    client.force_login(admin_user)
    run = pupil_run(academy, admin_user, pupil_file(1))
    run.status = ImportRun.Status.RUNNING
    run.save()
    url = run_url(run)

    changed = client.get(url, {"shown": "queued"}, headers={"HX-Request": "true"})
    same = client.get(url, {"shown": "running"}, headers={"HX-Request": "true"})

    assert 'id="import-run-state" hx-swap-oob="innerHTML">The import is running.' in (
        changed.content.decode()
    )
    assert "hx-swap-oob" not in same.content.decode()
    assert f'hx-get="{url}?shown=running"' in same.content.decode()
    page = client.get(url).content.decode()
    assert '<p id="import-run-state" role="status" aria-live="polite" class="message">' in page


def test_hook_ignored_when_disabled(settings, academy, admin_user):
    settings.TRUST_TEST_HOOKS_ENABLED = False
    run = pupil_run(academy, admin_user, pupil_file(2))
    seen = []

    with tasks_support.use_hook("import-pupils", lambda **info: seen.append(info)):
        apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    assert seen == []
    assert Pupil.objects.count() == 2


def test_redis_hold_used_once():
    tasks_support.hold_at("unit-step")
    # A release pushed before the task arrives lets it through without waiting.
    tasks_support._redis().rpush("trust:test-hook:unit-step:release", "1")

    tasks_support.checkpoint("unit-step", processed=5)
    assert tasks_support.reached("unit-step") == {"processed": 5}

    # Arriving used the hold up, so the next task passes straight through.
    tasks_support.checkpoint("unit-step", processed=6)
    assert tasks_support.reached("unit-step") == {"processed": 5}
    tasks_support.release("unit-step")
    assert tasks_support.reached("unit-step") is None


# Pages -------------------------------------------------------------------------------


def upload(client, academy, content):
    file = io.BytesIO(content)
    file.name = "pupils.csv"
    return client.post(reverse("pupils:import"), {"academy": academy.pk, "file": file})


def test_confirm_queues_run_on_commit(
    client, academy, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    location = upload(client, academy, pupil_file(3))["Location"]
    client.get(location)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(location + "confirm/")

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert len(callbacks) == 1
    assert run.status == ImportRun.Status.QUEUED
    assert run.requested_by == admin_user
    assert run.academy == academy
    assert Pupil.objects.count() == 0
    page = client.get(run_url(run)).content.decode()
    assert "Waiting to start the import." in page
    assert 'hx-trigger="every 1s"' in page
    assert "<progress" in page

    callbacks[0]()

    assert Pupil.objects.count() == 3


def test_run_page_done_stops_polling(client, academy, admin_user):
    client.force_login(admin_user)
    run = pupil_run(academy, admin_user, pupil_file(3))
    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    page = client.get(run_url(run))
    fragment = poll(client, run)

    body = page.content.decode()
    assert page.status_code == 200
    assert "Import finished: 3 pupils created" in body
    assert "hx-trigger" not in body
    assert reverse("pupils:search") in body
    assert fragment.status_code == 286
    assert "<html" not in fragment.content.decode()


def test_failed_run_page_shows_reason(client, academy, admin_user):
    client.force_login(admin_user)
    run = pupil_run(academy, admin_user, csv_bytes([PUPIL_HEADER]))
    apply_pupil_import.delay(run.pk, IMPORT_DAY.isoformat())

    body = client.get(run_url(run)).content.decode()

    assert "The import failed and nothing was saved." in body
    assert "Nothing was imported" in body
    assert "no data rows" in body
    assert "hx-trigger" not in body


def test_run_page_access(client, academy, admin_user):
    head = user_with_role(Role.HEADTEACHER, academy)
    own = pupil_run(academy, head, pupil_file(1))
    elm = secondary(trust=academy.trust, name="Elm Academy")
    other_head = user_with_role(Role.HEADTEACHER, elm)

    client.force_login(other_head)
    assert client.get(run_url(own)).status_code == 404
    client.force_login(head)
    assert client.get(run_url(own)).status_code == 200
    assert client.get(reverse("staff:import-run", args=[own.pk])).status_code == 404
    client.force_login(admin_user)
    assert client.get(run_url(own)).status_code == 200


def test_upload_page_lists_own_runs(client, academy, admin_user):
    mine = pupil_run(academy, admin_user, pupil_file(1))
    other = pupil_run(academy, trust_admin(academy), pupil_file(1))
    other.filename = "someone-else.csv"
    other.save()
    client.force_login(admin_user)

    body = client.get(reverse("pupils:import")).content.decode()

    assert "Your recent imports" in body
    assert run_url(mine) in body
    assert "someone-else.csv" not in body


def test_staff_run_page_for_admin_only(client, academy, admin_user):
    run = create_import_run(
        kind=ImportRun.Kind.STAFF,
        user=admin_user,
        filename="staff.csv",
        stored_name=store_upload(csv_bytes([STAFF_HEADER]), "staff.csv", "staff"),
    )
    url = reverse("staff:import-run", args=[run.pk])

    client.force_login(user_with_role(Role.HEADTEACHER, academy))
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_unreachable_broker_fails_run(
    academy, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError as BrokerUnavailable

    def unreachable(*args, **kwargs):
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(apply_pupil_import, "delay", unreachable)
    stored = store_upload(pupil_file(1), "pupils.csv", "pupils")

    with django_capture_on_commit_callbacks(execute=True):
        run = queue_pupil_import(
            academy=academy,
            filename="pupils.csv",
            stored_name=stored,
            user=admin_user,
            import_date=IMPORT_DAY,
        )

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "could not be queued" in run.error_message
    assert load_upload(stored) is None
    assert Pupil.objects.count() == 0


def test_queue_service_records_run(academy, admin_user, django_capture_on_commit_callbacks):
    stored = store_upload(pupil_file(1), "pupils.csv", "pupils")

    with django_capture_on_commit_callbacks(execute=True):
        run = queue_pupil_import(
            academy=academy,
            filename="pupils.csv",
            stored_name=stored,
            user=admin_user,
            import_date=IMPORT_DAY,
        )

    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert run.academy == academy
    assert Pupil.objects.count() == 1

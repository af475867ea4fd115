"""Report runs: the request service and its access rules, the Reports page,
the run page with its progress fragment, the download, and the task run
eagerly in this process."""

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.urls import reverse

from reports import access
from reports.models import ReportRun
from reports.services import request_report
from reports.tasks import MAX_ATTEMPTS, MAX_RETRIES, generate_report, run_file_name
from staff.models import RoleAssignment
from trust import tasks_support

from . import factories_reports
from . import test_pdf as pdf_tools
from .factories_reports import mark_done
from .personas import TODAY, Personas

pytestmark = pytest.mark.django_db

# Fixtures from factories_reports, bound here so that pytest finds them.
frozen_clock = factories_reports.frozen_clock
reports_root = factories_reports.reports_root
world = factories_reports.world

Kind = ReportRun.Kind
Status = ReportRun.Status


def stored_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def login(client, world: Personas, persona: str):
    client.force_login(world.users[persona])
    return client


def queued_run(world: Personas, persona: str | None, kind: str = Kind.INTERVENTION, **fields):
    """Record a run without running its task."""
    fields.setdefault("as_of", TODAY.date())
    if kind == Kind.INTERVENTION and "academy" not in fields:
        fields["academy"] = world.academies["oak"]
    return ReportRun.objects.create(
        kind=kind,
        requested_by=world.users[persona] if persona else None,
        scheduled=persona is None,
        **fields,
    )


def finish(run: ReportRun, content: bytes = b"%PDF-1.7 test") -> ReportRun:
    """Give `run` a stored file and mark it done, as the task does."""
    return mark_done(run, content, f"report-{run.pk}.pdf")


def target(world: Personas, name: str) -> dict[str, Any]:
    """Return the request arguments for an academy key or a year group key."""
    if name in world.academies:
        return {"academy_id": world.academies[name].pk}
    if name in world.year_groups:
        return {"year_group_id": world.year_groups[name].pk}
    return {}


def errors_of(error: ValidationError) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in error.message_dict.items()}


# Who may request what ----------------------------------------------------------------

REQUEST_MATRIX = [
    ("trust_leader", Kind.INTERVENTION, "oak", True),
    ("trust_leader", Kind.INTERVENTION, "elm9", True),
    ("trust_leader", Kind.GOVERNANCE, None, True),
    ("trust_leader", Kind.PARENT_LETTERS, "oak9", True),
    ("headteacher", Kind.INTERVENTION, "oak", True),
    ("headteacher", Kind.INTERVENTION, "oak10", True),
    ("headteacher", Kind.INTERVENTION, "elm", False),
    ("headteacher", Kind.GOVERNANCE, None, False),
    ("headteacher", Kind.PARENT_LETTERS, "oak9", True),
    ("headteacher", Kind.PARENT_LETTERS, "elm9", False),
    ("head_of_year", Kind.INTERVENTION, "oak9", True),
    ("head_of_year", Kind.INTERVENTION, "oak", False),
    ("head_of_year", Kind.INTERVENTION, "oak10", False),
    ("head_of_year", Kind.GOVERNANCE, None, False),
    ("head_of_year", Kind.PARENT_LETTERS, "oak9", True),
    ("head_of_year", Kind.PARENT_LETTERS, "oak10", False),
    ("teacher", Kind.INTERVENTION, "oak", False),
    ("teacher", Kind.INTERVENTION, "oak9", False),
    ("teacher", Kind.GOVERNANCE, None, False),
    ("teacher", Kind.PARENT_LETTERS, "oak9", False),
    ("trustee", Kind.INTERVENTION, "oak", True),
    ("trustee", Kind.INTERVENTION, "elm10", True),
    ("trustee", Kind.GOVERNANCE, None, True),
    ("trustee", Kind.PARENT_LETTERS, "oak9", False),
]


@pytest.mark.parametrize(("persona", "kind", "subject", "allowed"), REQUEST_MATRIX)
def test_request_access_matrix(world, persona, kind, subject, allowed):
    user = world.users[persona]
    arguments = {"user": user, "kind": kind, **target(world, subject)}

    if allowed:
        run = request_report(**arguments)
        assert run.status == Status.QUEUED
        assert run.requested_by == user
        assert run.task_id
    else:
        with pytest.raises(PermissionDenied):
            request_report(**arguments)
        assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    ("persona", "kinds"),
    [
        ("trust_leader", [Kind.INTERVENTION, Kind.GOVERNANCE, Kind.PARENT_LETTERS]),
        ("headteacher", [Kind.INTERVENTION, Kind.PARENT_LETTERS]),
        ("head_of_year", [Kind.INTERVENTION, Kind.PARENT_LETTERS]),
        ("teacher", []),
        ("trustee", [Kind.INTERVENTION, Kind.GOVERNANCE]),
    ],
)
def test_requestable_kinds_by_role(world, persona, kinds):
    assert access.requestable_kinds(world.users[persona]) == kinds


@pytest.mark.parametrize("persona", ["trust_leader", "headteacher", "head_of_year", "teacher"])
def test_letter_year_groups_match_rule(world, persona):
    from progress.parents import can_print_year_group_letters

    user = world.users[persona]
    listed = set(access.letter_year_groups(user).values_list("pk", flat=True))
    allowed = {
        group.pk
        for group in world.year_groups.values()
        if can_print_year_group_letters(user, group)
    }
    assert listed == allowed


def test_year_group_run_filed_under_academy(world):
    run = request_report(
        user=world.users["head_of_year"],
        kind=Kind.INTERVENTION,
        year_group_id=world.year_groups["oak9"].pk,
    )

    assert run.academy == world.academies["oak"]
    assert run.year_group_id == world.year_groups["oak9"].pk
    assert run.as_of == TODAY.date()
    assert run.params == {
        "as_of": "2026-12-04",
        "academy": world.academies["oak"].pk,
        "year_group": world.year_groups["oak9"].pk,
    }


def test_request_queues_task_on_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = request_report(user=world.users["trust_leader"], kind=Kind.GOVERNANCE)

    assert len(callbacks) == 1
    assert run.status == Status.QUEUED


# Bad input ----------------------------------------------------------------------------


def test_unknown_kind_names_value_and_allowed(world):
    with pytest.raises(ValidationError) as raised:
        request_report(user=world.users["trust_leader"], kind="weekly")

    message = errors_of(raised.value)["kind"]
    assert "'weekly' is not a report kind" in message
    assert "intervention (Intervention report)" in message
    assert "governance (Governance report)" in message
    assert "parent_letters (Parents' letters)" in message


@pytest.mark.parametrize(
    ("arguments", "field", "expected"),
    [
        ({"academy_id": "abc"}, "academy", "'abc' is not a valid academy id"),
        ({"academy_id": 0}, "academy", "0 is not a valid academy id"),
        ({"academy_id": 999999}, "academy", "Academy 999999 was not found"),
        ({"year_group_id": "9x"}, "year_group", "'9x' is not a valid year group id"),
        ({"year_group_id": 999999}, "year_group", "Year group 999999 was not found"),
        ({}, "academy", "neither was given"),
    ],
)
def test_intervention_bad_subject_named(world, arguments, field, expected):
    with pytest.raises(ValidationError) as raised:
        request_report(user=world.users["trust_leader"], kind=Kind.INTERVENTION, **arguments)

    assert expected in errors_of(raised.value)[field]


def test_year_group_of_other_academy_rejected(world):
    elm9 = world.year_groups["elm9"]

    with pytest.raises(ValidationError) as raised:
        request_report(
            user=world.users["trust_leader"],
            kind=Kind.INTERVENTION,
            academy_id=world.academies["oak"].pk,
            year_group_id=elm9.pk,
        )

    message = errors_of(raised.value)["year_group"]
    assert f"Year group {elm9.pk} (Year 9) belongs to Elm Academy" in message
    assert "not to academy" in message


def test_governance_takes_no_academy(world):
    oak = world.academies["oak"]

    with pytest.raises(ValidationError) as raised:
        request_report(user=world.users["trust_leader"], kind=Kind.GOVERNANCE, academy_id=oak.pk)

    assert f"takes no academy (got {oak.pk})" in errors_of(raised.value)["academy"]


def test_letters_need_year_group(world):
    with pytest.raises(ValidationError) as raised:
        request_report(
            user=world.users["headteacher"],
            kind=Kind.PARENT_LETTERS,
            academy_id=world.academies["oak"].pk,
        )

    assert "none was given" in errors_of(raised.value)["year_group"]


def test_future_as_of_rejected(world):
    with pytest.raises(ValidationError) as raised:
        request_report(
            user=world.users["trust_leader"],
            kind=Kind.GOVERNANCE,
            as_of=datetime.date(2026, 12, 5),
        )

    message = errors_of(raised.value)["as_of"]
    assert "05/12/2026 is in the future" in message
    assert "today (04/12/2026) or an earlier day" in message


def test_as_of_outside_years_rejected(world):
    with pytest.raises(ValidationError) as raised:
        request_report(
            user=world.users["trust_leader"],
            kind=Kind.GOVERNANCE,
            as_of=datetime.date(2019, 5, 1),
        )

    message = errors_of(raised.value)["as_of"]
    assert "01/05/2019 is outside every academic year" in message
    assert "2026/27 to 2026/27" in message


def test_earlier_as_of_kept(world):
    run = request_report(
        user=world.users["trust_leader"],
        kind=Kind.GOVERNANCE,
        as_of=datetime.date(2026, 10, 1),
    )

    assert run.as_of == datetime.date(2026, 10, 1)
    assert run.params == {"as_of": "2026-10-01"}


# Visible and downloadable runs -----------------------------------------------------


def test_visible_runs_by_role(world):
    own = queued_run(world, "head_of_year", year_group_id=world.year_groups["oak9"].pk)
    oak_weekly = queued_run(world, None, academy=world.academies["oak"])
    elm_weekly = queued_run(world, None, academy=world.academies["elm"])
    governance = queued_run(world, None, kind=Kind.GOVERNANCE)

    def visible(persona: str) -> set[int]:
        return set(access.visible_runs(world.users[persona]).values_list("pk", flat=True))

    assert visible("head_of_year") == {own.pk}
    assert visible("headteacher") == {oak_weekly.pk}
    assert visible("trust_leader") == {oak_weekly.pk, elm_weekly.pk, governance.pk}
    assert visible("trustee") == {governance.pk}
    assert visible("teacher") == set()


def test_trustees_share_a_leader_s_governance_report(world):
    run = finish(queued_run(world, "trust_leader", kind=Kind.GOVERNANCE))

    trustee = world.users["trustee"]
    assert access.visible_runs(trustee).filter(pk=run.pk).exists()
    assert access.can_download(trustee, run)
    assert not access.visible_runs(world.users["headteacher"]).filter(pk=run.pk).exists()


def test_download_lost_with_role(world):
    user = world.users["head_of_year"]
    run = finish(queued_run(world, "head_of_year", year_group_id=world.year_groups["oak9"].pk))
    assert access.can_download(user, run)

    RoleAssignment.objects.filter(staff=world.staff["head_of_year"]).update(
        ends_on=datetime.date(2026, 12, 3)
    )
    user.refresh_from_db()
    del user._trust_scope

    assert not access.can_download(user, run)


# The Reports page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        (
            "trust_leader",
            [
                "Request the intervention report",
                "Request the governance report",
                "Request the parents",
            ],
            [],
        ),
        (
            "headteacher",
            ["Request the intervention report", "Request the parents"],
            ["Request the governance report"],
        ),
        (
            "head_of_year",
            ["Request the intervention report", "Request the parents"],
            ["Request the governance report", "Oak Academy: whole academy"],
        ),
        (
            "trustee",
            ["Request the intervention report", "Request the governance report"],
            ["Request the parents"],
        ),
        (
            "teacher",
            ["Your role does not let you request a report"],
            ["Request the intervention report"],
        ),
    ],
)
def test_home_forms_by_role(client, world, persona, shown, hidden):
    response = login(client, world, persona).get(reverse("reports-home"))
    html = response.content.decode()

    assert response.status_code == 200
    for text in shown:
        assert text.replace("'", "&#x27;") in html or text in html
    for text in hidden:
        assert text not in html


def test_home_trustee_links_dashboard(client, world):
    html = login(client, world, "trustee").get(reverse("reports-home")).content.decode()

    assert reverse("trust-dashboard") in html
    assert "No governance report has been produced yet" in html
    for pupil in world.pupils.values():
        assert pupil.legal_surname.replace("'", "&#x27;") not in html


def test_home_lists_latest_governance(client, world):
    run = finish(queued_run(world, None, kind=Kind.GOVERNANCE))

    html = login(client, world, "trustee").get(reverse("reports-home")).content.decode()

    assert "Latest governance report" in html
    assert reverse("report-run-download", args=[run.pk]) in html
    assert "No governance report has been produced yet" not in html


def test_home_lists_past_runs(client, world):
    done = finish(queued_run(world, "headteacher"))
    failed = queued_run(world, "headteacher", status=Status.FAILED, error="No pupils.")
    other = finish(queued_run(world, "trust_leader"))

    html = login(client, world, "headteacher").get(reverse("reports-home")).content.decode()

    assert reverse("report-run", args=[done.pk]) in html
    assert reverse("report-run-download", args=[done.pk]) in html
    assert reverse("report-run", args=[failed.pk]) in html
    assert reverse("report-run-download", args=[failed.pk]) not in html
    assert reverse("report-run", args=[other.pk]) not in html
    assert "Oak Academy" in html
    assert "<td>headteacher</td>" in html


def test_home_queries_do_not_grow(client, world, django_assert_max_num_queries):
    login(client, world, "trust_leader")
    for _ in range(3):
        finish(queued_run(world, "trust_leader", year_group_id=world.year_groups["oak9"].pk))
    client.get(reverse("reports-home"))
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("reports-home"))
    for _ in range(10):
        finish(queued_run(world, "trust_leader", year_group_id=world.year_groups["elm9"].pk))

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("reports-home")).status_code == 200


def test_post_request_redirects_to_run(client, world):
    oak9 = world.year_groups["oak9"]

    response = login(client, world, "head_of_year").post(
        reverse("reports-home"),
        {"kind": "intervention", "intervention-target": f"year_group-{oak9.pk}"},
    )

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("report-run", args=[run.pk])
    assert run.year_group_id == oak9.pk
    assert run.requested_by == world.users["head_of_year"]


def test_post_choice_outside_scope_400(client, world):
    elm9 = world.year_groups["elm9"]

    response = login(client, world, "head_of_year").post(
        reverse("reports-home"),
        {"kind": "intervention", "intervention-target": f"year_group-{elm9.pk}"},
    )

    assert response.status_code == 400
    assert f"year_group-{elm9.pk} is not an academy or year group" in response.content.decode()
    assert not ReportRun.objects.exists()


def test_post_kind_not_allowed_400(client, world):
    response = login(client, world, "teacher").post(reverse("reports-home"), {"kind": "governance"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "&#x27;governance&#x27; is not a kind of report you may request" in html
    assert "Allowed values: none." in html


def test_post_future_date_400(client, world):
    response = login(client, world, "trust_leader").post(
        reverse("reports-home"), {"kind": "governance", "governance-as_of": "2027-01-10"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "10/01/2027 is in the future" in html
    assert 'value="2027-01-10"' in html
    assert not ReportRun.objects.exists()


def test_post_bad_date_400(client, world):
    response = login(client, world, "trust_leader").post(
        reverse("reports-home"), {"kind": "governance", "governance-as_of": "31/02/2026"}
    )

    assert response.status_code == 400
    assert "Enter a date as dd/mm/yyyy" in response.content.decode()


def test_letters_button_requests_batch(client, world, rf):
    from django.template.loader import render_to_string

    oak9 = world.year_groups["oak9"]
    request = rf.get("/")
    request.user = world.users["head_of_year"]
    html = render_to_string(
        "reports/run_request_letters.html", {"year_group": oak9}, request=request
    )
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', html))
    del fields["csrfmiddlewaretoken"]

    response = login(client, world, "head_of_year").post(reverse("reports-home"), fields)

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert run.kind == Kind.PARENT_LETTERS
    assert run.year_group_id == oak9.pk


def test_letters_form_prefilled_from_query(client, world):
    oak9 = world.year_groups["oak9"]
    url = reverse("reports-home") + f"?kind=parent_letters&target=year_group-{oak9.pk}"

    html = login(client, world, "head_of_year").get(url).content.decode()

    assert f'<option value="year_group-{oak9.pk}" selected>' in html


# The run page and its progress fragment ----------------------------------------------------


def poll(client, run: ReportRun, shown: str = ""):
    url = reverse("report-run-progress", args=[run.pk])
    return client.get(url + (f"?shown={shown}" if shown else ""), headers={"HX-Request": "true"})


def test_run_page_queued_polls(client, world):
    run = queued_run(world, "headteacher")

    html = login(client, world, "headteacher").get(reverse("report-run", args=[run.pk])).content
    html = html.decode()

    assert 'hx-trigger="every 1s"' in html
    assert reverse("report-run-progress", args=[run.pk]) in html
    assert '<label for="report-progress">Report produced</label>' in html
    assert 'aria-live="polite"' in html
    assert "waiting for a worker" in html


def test_progress_running_shows_step(client, world):
    run = queued_run(world, "headteacher", status=Status.RUNNING, progress=40, step="Reading")

    response = poll(login(client, world, "headteacher"), run, shown="queued")
    html = response.content.decode()

    assert response.status_code == 200
    assert 'max="100" value="40"' in html
    assert "Reading" in html
    assert 'hx-trigger="every 1s"' in html
    assert 'hx-swap-oob="innerHTML">The report is being produced.' in html


def test_progress_done_stops_polling(client, world):
    run = finish(queued_run(world, "headteacher"))

    response = poll(login(client, world, "headteacher"), run, shown="running")
    html = response.content.decode()

    assert response.status_code == 286
    assert "hx-get" not in html
    assert reverse("report-run-download", args=[run.pk]) in html
    assert "The report is ready to download." in html


def test_progress_failed_shows_error(client, world):
    run = queued_run(
        world,
        "headteacher",
        status=Status.FAILED,
        progress=30,
        error="No pupil is on roll in Oak Academy on 04/12/2026, so there is nothing to report.",
    )

    response = poll(login(client, world, "headteacher"), run, shown="failed")
    html = response.content.decode()

    assert response.status_code == 286
    assert "No pupil is on roll in Oak Academy" in html
    assert "hx-get" not in html
    assert "hx-swap-oob" not in html
    assert reverse("report-run-download", args=[run.pk]) not in html


@pytest.mark.parametrize("name", ["report-run", "report-run-progress", "report-run-download"])
@pytest.mark.parametrize("persona", ["teacher", "trustee", "head_of_year"])
def test_other_users_get_404(client, world, name, persona):
    run = finish(queued_run(world, "headteacher"))

    response = login(client, world, persona).get(reverse(name, args=[run.pk]))

    assert response.status_code == 404


def test_download_sends_attachment(client, world):
    run = finish(queued_run(world, "headteacher"), content=b"%PDF-1.7 the report")

    response = login(client, world, "headteacher").get(
        reverse("report-run-download", args=[run.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="report-{run.pk}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 the report"


def test_download_before_done_404(client, world):
    run = queued_run(world, "headteacher", status=Status.RUNNING)

    response = login(client, world, "headteacher").get(
        reverse("report-run-download", args=[run.pk])
    )

    assert response.status_code == 404


def test_download_missing_file_404(client, world, reports_root):
    run = finish(queued_run(world, "headteacher"))
    (reports_root / run.file.name).unlink()

    response = login(client, world, "headteacher").get(
        reverse("report-run-download", args=[run.pk])
    )

    assert response.status_code == 404


def test_scheduled_run_downloads_for_headteacher(client, world):
    run = finish(queued_run(world, None, academy=world.academies["oak"]))

    response = login(client, world, "headteacher").get(
        reverse("report-run-download", args=[run.pk])
    )

    assert response.status_code == 200


# The task, run eagerly ----------------------------------------------------------------------


def test_governance_end_to_end(
    client, world, tmp_path, reports_root, django_capture_on_commit_callbacks
):
    login(client, world, "trust_leader")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports-home"), {"kind": "governance"})

    run = ReportRun.objects.get()
    assert response["Location"] == reverse("report-run", args=[run.pk])
    assert run.status == Status.DONE, run.error
    assert run.progress == 100
    assert run.attempts == 1
    assert run.pages and run.pages >= 1
    assert run.started_at <= run.finished_at
    assert stored_files(reports_root) == [run_file_name(run.pk)]
    assert run.size_bytes == (reports_root / run_file_name(run.pk)).stat().st_size

    download = client.get(reverse("report-run-download", args=[run.pk]))
    pdf = b"".join(download.streaming_content)
    assert pdf.startswith(b"%PDF")
    text = pdf_tools.normalised(pdf_tools.pdf_text(pdf, tmp_path))
    assert "Governance report" in text
    assert "04/12/2026" in text


def test_intervention_end_to_end(world, tmp_path, reports_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = request_report(
            user=world.users["headteacher"],
            kind=Kind.INTERVENTION,
            academy_id=world.academies["oak"].pk,
        )

    run.refresh_from_db()
    assert run.status == Status.DONE, run.error
    content = (reports_root / run.file.name).read_bytes()
    text = pdf_tools.normalised(pdf_tools.pdf_text(content, tmp_path))
    assert "Intervention report" in text
    assert "Oak Academy" in text


def test_trustee_intervention_has_no_names(
    world, tmp_path, reports_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = request_report(
            user=world.users["trustee"],
            kind=Kind.INTERVENTION,
            academy_id=world.academies["oak"].pk,
        )

    run.refresh_from_db()
    assert run.status == Status.DONE, run.error
    content = (reports_root / run.file.name).read_bytes()
    text = pdf_tools.normalised(pdf_tools.pdf_text(content, tmp_path))
    assert "Intervention report" in text
    for pupil in world.pupils.values():
        assert pupil.legal_surname not in text


def test_task_twice_keeps_one_file(world, reports_root):
    run = queued_run(world, None, kind=Kind.GOVERNANCE)
    assert generate_report.delay(run.pk).get() == Status.DONE
    run.refresh_from_db()
    first_finished, first_size = run.finished_at, run.size_bytes

    assert generate_report.delay(run.pk).get() == Status.DONE

    run.refresh_from_db()
    assert run.attempts == 1
    assert run.finished_at == first_finished
    assert run.size_bytes == first_size
    assert stored_files(reports_root) == [run_file_name(run.pk)]


def test_retry_after_saved_file_keeps_one(world, reports_root):
    run = queued_run(world, None, kind=Kind.GOVERNANCE)
    failures = []

    def fail_once(**info: Any) -> None:
        if not failures:
            failures.append(info)
            raise OperationalError("server closed the connection unexpectedly")

    with tasks_support.use_hook("report-saved", fail_once):
        status = generate_report.delay(run.pk).get()

    run.refresh_from_db()
    assert status == Status.DONE
    assert failures == [{"run_id": run.pk, "file": run_file_name(run.pk)}]
    assert run.status == Status.DONE
    assert run.attempts == 2
    assert stored_files(reports_root) == [run_file_name(run.pk)]


def test_transient_errors_fail_after_retries(world, reports_root):
    run = queued_run(world, None, kind=Kind.GOVERNANCE)
    calls = []

    def always_fail(**info: Any) -> None:
        calls.append(info)
        raise OperationalError("could not connect to server")

    with tasks_support.use_hook("report-start", always_fail):
        assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert len(calls) == MAX_RETRIES + 1
    assert run.status == Status.FAILED
    assert run.attempts == MAX_RETRIES + 1
    assert "database or the task broker was unavailable after 3 retries" in run.error
    assert stored_files(reports_root) == []


def test_on_failure_marks_run_failed(world):
    run = queued_run(world, None, kind=Kind.GOVERNANCE, status=Status.RUNNING)

    generate_report.on_failure(OperationalError("gone"), run.task_id, (run.pk,), {}, None)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("The report failed because the database or the task broker")


def test_academy_without_pupils_fails(world, reports_root):
    from .factories import AcademyFactory

    empty = AcademyFactory(trust=world.academies["oak"].trust, name="Ash Academy")
    run = request_report(
        user=world.users["trust_leader"], kind=Kind.INTERVENTION, academy_id=empty.pk
    )

    assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "Ash Academy" in run.error
    assert run.finished_at is not None
    assert run.attempts == 1
    assert stored_files(reports_root) == []


def test_unexpected_error_logged_and_recorded(world, reports_root, caplog):
    run = queued_run(world, None, kind=Kind.GOVERNANCE)

    def broken(**info: Any) -> None:
        raise KeyError("missing figure")

    with tasks_support.use_hook("report-start", broken):
        assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert run.error == (
        "The report failed because of an unexpected error. Request it again; if it fails "
        f"again, tell the trust's administrator the run number {run.pk}."
    )
    assert "KeyError" in caplog.text
    assert f"Report run {run.pk} failed with an unexpected error" in caplog.text


def test_time_limit_recorded(world, reports_root):
    from celery.exceptions import SoftTimeLimitExceeded

    run = queued_run(world, None, kind=Kind.GOVERNANCE)

    def too_slow(**info: Any) -> None:
        raise SoftTimeLimitExceeded()

    with tasks_support.use_hook("report-start", too_slow):
        assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert run.error.startswith("The report took longer than 30 minutes, so it was stopped.")
    assert stored_files(reports_root) == []


def test_hard_time_limit_recorded(world):
    from celery.exceptions import TimeLimitExceeded

    run = queued_run(world, None, kind=Kind.GOVERNANCE, status=Status.RUNNING)

    generate_report.on_failure(TimeLimitExceeded(1860), run.task_id, (run.pk,), {}, None)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("The report took longer than 30 minutes, so it was stopped.")


def test_revoked_requester_fails_run(world):
    run = queued_run(world, "head_of_year", year_group_id=world.year_groups["oak9"].pk)
    RoleAssignment.objects.filter(staff=world.staff["head_of_year"]).delete()

    assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert "may no longer request it" in run.error


def test_too_many_attempts_fail(world, reports_root):
    run = queued_run(world, None, kind=Kind.GOVERNANCE, attempts=MAX_ATTEMPTS)

    assert generate_report.delay(run.pk).get() == Status.FAILED

    run.refresh_from_db()
    assert f"started {MAX_ATTEMPTS} times without finishing" in run.error
    assert stored_files(reports_root) == []


def test_progress_written_while_running(world):
    run = queued_run(world, None, kind=Kind.GOVERNANCE)
    seen: list[tuple[int, str, str]] = []

    def record(**info: Any) -> None:
        row = ReportRun.objects.get(pk=info["run_id"])
        seen.append((row.progress, row.step, row.status))

    with tasks_support.use_hook("report-save", record):
        generate_report.delay(run.pk).get()

    assert seen == [(99, "Saving the PDF", Status.RUNNING)]


def test_task_uses_run_date_not_today(world, tmp_path, reports_root):
    run = queued_run(world, None, kind=Kind.GOVERNANCE, as_of=datetime.date(2026, 11, 20))

    with time_machine.travel(datetime.datetime(2026, 12, 9, 8, 0), tick=False):
        generate_report.delay(run.pk).get()

    run.refresh_from_db()
    text = pdf_tools.normalised(
        pdf_tools.pdf_text((reports_root / run.file.name).read_bytes(), tmp_path)
    )
    assert "20/11/2026" in text

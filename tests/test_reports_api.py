"""Report runs in the REST API: requesting, reading, the schema and the PDF download."""

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reports.models import ReportRun

from . import factories_reports
from .factories_reports import mark_done
from .personas import TODAY, Personas

pytestmark = pytest.mark.django_db

API = "/api/v1/report-runs/"
# Fixtures from factories_reports, bound here so that pytest finds them.
frozen_clock = factories_reports.frozen_clock
reports_root = factories_reports.reports_root
world = factories_reports.world

Kind = ReportRun.Kind
Status = ReportRun.Status


def client_for(world: Personas, persona: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def token_client(world: Personas, persona: str) -> APIClient:
    token, _ = Token.objects.get_or_create(user=world.users[persona])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make_run(world: Personas, persona: str | None, **fields: Any) -> ReportRun:
    fields.setdefault("kind", Kind.INTERVENTION)
    fields.setdefault("as_of", TODAY.date())
    if fields["kind"] == Kind.INTERVENTION:
        fields.setdefault("academy", world.academies["oak"])
    return ReportRun.objects.create(
        requested_by=world.users[persona] if persona else None,
        scheduled=persona is None,
        **fields,
    )


def finish(run: ReportRun, content: bytes = b"%PDF-1.7 api") -> ReportRun:
    return mark_done(run, content, f"intervention-{run.pk}.pdf", started_at=timezone.now())


# Requesting -------------------------------------------------------------------------------


def test_post_creates_queued_run(world, django_capture_on_commit_callbacks):
    oak9 = world.year_groups["oak9"]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(world, "head_of_year").post(
            API, {"kind": "intervention", "year_group": oak9.pk}, format="json"
        )

    body = response.json()
    run = ReportRun.objects.get()
    assert response.status_code == 201
    assert len(callbacks) == 1
    assert response["Location"] == f"http://testserver{API}{run.pk}/"
    assert body["id"] == run.pk
    assert body["kind"] == "intervention"
    assert body["status"] == "queued"
    assert body["progress"] == 0
    assert body["academy"] == world.academies["oak"].pk
    assert body["year_group"] == oak9.pk
    assert body["as_of"] == "2026-12-04"
    assert body["download_url"] is None
    assert run.requested_by == world.users["head_of_year"]


def test_post_with_as_of(world):
    response = client_for(world, "trust_leader").post(
        API, {"kind": "governance", "as_of": "2026-11-02"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["as_of"] == "2026-11-02"


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({"kind": "weekly"}, "kind", "'weekly' is not a valid report kind. Allowed values: "),
        ({}, "kind", "kind"),
        ({"kind": "intervention", "academy": "oak"}, "academy", "'oak' is not valid"),
        ({"kind": "intervention", "academy": 999999}, "academy", "Academy 999999 was not found"),
        ({"kind": "intervention"}, "academy", "neither was given"),
        ({"kind": "parent_letters"}, "year_group", "none was given"),
        ({"kind": "governance", "as_of": "2026-02-31"}, "as_of", "2026-02-31 is not a real date"),
        ({"kind": "governance", "as_of": "04/12/2026"}, "as_of", "'04/12/2026' is not valid"),
        ({"kind": "governance", "as_of": "2026-12-25"}, "as_of", "25/12/2026 is in the future"),
    ],
)
def test_post_bad_input_400(world, body, field, expected):
    response = client_for(world, "trust_leader").post(API, body, format="json")

    assert response.status_code == 400
    messages = " ".join(response.json()[field])
    assert expected in messages
    assert not ReportRun.objects.exists()


def test_post_kind_lists_allowed(world):
    response = client_for(world, "trust_leader").post(API, {"kind": "weekly"}, format="json")

    message = response.json()["kind"][0]
    assert "intervention (Intervention report)" in message
    assert "parent_letters (Parents' letters)" in message


def test_post_not_allowed_403(world):
    response = client_for(world, "headteacher").post(API, {"kind": "governance"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "You may not request the governance report for the trust."
    assert not ReportRun.objects.exists()


def test_post_other_academy_403(world):
    elm = world.academies["elm"]

    response = client_for(world, "headteacher").post(
        API, {"kind": "intervention", "academy": elm.pk}, format="json"
    )

    assert response.status_code == 403
    assert "Elm Academy" in response.json()["detail"]


def test_anonymous_401(world):
    assert APIClient().get(API).status_code == 401
    assert APIClient().post(API, {"kind": "governance"}, format="json").status_code == 401


# Reading ----------------------------------------------------------------------------------


def test_list_only_visible_runs(world):
    own = make_run(world, "headteacher")
    scheduled_oak = make_run(world, None)
    make_run(world, None, academy=world.academies["elm"])
    make_run(world, "trust_leader")

    response = client_for(world, "headteacher").get(API)

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {own.pk, scheduled_oak.pk}


def test_list_filters_by_status(world):
    done = finish(make_run(world, "headteacher"))
    make_run(world, "headteacher")

    response = client_for(world, "headteacher").get(API, {"status": "done"})

    assert [row["id"] for row in response.json()["results"]] == [done.pk]


def test_list_bad_filter_400(world):
    response = client_for(world, "headteacher").get(API, {"status": "finished"})

    assert response.status_code == 400
    assert "'finished' is not a valid run status" in response.json()["status"][0]


def test_list_paginated(world):
    for _ in range(3):
        make_run(world, "headteacher")

    body = client_for(world, "headteacher").get(API, {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_detail_running_has_no_download(world):
    run = make_run(world, "headteacher", status=Status.RUNNING, progress=45, step="Reading")

    body = client_for(world, "headteacher").get(f"{API}{run.pk}/").json()

    assert body["status"] == "running"
    assert body["progress"] == 45
    assert body["step"] == "Reading"
    assert body["download_url"] is None
    assert set(body) >= {"error", "created_at", "started_at", "finished_at"}


def test_detail_done_has_absolute_download(world):
    run = finish(make_run(world, "headteacher"))

    body = client_for(world, "headteacher").get(f"{API}{run.pk}/").json()

    assert body["status"] == "done"
    assert body["progress"] == 100
    assert body["download_url"] == f"http://testserver{API}{run.pk}/download/"
    assert body["size_bytes"] == len(b"%PDF-1.7 api")
    assert body["finished_at"]


def test_detail_failed_has_error(world):
    run = make_run(world, "headteacher", status=Status.FAILED, error="No pupil is on roll.")

    body = client_for(world, "headteacher").get(f"{API}{run.pk}/").json()

    assert body["status"] == "failed"
    assert body["error"] == "No pupil is on roll."
    assert body["download_url"] is None


@pytest.mark.parametrize("persona", ["head_of_year", "teacher", "trustee"])
def test_others_runs_404(world, persona):
    run = finish(make_run(world, "headteacher"))
    client = client_for(world, persona)

    assert client.get(f"{API}{run.pk}/").status_code == 404
    assert client.get(f"{API}{run.pk}/download/").status_code == 404


# Downloading ------------------------------------------------------------------------------


def test_token_download_serves_pdf(world):
    run = finish(make_run(world, "headteacher"), content=b"%PDF-1.7 by token")
    client = token_client(world, "headteacher")

    download_url = client.get(f"{API}{run.pk}/").json()["download_url"]
    response = client.get(download_url, HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="intervention-{run.pk}.pdf"'
    assert b"".join(response.streaming_content) == b"%PDF-1.7 by token"


def test_download_not_done_404(world):
    run = make_run(world, "headteacher", status=Status.RUNNING)

    response = token_client(world, "headteacher").get(
        f"{API}{run.pk}/download/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_trustee_downloads_scheduled_governance(world):
    run = finish(make_run(world, None, kind=Kind.GOVERNANCE))

    response = token_client(world, "trustee").get(f"{API}{run.pk}/download/")

    assert response.status_code == 200


def test_schema_lists_report_runs(world):
    response = client_for(world, "trust_leader").get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert "/api/v1/report-runs/" in paths
    assert "/api/v1/report-runs/{id}/download/" in paths
    assert set(paths["/api/v1/report-runs/"]) == {"get", "post"}

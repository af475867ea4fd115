"""The appraisal API: cycles, appraisals, objectives, reviews and portfolio
entries, read through appraisal.access and written through the services."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.test import APIClient

from appraisal.measures import measure_values
from appraisal.models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    Deadline,
    EvidenceFile,
    Measure,
    MeasureScope,
    Objective,
    ObjectiveReview,
    PortfolioEntry,
    Signature,
    Standard,
)
from appraisal.portfolio import evidence_add
from progress.grades import default_subjects_ensure
from trust import clock

from . import factories_progress as progress_factories
from .factories import AcademicYearFactory, StaffFactory
from .factories_appraisal import cycle_2026, make_appraisal, make_objective
from .factories_progress import grade_of
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

AssessmentPointFactory: Any = progress_factories.AssessmentPointFactory
ClassMembershipFactory: Any = progress_factories.ClassMembershipFactory
GradeEntryFactory: Any = progress_factories.GradeEntryFactory
TargetGradeFactory: Any = progress_factories.TargetGradeFactory
TeachingGroupFactory: Any = progress_factories.TeachingGroupFactory

API = "/api/v1"
# A PDF is recognised by its first bytes, which is all the evidence check reads.
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

# Who reads the Oak teacher's appraisal: the appraisee, their appraiser (the
# head of year), Oak's headteacher and trust HR. Another Oak teacher (the
# tutor persona) gets 404, and a trustee 403.
READERS = ("teacher", "head_of_year", "headteacher", "trust_hr")
NOT_READERS = ("tutor", "elm_teacher")


@dataclass
class World:
    personas: Personas
    cycle: AppraisalCycle
    appraisal: Appraisal
    elm_appraisal: Appraisal
    objective: Objective
    review: ObjectiveReview
    entry: PortfolioEntry

    def staff(self, key: str) -> Any:
        return self.personas.staff[key]

    def client(self, persona: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.personas.users[persona])
        return client


@pytest.fixture
def world() -> Iterator[World]:
    with time_machine.travel(TODAY, tick=False):
        personas = build_personas()
        cycle = cycle_2026(personas)
        teacher = personas.staff["teacher"]
        teacher.line_manager = personas.staff["head_of_year"]
        teacher.save()
        appraisal = make_appraisal(
            cycle,
            teacher,
            personas.staff["head_of_year"],
            status=Appraisal.Status.MID_YEAR_REVIEWED,
        )
        elm_appraisal = make_appraisal(cycle, personas.staff["elm_teacher"], None)
        objective = appraisal.objectives.order_by("position").first()
        assert objective is not None
        review = ObjectiveReview.objects.get(
            objective=objective, kind=ObjectiveReview.Kind.MID_YEAR
        )
        entry = PortfolioEntry.objects.create(
            staff=teacher,
            kind="course",
            title="Assessment for learning",
            started_on=datetime.date(2026, 10, 12),
            hours=6,
            cost=120,
        )
        yield World(
            personas=personas,
            cycle=cycle,
            appraisal=appraisal,
            elm_appraisal=elm_appraisal,
            objective=objective,
            review=review,
            entry=entry,
        )


@pytest.fixture
def evidence_root(tmp_path: Path) -> Iterator[Path]:
    storages = {
        **settings.STORAGES,
        "evidence": {
            **settings.STORAGES["evidence"],
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    with override_settings(STORAGES=storages):
        yield tmp_path


def detail_paths(world: World) -> dict[str, str]:
    return {
        "appraisals": f"{API}/appraisals/{world.appraisal.pk}/",
        "objectives": f"{API}/objectives/{world.objective.pk}/",
        "objective-reviews": f"{API}/objective-reviews/{world.review.pk}/",
        "portfolio-entries": f"{API}/portfolio-entries/{world.entry.pk}/",
    }


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
@pytest.mark.parametrize(
    "resource", ["appraisals", "objectives", "objective-reviews", "portfolio-entries"]
)
def test_detail_readers_200(world: World, persona: str, resource: str) -> None:
    response = world.client(persona).get(detail_paths(world)[resource])
    assert response.status_code == 200, response.content
    assert response.json()["id"] > 0


@pytest.mark.parametrize("persona", NOT_READERS)
@pytest.mark.parametrize(
    "resource", ["appraisals", "objectives", "objective-reviews", "portfolio-entries"]
)
def test_detail_other_staff_404(world: World, persona: str, resource: str) -> None:
    response = world.client(persona).get(detail_paths(world)[resource])
    assert response.status_code == 404


@pytest.mark.parametrize(
    "resource", ["appraisals", "objectives", "objective-reviews", "portfolio-entries"]
)
def test_trustee_403_on_records(world: World, resource: str) -> None:
    client = world.client("trustee")
    assert client.get(f"{API}/{resource}/").status_code == 403
    response = client.get(detail_paths(world)[resource])
    assert response.status_code == 403
    assert "Trustees see appraisal completion counts" in response.json()["detail"]


def test_trustee_403_on_writes(world: World) -> None:
    client = world.client("trustee")
    posts = {
        "appraisal-cycles": {"academic_year": world.personas.academic_year.pk},  # type: ignore[union-attr]
        "appraisals": {"cycle": world.cycle.pk, "appraisee": world.staff("tutor").pk},
        "objectives": {"appraisal": world.appraisal.pk, "title": "T"},
        "objective-reviews": {"objective": world.objective.pk, "kind": "final"},
        "portfolio-entries": {"kind": "course", "title": "T", "started_on": "2026-11-01"},
    }
    for resource, body in posts.items():
        response = client.post(f"{API}/{resource}/", body, format="json")
        assert response.status_code == 403, resource
    response = client.post(f"{API}/appraisals/{world.appraisal.pk}/sign-objectives/", {})
    assert response.status_code == 403


def test_trustee_lists_cycles_only(world: World) -> None:
    client = world.client("trustee")
    listed = client.get(f"{API}/appraisal-cycles/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [world.cycle.pk]
    assert client.get(f"{API}/appraisal-cycles/{world.cycle.pk}/").status_code == 403


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("teacher", {"teacher"}),
        ("head_of_year", {"teacher"}),
        ("headteacher", {"teacher"}),
        ("trust_hr", {"teacher", "elm_teacher"}),
        ("elm_teacher", {"elm_teacher"}),
        ("tutor", set()),
    ],
)
def test_appraisal_list_scoped(world: World, persona: str, expected: set[str]) -> None:
    response = world.client(persona).get(f"{API}/appraisals/")
    assert response.status_code == 200
    ids = {row["appraisee"]["id"] for row in response.json()["results"]}
    assert ids == {world.staff(key).pk for key in expected}


@pytest.mark.parametrize(
    ("persona", "count"),
    [("teacher", 2), ("head_of_year", 2), ("headteacher", 2), ("trust_hr", 4), ("tutor", 0)],
)
def test_objective_list_scoped(world: World, persona: str, count: int) -> None:
    response = world.client(persona).get(f"{API}/objectives/")
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("persona", "count"),
    [("teacher", 2), ("head_of_year", 2), ("headteacher", 2), ("trust_hr", 2), ("tutor", 0)],
)
def test_review_list_scoped(world: World, persona: str, count: int) -> None:
    response = world.client(persona).get(f"{API}/objective-reviews/")
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("persona", "count"),
    [("teacher", 1), ("head_of_year", 1), ("headteacher", 1), ("trust_hr", 1), ("tutor", 0)],
)
def test_portfolio_list_scoped(world: World, persona: str, count: int) -> None:
    response = world.client(persona).get(f"{API}/portfolio-entries/")
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_anonymous_401(world: World) -> None:
    assert APIClient().get(f"{API}/appraisals/").status_code == 401


# Cycles ---------------------------------------------------------------------------------------


def test_cycle_lists_trust_deadlines(world: World) -> None:
    response = world.client("teacher").get(f"{API}/appraisal-cycles/{world.cycle.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["academic_year"] == world.personas.academic_year.pk  # type: ignore[union-attr]
    deadlines = {(d["track"], d["stage"]): d["due"] for d in body["deadlines"]}
    assert deadlines[("staff", "objectives")] == "2026-10-31"
    assert deadlines[("headteacher", "objectives")] == "2026-12-31"
    assert len(deadlines) == 8


def test_cycle_create_with_deadlines(world: World) -> None:
    year = AcademicYearFactory(trust=world.personas.academies["oak"].trust, start_year=2027)
    response = world.client("trust_hr").post(
        f"{API}/appraisal-cycles/",
        {
            "academic_year": year.pk,
            "deadlines": [{"track": "staff", "stage": "objectives", "due": "2027-10-15"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["academic_year"] == year.pk
    deadlines = {(d["track"], d["stage"]): d["due"] for d in body["deadlines"]}
    assert deadlines[("staff", "objectives")] == "2027-10-15"
    assert deadlines[("staff", "mid_year")] == "2028-03-31"
    assert Deadline.objects.filter(cycle_id=body["id"], academy=None).count() == 8


def test_cycle_create_by_teacher_403(world: World) -> None:
    year = AcademicYearFactory(trust=world.personas.academies["oak"].trust, start_year=2027)
    response = world.client("teacher").post(
        f"{API}/appraisal-cycles/", {"academic_year": year.pk}, format="json"
    )
    assert response.status_code == 403
    assert not AppraisalCycle.objects.filter(academic_year=year).exists()


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"academic_year": "x"}, "academic_year", "'x' is not valid"),
        ({"academic_year": 99999999}, "academic_year", "Academic year 99999999 was not found"),
        (
            {"deadlines": [{"track": "staff", "stage": "soon", "due": "2027-10-15"}]},
            "deadlines",
            "'soon' is not a valid stage",
        ),
        (
            {"deadlines": [{"track": "staff", "stage": "objectives", "due": "15/10/2027"}]},
            "deadlines",
            "'15/10/2027' is not valid",
        ),
    ],
)
def test_cycle_create_bad_input_400(
    world: World, body: dict[str, Any], field: str, text: str
) -> None:
    year = AcademicYearFactory(trust=world.personas.academies["oak"].trust, start_year=2027)
    response = world.client("trust_hr").post(
        f"{API}/appraisal-cycles/", {"academic_year": year.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert text in str(response.json()[field])
    assert not AppraisalCycle.objects.filter(academic_year=year).exists()


def test_cycle_deadline_outside_window_writes_nothing(world: World) -> None:
    year = AcademicYearFactory(trust=world.personas.academies["oak"].trust, start_year=2027)
    response = world.client("trust_hr").post(
        f"{API}/appraisal-cycles/",
        {
            "academic_year": year.pk,
            "deadlines": [{"track": "staff", "stage": "objectives", "due": "2031-01-01"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "outside the 2027/28 cycle" in response.json()["deadlines"][0]
    assert not AppraisalCycle.objects.filter(academic_year=year).exists()


def test_cycle_deadline_sent_twice_400(world: World) -> None:
    year = AcademicYearFactory(trust=world.personas.academies["oak"].trust, start_year=2027)
    row = {"track": "staff", "stage": "objectives", "due": "2027-10-15"}
    response = world.client("trust_hr").post(
        f"{API}/appraisal-cycles/",
        {"academic_year": year.pk, "deadlines": [row, {**row, "due": "2027-10-20"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "sent twice" in response.json()["deadlines"][0]
    assert not AppraisalCycle.objects.filter(academic_year=year).exists()


# Appraisals -----------------------------------------------------------------------------------


def test_appraisal_detail_fields(world: World) -> None:
    response = world.client("teacher").get(f"{API}/appraisals/{world.appraisal.pk}/")
    body = response.json()
    assert body["status"] == "mid_year_reviewed"
    assert body["appraisee"] == {"id": world.staff("teacher").pk, "name": "Teacher Persona"}
    assert body["appraiser"]["id"] == world.staff("head_of_year").pk
    assert [o["title"] for o in body["objectives"]] == [
        "Raise the share of Year 10 English pupils on or above TMG",
        "Lead the Year 9 reading programme",
    ]
    assert body["weighting_total"] == 100
    assert {(s["document"], s["party"]) for s in body["signatures"]} == {
        ("objectives", "appraisee"),
        ("objectives", "appraiser"),
    }
    assert body["outcome_summary"]["label"] == "not yet reviewed"
    assert body["outcome_summary"]["reviewed"] is False
    # The next stage is the final review, due 15/10/2027 under the defaults.
    assert body["next_deadline"] == {
        "stage": "final_review",
        "label": "Final review",
        "due": "2027-10-15",
        "overdue": False,
    }
    reviews = body["objectives"][0]["reviews"]
    assert [r["kind"] for r in reviews] == ["mid_year"]


def test_appraisal_summary_label_after_final(world: World) -> None:
    appraisal = make_appraisal(
        world.cycle,
        world.staff("academy_leader"),
        world.staff("headteacher"),
        status=Appraisal.Status.FINAL_REVIEWED,
        outcomes=["met", "not_met"],
    )
    body = world.client("trust_hr").get(f"{API}/appraisals/{appraisal.pk}/").json()
    assert body["outcome_summary"]["label"] == "1 of 2 met"
    assert body["outcome_summary"]["met"] == 1
    assert body["outcome_summary"]["not_met"] == 1
    assert body["next_deadline"]["stage"] == "sign_off"


def test_draft_next_deadline_overdue(world: World) -> None:
    body = world.client("trust_hr").get(f"{API}/appraisals/{world.elm_appraisal.pk}/").json()
    assert body["next_deadline"]["stage"] == "objectives"
    assert body["next_deadline"]["due"] == "2026-10-31"
    assert body["next_deadline"]["overdue"] is True


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "draft"}, {"elm_teacher"}),
        ({"status": "mid_year_reviewed"}, {"teacher"}),
        ({"academy": "oak"}, {"teacher"}),
        ({"cycle": "cycle"}, {"teacher", "elm_teacher"}),
    ],
)
def test_appraisal_list_filters(world: World, query: dict[str, str], expected: set[str]) -> None:
    values = {
        "oak": world.personas.academies["oak"].pk,
        "cycle": world.cycle.pk,
    }
    params = {key: values.get(value, value) for key, value in query.items()}
    response = world.client("trust_hr").get(f"{API}/appraisals/", params)
    assert response.status_code == 200
    ids = {row["appraisee"]["id"] for row in response.json()["results"]}
    assert ids == {world.staff(key).pk for key in expected}


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ({"status": "done"}, "'done' is not a valid appraisal status"),
        ({"cycle": "abc"}, "'abc' is not a valid appraisal cycle id"),
    ],
)
def test_appraisal_list_bad_filter_400(world: World, query: dict[str, str], text: str) -> None:
    response = world.client("trust_hr").get(f"{API}/appraisals/", query)
    assert response.status_code == 400
    assert text in str(response.json())


def test_appraisal_open_by_headteacher(world: World) -> None:
    tutor = world.staff("tutor")
    tutor.line_manager = world.staff("head_of_year")
    tutor.save()
    response = world.client("headteacher").post(
        f"{API}/appraisals/", {"cycle": world.cycle.pk, "appraisee": tutor.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["appraisee"]["id"] == tutor.pk
    assert body["appraiser"]["id"] == world.staff("head_of_year").pk
    assert body["status"] == "draft"
    assert body["academy"] == world.personas.academies["oak"].pk


def test_appraisal_open_by_trust_leader_id_only(world: World) -> None:
    response = world.client("trust_leader").post(
        f"{API}/appraisals/",
        {"cycle": world.cycle.pk, "appraisee": world.staff("tutor").pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    appraisal = Appraisal.objects.get(appraisee=world.staff("tutor"))
    assert set(response.json()) == {"id", "detail"}
    assert response.json()["id"] == appraisal.pk


def test_appraisal_open_by_teacher_403(world: World) -> None:
    response = world.client("teacher").post(
        f"{API}/appraisals/",
        {"cycle": world.cycle.pk, "appraisee": world.staff("tutor").pk},
        format="json",
    )
    assert response.status_code == 403
    assert not Appraisal.objects.filter(appraisee=world.staff("tutor")).exists()


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"appraisee": 99999999}, "appraisee", "Staff member 99999999 was not found"),
        ({"cycle": 99999999}, "cycle", "Appraisal cycle 99999999 was not found"),
        ({"appraiser": 99999999}, "appraiser", "Staff member 99999999 was not found"),
        ({"appraisee": "me"}, "appraisee", "'me' is not valid"),
    ],
)
def test_appraisal_open_bad_input_400(
    world: World, body: dict[str, Any], field: str, text: str
) -> None:
    tutor = world.staff("tutor")
    request = {"cycle": world.cycle.pk, "appraisee": tutor.pk, **body}
    response = world.client("headteacher").post(f"{API}/appraisals/", request, format="json")
    assert response.status_code == 400, response.content
    assert text in response.json()[field][0]
    assert not Appraisal.objects.filter(appraisee=tutor).exists()


def test_appraisal_open_self_appraiser_400(world: World) -> None:
    tutor = world.staff("tutor")
    response = world.client("headteacher").post(
        f"{API}/appraisals/",
        {"cycle": world.cycle.pk, "appraisee": tutor.pk, "appraiser": tutor.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "appraiser" in response.json()
    assert not Appraisal.objects.filter(appraisee=tutor).exists()


def test_appraiser_change_by_headteacher(world: World) -> None:
    response = world.client("headteacher").patch(
        f"{API}/appraisals/{world.appraisal.pk}/",
        {"appraiser": world.staff("academy_leader").pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["appraiser"]["id"] == world.staff("academy_leader").pk
    world.appraisal.refresh_from_db()
    assert world.appraisal.appraiser_id == world.staff("academy_leader").pk


@pytest.mark.parametrize("persona", ["teacher", "head_of_year"])
def test_appraiser_change_by_others_403(world: World, persona: str) -> None:
    response = world.client(persona).patch(
        f"{API}/appraisals/{world.appraisal.pk}/",
        {"appraiser": world.staff("academy_leader").pk},
        format="json",
    )
    assert response.status_code == 403
    world.appraisal.refresh_from_db()
    assert world.appraisal.appraiser_id == world.staff("head_of_year").pk


def test_appraiser_change_to_appraisee_400(world: World) -> None:
    response = world.client("headteacher").patch(
        f"{API}/appraisals/{world.appraisal.pk}/",
        {"appraiser": world.staff("teacher").pk},
        format="json",
    )
    assert response.status_code == 400
    assert "appraiser" in response.json()
    world.appraisal.refresh_from_db()
    assert world.appraisal.appraiser_id == world.staff("head_of_year").pk


def test_appraisal_put_and_delete_not_allowed(world: World) -> None:
    client = world.client("trust_hr")
    path = f"{API}/appraisals/{world.appraisal.pk}/"
    assert client.put(path, {}, format="json").status_code == 405
    assert client.delete(path).status_code == 405


# The cycle end to end -----------------------------------------------------------------------


def test_cycle_end_to_end(world: World) -> None:
    appraisee, appraiser = world.client("elm_teacher"), world.client("trust_hr")
    appraisal = world.elm_appraisal
    Objective.objects.filter(appraisal=appraisal).delete()
    assigned = appraiser.patch(
        f"{API}/appraisals/{appraisal.pk}/",
        {"appraiser": world.staff("trust_hr").pk},
        format="json",
    )
    assert assigned.status_code == 200, assigned.content
    standard = Standard.objects.order_by("pk").first()
    assert standard is not None

    first = appraiser.post(
        f"{API}/objectives/",
        {
            "appraisal": appraisal.pk,
            "title": "Raise attainment in Year 9 English",
            "success_criteria": "Most pupils on or above TMG by July.",
            "weighting": 60,
            "standards": [standard.pk],
        },
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["standards"][0]["id"] == standard.pk
    second = appraiser.post(
        f"{API}/objectives/",
        {
            "appraisal": appraisal.pk,
            "title": "Coach a new colleague",
            "success_criteria": "Termly coaching notes.",
            "weighting": 40,
        },
        format="json",
    )
    assert second.status_code == 201, second.content
    ids = [first.json()["id"], second.json()["id"]]

    path = f"{API}/appraisals/{appraisal.pk}"
    signed = appraisee.post(f"{path}/sign-objectives/", {"agrees": True}, format="json")
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "draft"
    signed = appraiser.post(f"{path}/sign-objectives/", {}, format="json")
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "objectives_agreed"

    # Agreed objectives are no longer edited.
    locked = appraiser.patch(f"{API}/objectives/{ids[0]}/", {"weighting": 50}, format="json")
    assert locked.status_code == 400

    review = appraisee.post(
        f"{API}/objective-reviews/",
        {"objective": ids[0], "kind": "mid_year", "evidence": "Autumn data", "self_review": "OK"},
        format="json",
    )
    assert review.status_code == 201, review.content
    again = appraiser.post(
        f"{API}/objective-reviews/",
        {"objective": ids[0], "kind": "mid_year", "appraiser_comment": "Agreed"},
        format="json",
    )
    assert again.status_code == 200, again.content
    assert again.json()["evidence"] == "Autumn data"
    assert again.json()["appraiser_comment"] == "Agreed"

    mid = appraiser.post(f"{path}/mid-year-complete/", {"comment": "On track"}, format="json")
    assert mid.status_code == 200, mid.content
    assert mid.json()["status"] == "mid_year_reviewed"
    assert mid.json()["mid_year_comment"] == "On track"

    early = appraiser.post(
        f"{path}/final-review-complete/", {"summary": "Good year"}, format="json"
    )
    assert early.status_code == 400
    for objective_id, outcome in zip(ids, ["met", "not_applicable"], strict=True):
        final = appraiser.post(
            f"{API}/objective-reviews/",
            {"objective": objective_id, "kind": "final", "outcome": outcome},
            format="json",
        )
        assert final.status_code == 201, final.content

    done = appraiser.post(
        f"{path}/final-review-complete/",
        {"summary": "Good year", "development_needs": ["Behaviour for learning"]},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "final_reviewed"
    assert done.json()["outcome_summary"]["label"] == "1 of 1 met"
    assert [n["description"] for n in done.json()["development_needs"]] == [
        "Behaviour for learning"
    ]

    disagree = appraisee.post(
        f"{path}/sign-final/", {"agrees": False, "comment": "Second outcome"}, format="json"
    )
    assert disagree.status_code == 200, disagree.content
    final_sign = appraiser.post(f"{path}/sign-final/", {}, format="json")
    assert final_sign.status_code == 200, final_sign.content
    body = final_sign.json()
    assert body["status"] == "signed_off"
    assert body["next_deadline"] is None
    signature = Signature.objects.get(
        appraisal=appraisal, document="final_review", party="appraisee"
    )
    assert signature.agrees is False
    assert signature.comment == "Second outcome"

    note = appraiser.post(f"{path}/annotations/", {"text": "Pay panel: noted."}, format="json")
    assert note.status_code == 201, note.content
    assert note.json()["text"] == "Pay panel: noted."
    assert Annotation.objects.filter(appraisal=appraisal).count() == 1


def test_annotation_before_sign_off_400(world: World) -> None:
    response = world.client("trust_hr").post(
        f"{API}/appraisals/{world.appraisal.pk}/annotations/", {"text": "Too early"}, format="json"
    )
    assert response.status_code == 400
    assert not Annotation.objects.exists()


def test_other_teacher_cannot_sign_404(world: World) -> None:
    response = world.client("tutor").post(
        f"{API}/appraisals/{world.elm_appraisal.pk}/sign-objectives/", {}, format="json"
    )
    assert response.status_code == 404
    assert not Signature.objects.filter(appraisal=world.elm_appraisal).exists()


def test_sign_objectives_weightings_400(world: World) -> None:
    Objective.objects.filter(appraisal=world.elm_appraisal).update(weighting=30)
    response = world.client("elm_teacher").post(
        f"{API}/appraisals/{world.elm_appraisal.pk}/sign-objectives/", {}, format="json"
    )
    assert response.status_code == 400
    assert "60" in str(response.json())
    assert not Signature.objects.filter(appraisal=world.elm_appraisal).exists()


def agreed_tutor_appraisal(world: World) -> Appraisal:
    return make_appraisal(
        world.cycle,
        world.staff("tutor"),
        world.staff("head_of_year"),
        status=Appraisal.Status.OBJECTIVES_AGREED,
    )


def test_mid_year_complete_by_appraisee_403(world: World) -> None:
    appraisal = agreed_tutor_appraisal(world)
    response = world.client("tutor").post(
        f"{API}/appraisals/{appraisal.pk}/mid-year-complete/", {}, format="json"
    )
    assert response.status_code == 403
    appraisal.refresh_from_db()
    assert appraisal.status == Appraisal.Status.OBJECTIVES_AGREED


def test_mid_year_complete_by_headteacher(world: World) -> None:
    appraisal = agreed_tutor_appraisal(world)
    response = world.client("headteacher").post(
        f"{API}/appraisals/{appraisal.pk}/mid-year-complete/", {}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "mid_year_reviewed"
    assert response.json()["mid_year_reviewed_by"] == world.staff("headteacher").pk


# Objectives -----------------------------------------------------------------------------------


def objective_body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "appraisal": world.elm_appraisal.pk,
        "title": "Improve homework completion",
        "success_criteria": "90% of homework handed in on time.",
        "weighting": 20,
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"weighting": "lots"}, "weighting", "'lots' is not valid"),
        ({"weighting": 0}, "weighting", "0"),
        ({"title": ""}, "title", "title is empty; send some text."),
        ({"measure": "results"}, "measure", "'results' is not a valid measure"),
        ({"standards": [99999999]}, "standards", "99999999"),
        ({"measure_academy": 99999999}, "measure_academy", "Academy 99999999 was not found"),
        ({"target_value": "high"}, "target_value", "'high' is not a number"),
        (
            {"measure": "attendance", "measure_scope": "own_classes"},
            "measure_scope",
            None,
        ),
        ({"measure": "attendance", "measure_scope": "academy", "target_value": 250}, None, None),
    ],
)
def test_objective_bad_input_400(
    world: World, fields: dict[str, Any], field: str | None, text: str | None
) -> None:
    before = Objective.objects.count()
    if "measure_scope" in fields and fields["measure_scope"] == "academy":
        fields["measure_academy"] = world.personas.academies["elm"].pk
    response = world.client("trust_hr").post(
        f"{API}/objectives/", objective_body(world, **fields), format="json"
    )
    assert response.status_code == 400, response.content
    if field is not None:
        assert field in response.json()
    if text is not None:
        assert text in str(response.json()[field])
    assert Objective.objects.count() == before


def test_objective_create_by_appraisee_403(world: World) -> None:
    # The appraiser or a leader sets objectives, and the appraisee agrees them by signing.
    response = world.client("elm_teacher").post(
        f"{API}/objectives/", objective_body(world), format="json"
    )
    assert response.status_code == 403
    assert not Objective.objects.filter(title="Improve homework completion").exists()


def test_objective_create_out_of_scope_404(world: World) -> None:
    response = world.client("tutor").post(
        f"{API}/objectives/", objective_body(world), format="json"
    )
    assert response.status_code == 404
    assert not Objective.objects.filter(title="Improve homework completion").exists()


def test_objective_patch_keeps_other_fields(world: World) -> None:
    objective = world.elm_appraisal.objectives.order_by("position").first()
    assert objective is not None
    response = world.client("trust_hr").patch(
        f"{API}/objectives/{objective.pk}/", {"weighting": 55}, format="json"
    )
    assert response.status_code == 200, response.content
    objective.refresh_from_db()
    assert objective.weighting == 55
    assert objective.title == "Raise the share of Year 10 English pupils on or above TMG"


def test_objective_delete_draft_only(world: World) -> None:
    draft = world.elm_appraisal.objectives.order_by("position").first()
    assert draft is not None
    client = world.client("trust_hr")
    assert client.delete(f"{API}/objectives/{draft.pk}/").status_code == 204
    assert not Objective.objects.filter(pk=draft.pk).exists()
    response = client.delete(f"{API}/objectives/{world.objective.pk}/")
    assert response.status_code == 400
    assert Objective.objects.filter(pk=world.objective.pk).exists()


def test_objective_delete_by_other_404(world: World) -> None:
    response = world.client("tutor").delete(f"{API}/objectives/{world.objective.pk}/")
    assert response.status_code == 404
    assert Objective.objects.filter(pk=world.objective.pk).exists()


@dataclass
class Measured:
    objective: Objective
    plain: Objective


@pytest.fixture
def measured(world: World) -> Measured:
    """An objective of the Oak teacher linked to the TMG measure of their own
    classes, with grades and TMGs in a maths class they teach."""
    personas = world.personas
    oak = personas.academies["oak"]
    quals = default_subjects_ensure(oak.trust)
    maths = quals["gcse_maths"]
    group = TeachingGroupFactory(
        academy=oak,
        academic_year=personas.academic_year,
        year_group=personas.year_groups["oak9"],
        qualification=maths,
        name="9Ma1",
        teachers=[world.staff("teacher")],
    )

    point = AssessmentPointFactory(
        academy=oak,
        academic_year=personas.academic_year,
        year_group=personas.year_groups["oak9"],
        name="Autumn data drop",
        date=datetime.date(2026, 11, 20),
    )

    grades = {"oak9a_obrien": ("6", "5"), "oak9a_smithjones": ("4", "5"), "oak9b_patel": ("5", "5")}
    for key, (latest, target) in grades.items():
        pupil = personas.pupils[key]
        ClassMembershipFactory(group=group, pupil=pupil)
        GradeEntryFactory(
            pupil=pupil,
            assessment_point=point,
            qualification=maths,
            grade=grade_of(maths.scale, latest),
        )
        TargetGradeFactory(
            pupil=pupil,
            qualification=maths,
            academic_year=personas.academic_year,
            grade=grade_of(maths.scale, target),
        )

    objective = world.objective
    objective.measure = Measure.TMG_LATEST
    objective.measure_scope = MeasureScope.OWN_CLASSES
    objective.target_value = 80
    objective.save()
    plain = world.appraisal.objectives.exclude(pk=objective.pk).get()
    return Measured(objective=objective, plain=plain)


def test_objective_measure_equals_measure_values(world: World, measured: Measured) -> None:
    expected = measure_values([measured.objective], clock.today())[measured.objective.pk]
    assert expected.value is not None
    body = world.client("teacher").get(f"{API}/objectives/{measured.objective.pk}/").json()
    assert body["measure"] == "tmg_latest"
    assert body["measure_scope"] == "own_classes"
    assert body["target_value"] == 80.0
    assert body["current_value"] == pytest.approx(expected.value)
    assert body["current_display"] == expected.display
    assert body["measure_basis"] == expected.basis
    assert body["meets_target"] == expected.meets_target


def test_objective_measure_in_list_and_appraisal(world: World, measured: Measured) -> None:
    expected = measure_values([measured.objective], clock.today())[measured.objective.pk]
    client = world.client("head_of_year")
    rows = client.get(f"{API}/objectives/", {"appraisal": world.appraisal.pk}).json()["results"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[measured.objective.pk]["current_value"] == pytest.approx(expected.value)
    assert by_id[measured.plain.pk]["measure"] == ""
    assert by_id[measured.plain.pk]["current_value"] is None
    assert by_id[measured.plain.pk]["target_value"] is None
    detail = client.get(f"{API}/appraisals/{world.appraisal.pk}/").json()
    nested = {o["id"]: o for o in detail["objectives"]}
    assert nested[measured.objective.pk]["current_value"] == pytest.approx(expected.value)
    assert nested[measured.objective.pk]["current_display"] == expected.display


def test_objective_measure_without_data_null(world: World) -> None:
    objective = world.objective
    objective.measure = Measure.TMG_LATEST
    objective.measure_scope = MeasureScope.OWN_CLASSES
    objective.target_value = 75
    objective.save()
    expected = measure_values([objective], clock.today()).get(objective.pk)
    body = world.client("teacher").get(f"{API}/objectives/{objective.pk}/").json()
    assert body["current_value"] is None
    assert body["target_value"] == 75.0
    if expected is not None:
        assert body["current_display"] == expected.display


# Reviews --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"kind": "annual"}, "kind", "'annual' is not a valid review kind"),
        ({"objective": "x"}, "objective", "'x' is not valid"),
        ({"kind": "final", "outcome": "great"}, "outcome", "'great' is not a valid outcome"),
    ],
)
def test_review_bad_input_400(world: World, fields: dict[str, Any], field: str, text: str) -> None:
    before = ObjectiveReview.objects.count()
    response = world.client("head_of_year").post(
        f"{API}/objective-reviews/",
        {"objective": world.objective.pk, "kind": "final", **fields},
        format="json",
    )
    assert response.status_code == 400
    assert text in str(response.json()[field])
    assert ObjectiveReview.objects.count() == before


def test_review_before_agreed_400(world: World) -> None:
    objective = world.elm_appraisal.objectives.first()
    assert objective is not None
    response = world.client("elm_teacher").post(
        f"{API}/objective-reviews/",
        {"objective": objective.pk, "kind": "mid_year", "evidence": "Early"},
        format="json",
    )
    assert response.status_code == 400
    assert not ObjectiveReview.objects.filter(objective=objective).exists()


def test_review_out_of_scope_404(world: World) -> None:
    response = world.client("tutor").post(
        f"{API}/objective-reviews/",
        {"objective": world.objective.pk, "kind": "final", "evidence": "Not mine"},
        format="json",
    )
    assert response.status_code == 404


def test_review_appraisee_cannot_set_outcome(world: World) -> None:
    response = world.client("teacher").post(
        f"{API}/objective-reviews/",
        {"objective": world.objective.pk, "kind": "final", "outcome": "met"},
        format="json",
    )
    assert response.status_code == 403
    assert not ObjectiveReview.objects.filter(
        objective=world.objective, kind="final", outcome="met"
    ).exists()


def test_review_filters(world: World) -> None:
    client = world.client("trust_hr")
    rows = client.get(f"{API}/objective-reviews/", {"objective": world.objective.pk}).json()
    assert [row["id"] for row in rows["results"]] == [world.review.pk]
    rows = client.get(f"{API}/objective-reviews/", {"kind": "final"}).json()
    assert rows["count"] == 0


# Portfolio ------------------------------------------------------------------------------------


def entry_body(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "peer_visit",
        "title": "Visit to Elm's English department",
        "provider": "Elm Academy",
        "started_on": "2026-11-18",
        "hours": 3.5,
        "cost": 0,
        "reflection": "Saw their approach to reading aloud.",
        **fields,
    }


def test_portfolio_create_by_owner(world: World) -> None:
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/",
        entry_body(objectives=[world.objective.pk]),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["staff"] == world.staff("teacher").pk
    assert body["kind"] == "peer_visit"
    assert body["hours"] == 3.5
    assert body["objectives"] == [world.objective.pk]
    assert body["evidence"] == []


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"kind": "holiday"}, "kind", "'holiday' is not a valid kind"),
        ({"started_on": "18/11/2026"}, "started_on", "'18/11/2026' is not valid"),
        ({"ended_on": "2026-11-01"}, "ended_on", "01/11/2026"),
        ({"hours": "many"}, "hours", "'many' is not a number"),
        ({"hours": -2}, "hours", None),
        ({"objectives": [99999999]}, "objectives", "99999999"),
    ],
)
def test_portfolio_bad_input_400(
    world: World, fields: dict[str, Any], field: str, text: str | None
) -> None:
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/", entry_body(**fields), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    if text is not None:
        assert text in str(response.json()[field])
    assert PortfolioEntry.objects.count() == 1


def test_portfolio_other_objective_400(world: World) -> None:
    elm_objective = world.elm_appraisal.objectives.first()
    assert elm_objective is not None
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/", entry_body(objectives=[elm_objective.pk]), format="json"
    )
    assert response.status_code == 400
    assert "objectives" in response.json()


def test_portfolio_patch_by_owner(world: World) -> None:
    response = world.client("teacher").patch(
        f"{API}/portfolio-entries/{world.entry.pk}/",
        {"reflection": "Changed how I question."},
        format="json",
    )
    assert response.status_code == 200, response.content
    world.entry.refresh_from_db()
    assert world.entry.reflection == "Changed how I question."
    assert world.entry.title == "Assessment for learning"


@pytest.mark.parametrize("persona", ["head_of_year", "headteacher"])
def test_portfolio_change_by_reader_403(world: World, persona: str) -> None:
    client = world.client(persona)
    path = f"{API}/portfolio-entries/{world.entry.pk}/"
    assert client.patch(path, {"title": "Renamed"}, format="json").status_code == 403
    assert client.delete(path).status_code == 403
    world.entry.refresh_from_db()
    assert world.entry.title == "Assessment for learning"


def test_portfolio_change_by_other_404(world: World) -> None:
    response = world.client("tutor").patch(
        f"{API}/portfolio-entries/{world.entry.pk}/", {"title": "Renamed"}, format="json"
    )
    assert response.status_code == 404


def test_portfolio_delete_by_owner(world: World) -> None:
    response = world.client("teacher").delete(f"{API}/portfolio-entries/{world.entry.pk}/")
    assert response.status_code == 204
    assert not PortfolioEntry.objects.filter(pk=world.entry.pk).exists()


def test_evidence_upload_and_listing(world: World, evidence_root: Path) -> None:
    upload = SimpleUploadedFile("certificate.pdf", PDF_BYTES, content_type="application/pdf")
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/{world.entry.pk}/evidence/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    evidence = EvidenceFile.objects.get(pk=body["id"])
    assert body["original_name"] == "certificate.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF_BYTES)
    assert (
        body["download_url"].endswith(f"/appraisal/portfolio/evidence/{evidence.pk}/")
        or str(evidence.pk) in body["download_url"]
    )

    listed = world.client("head_of_year").get(f"{API}/portfolio-entries/{world.entry.pk}/").json()
    assert [e["id"] for e in listed["evidence"]] == [evidence.pk]
    assert listed["evidence"][0]["download_url"] == body["download_url"]


def test_evidence_download_url_serves_reader(world: World, evidence_root: Path) -> None:
    upload = SimpleUploadedFile("certificate.pdf", PDF_BYTES, content_type="application/pdf")
    body = (
        world.client("teacher")
        .post(
            f"{API}/portfolio-entries/{world.entry.pk}/evidence/",
            {"file": upload},
            format="multipart",
        )
        .json()
    )
    reader = APIClient()
    reader.force_login(world.personas.users["headteacher"])
    served = reader.get(body["download_url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF_BYTES
    outsider = APIClient()
    outsider.force_login(world.personas.users["tutor"])
    assert outsider.get(body["download_url"]).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("run.pdf", b"MZ\x90\x00 not a pdf at all", "not an allowed type"),
        ("empty.pdf", b"", None),
    ],
)
def test_evidence_bad_file_400(
    world: World, evidence_root: Path, name: str, content: bytes, text: str | None
) -> None:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/{world.entry.pk}/evidence/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()
    if text is not None:
        assert text in response.json()["file"][0]
    assert not EvidenceFile.objects.exists()
    assert not any(evidence_root.rglob("*.*"))


def test_evidence_over_limit_400(world: World, evidence_root: Path) -> None:
    with override_settings(EVIDENCE_MAX_BYTES=len(PDF_BYTES) - 1):
        upload = SimpleUploadedFile("big.pdf", PDF_BYTES, content_type="application/pdf")
        response = world.client("teacher").post(
            f"{API}/portfolio-entries/{world.entry.pk}/evidence/",
            {"file": upload},
            format="multipart",
        )
    assert response.status_code == 400
    assert "over the limit" in response.json()["file"][0]
    assert not EvidenceFile.objects.exists()


def test_evidence_missing_file_400(world: World) -> None:
    response = world.client("teacher").post(
        f"{API}/portfolio-entries/{world.entry.pk}/evidence/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()


def test_evidence_upload_by_reader_403(world: World, evidence_root: Path) -> None:
    upload = SimpleUploadedFile("notes.pdf", PDF_BYTES, content_type="application/pdf")
    response = world.client("head_of_year").post(
        f"{API}/portfolio-entries/{world.entry.pk}/evidence/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 403
    assert not EvidenceFile.objects.exists()


# Query counts ---------------------------------------------------------------------------------


def add_appraisals(world: World, count: int) -> None:
    """Give `count` new Oak staff an appraisal with three objectives, reviews,
    signatures and a portfolio entry with evidence, all appraised by the head of year."""
    for index in range(count):
        staff = StaffFactory(academy=world.personas.academies["oak"], last_name=f"Extra{index}")
        appraisal = make_appraisal(
            world.cycle,
            staff,
            world.staff("head_of_year"),
            status=Appraisal.Status.MID_YEAR_REVIEWED,
        )
        make_objective(appraisal, "Extra measured objective", 10)
        entry = PortfolioEntry.objects.create(
            staff=staff, kind="reading", title="Reading", started_on=datetime.date(2026, 11, 1)
        )
        entry.standards.set(Standard.objects.all()[:2])
        upload = SimpleUploadedFile("notes.pdf", PDF_BYTES, content_type="application/pdf")
        evidence_add(world.personas.users["trust_hr"], entry, upload)


@pytest.mark.parametrize(
    "resource",
    ["appraisals", "objectives", "objective-reviews", "portfolio-entries", "appraisal-cycles"],
)
@pytest.mark.parametrize("persona", ["trust_hr", "head_of_year"])
def test_list_queries_constant(
    world: World, evidence_root: Path, resource: str, persona: str
) -> None:
    client = world.client(persona)
    add_appraisals(world, 2)
    # The first request reads the caller's roles and caches them on the user.
    client.get(f"{API}/{resource}/")
    with CaptureQueriesContext(connection) as small:
        first = client.get(f"{API}/{resource}/", {"page_size": 500})
    assert first.status_code == 200
    add_appraisals(world, 6)
    with CaptureQueriesContext(connection) as large:
        second = client.get(f"{API}/{resource}/", {"page_size": 500})
    assert second.status_code == 200
    if resource != "appraisal-cycles":
        assert second.json()["count"] > first.json()["count"]
    assert len(large.captured_queries) == len(small.captured_queries)


def test_list_query_budget(
    world: World, evidence_root: Path, django_assert_max_num_queries: Any
) -> None:
    add_appraisals(world, 10)
    client = world.client("trust_hr")
    for resource in ("appraisals", "objectives", "objective-reviews", "portfolio-entries"):
        with django_assert_max_num_queries(12):
            response = client.get(f"{API}/{resource}/", {"page_size": 500})
        assert response.status_code == 200


# Schema ---------------------------------------------------------------------------------------


def test_schema_lists_appraisal_paths(world: World) -> None:
    response = world.client("teacher").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in (
        "/api/v1/appraisal-cycles/",
        "/api/v1/appraisal-cycles/{id}/",
        "/api/v1/appraisals/",
        "/api/v1/appraisals/{id}/",
        "/api/v1/appraisals/{id}/sign-objectives/",
        "/api/v1/appraisals/{id}/mid-year-complete/",
        "/api/v1/appraisals/{id}/final-review-complete/",
        "/api/v1/appraisals/{id}/sign-final/",
        "/api/v1/appraisals/{id}/annotations/",
        "/api/v1/objectives/",
        "/api/v1/objectives/{id}/",
        "/api/v1/objective-reviews/",
        "/api/v1/objective-reviews/{id}/",
        "/api/v1/portfolio-entries/",
        "/api/v1/portfolio-entries/{id}/",
        "/api/v1/portfolio-entries/{id}/evidence/",
    ):
        assert expected in paths, expected
    upload = paths["/api/v1/portfolio-entries/{id}/evidence/"]["post"]["requestBody"]
    assert "multipart/form-data" in upload["content"]
    objective = response.json()["components"]["schemas"]["Objective"]["properties"]
    for name in ("target_value", "current_value", "current_display", "measure_basis"):
        assert objective[name]["nullable"] is True, name


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/portfolio-entries/{id}/evidence/:" in text


@pytest.mark.parametrize("pk", ["99999999999999999999999", "abc", "0"])
@pytest.mark.parametrize(
    "resource",
    ["appraisal-cycles", "appraisals", "objectives", "objective-reviews", "portfolio-entries"],
)
def test_detail_bad_id_404(world: World, resource: str, pk: str) -> None:
    response = world.client("trust_hr").get(f"{API}/{resource}/{pk}/")
    assert response.status_code == 404


def test_cycle_create_twice_400(world: World) -> None:
    year = world.personas.academic_year
    assert year is not None
    response = world.client("trust_hr").post(
        f"{API}/appraisal-cycles/", {"academic_year": year.pk}, format="json"
    )
    assert response.status_code == 400
    assert "academic_year" in response.json()
    assert AppraisalCycle.objects.filter(academic_year=year).count() == 1


def test_appraisal_open_twice_400(world: World) -> None:
    response = world.client("headteacher").post(
        f"{API}/appraisals/",
        {"cycle": world.cycle.pk, "appraisee": world.staff("teacher").pk},
        format="json",
    )
    assert response.status_code == 400
    assert "appraisee" in response.json()
    assert Appraisal.objects.filter(appraisee=world.staff("teacher")).count() == 1


def test_sign_objectives_again_400(world: World) -> None:
    response = world.client("teacher").post(
        f"{API}/appraisals/{world.appraisal.pk}/sign-objectives/", {}, format="json"
    )
    assert response.status_code == 400
    assert Signature.objects.filter(appraisal=world.appraisal).count() == 2


def test_text_with_null_character_400(world: World) -> None:
    response = world.client("head_of_year").post(
        f"{API}/objective-reviews/",
        {"objective": world.objective.pk, "kind": "final", "appraiser_comment": "a\x00b"},
        format="json",
    )
    assert response.status_code == 400
    assert "appraiser_comment" in response.json()


@pytest.mark.parametrize(
    "resource",
    ["appraisal-cycles", "appraisals", "objectives", "objective-reviews", "portfolio-entries"],
)
def test_browsable_pages_render(world: World, resource: str) -> None:
    client = world.client("trust_hr")
    paths = {**detail_paths(world), "appraisal-cycles": f"{API}/appraisal-cycles/{world.cycle.pk}/"}
    for path in (f"{API}/{resource}/", paths[resource]):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert b"<html" in response.content, path

"""The progress API: pupil, class and year group progress, a pupil's
Attainment 8, and grades and TMGs written through the services."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from progress.grades import default_subjects_ensure
from progress.models import AssessmentPoint, GradeEntry, Qualification, TargetGrade, TeachingGroup
from pupils.models import Enrolment, Pupil

from . import factories as base_factories
from . import factories_progress as progress_factories
from .factories_progress import grade_of
from .personas import TODAY, Personas, build_personas
from .test_progress_attainment import EXAMPLE_A, A8World, a8  # noqa: F401

pytestmark = pytest.mark.django_db

PupilFactory: Any = base_factories.PupilFactory
AssessmentPointFactory: Any = progress_factories.AssessmentPointFactory
ClassMembershipFactory: Any = progress_factories.ClassMembershipFactory
GradeEntryFactory: Any = progress_factories.GradeEntryFactory
TargetGradeFactory: Any = progress_factories.TargetGradeFactory
TeachingGroupFactory: Any = progress_factories.TeachingGroupFactory

ROW_FIELDS = {
    "qualification",
    "latest_grade",
    "latest_points",
    "assessment_point",
    "tmg",
    "tmg_points",
    "status",
    "status_label",
}


@dataclass
class ApiWorld:
    world: Personas
    maths: Qualification
    history: Qualification
    maths_class: TeachingGroup
    history_class: TeachingGroup
    point: AssessmentPoint
    final: AssessmentPoint

    def pupil(self, key: str) -> Pupil:
        return self.world.pupils[key]

    def client(self, persona: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.world.users[persona])
        return client


@pytest.fixture
def api() -> Iterator[ApiWorld]:
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        trust = world.academies["oak"].trust
        quals = default_subjects_ensure(trust)
        oak, year = world.academies["oak"], world.academic_year
        year_group = world.year_groups["oak9"]
        maths_class = TeachingGroupFactory(
            academy=oak,
            academic_year=year,
            year_group=year_group,
            qualification=quals["gcse_maths"],
            name="9Ma1",
            teachers=[world.staff["teacher"]],
        )
        history_class = TeachingGroupFactory(
            academy=oak,
            academic_year=year,
            year_group=year_group,
            qualification=quals["gcse_history"],
            name="9Hi1",
        )
        for key in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel"):
            ClassMembershipFactory(group=maths_class, pupil=world.pupils[key])
        ClassMembershipFactory(group=history_class, pupil=world.pupils["oak9a_obrien"])
        point = AssessmentPointFactory(
            academy=oak,
            academic_year=year,
            year_group=year_group,
            name="Autumn data drop",
            date=datetime.date(2026, 11, 20),
        )
        final = AssessmentPointFactory(
            academy=oak,
            academic_year=year,
            year_group=year_group,
            name="November exams",
            date=datetime.date(2026, 11, 25),
            kind=AssessmentPoint.Kind.FINAL,
        )
        yield ApiWorld(
            world=world,
            maths=quals["gcse_maths"],
            history=quals["gcse_history"],
            maths_class=maths_class,
            history_class=history_class,
            point=point,
            final=final,
        )


def grade(api: ApiWorld, key: str, qualification: Qualification, label: str) -> GradeEntry:
    entry: GradeEntry = GradeEntryFactory(
        pupil=api.pupil(key),
        assessment_point=api.point,
        qualification=qualification,
        grade=grade_of(qualification.scale, label),
    )
    return entry


def tmg(api: ApiWorld, key: str, qualification: Qualification, label: str) -> TargetGrade:
    target: TargetGrade = TargetGradeFactory(
        pupil=api.pupil(key),
        qualification=qualification,
        academic_year=api.world.academic_year,
        grade=grade_of(qualification.scale, label),
    )
    return target


def rows_by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["qualification"]["name"]: row for row in rows}


# Reading progress -------------------------------------------------------------------------------


def test_pupil_progress_fields_and_types(api: ApiWorld) -> None:
    obrien = api.pupil("oak9a_obrien")
    grade(api, "oak9a_obrien", api.maths, "5")
    tmg(api, "oak9a_obrien", api.maths, "6")
    tmg(api, "oak9a_obrien", api.history, "6")

    response = api.client("teacher").get(f"/api/v1/pupils/{obrien.pk}/progress/")

    assert response.status_code == 200
    body = response.json()
    assert body["pupil"] == obrien.pk
    year = api.world.academic_year
    assert year is not None
    assert body["academic_year"] == {"id": year.pk, "name": "2026/27"}
    rows = rows_by_name(body["qualifications"])
    maths = rows["GCSE mathematics"]
    assert set(maths) == ROW_FIELDS
    assert maths["latest_grade"] == "5"
    assert maths["latest_points"] == 5.0
    assert isinstance(maths["latest_points"], float)
    assert maths["tmg"] == "6"
    assert maths["tmg_points"] == 6.0
    assert maths["status"] == "well_below"
    assert maths["assessment_point"] == {
        "id": api.point.pk,
        "name": "Autumn data drop",
        "date": "2026-11-20",
        "kind": "working_at",
    }
    history = rows["GCSE history"]
    assert history["latest_grade"] is None
    assert history["latest_points"] is None
    assert history["status"] == "no_grade"


def test_pupil_progress_without_tmg(api: ApiWorld) -> None:
    patel = api.pupil("oak9b_patel")
    grade(api, "oak9b_patel", api.maths, "7")
    response = api.client("headteacher").get(f"/api/v1/pupils/{patel.pk}/progress/")
    row = rows_by_name(response.json()["qualifications"])["GCSE mathematics"]
    assert row["tmg"] is None
    assert row["status"] == "no_tmg"


def test_pupil_progress_bad_academic_year(api: ApiWorld) -> None:
    obrien = api.pupil("oak9a_obrien")
    client = api.client("headteacher")
    response = client.get(f"/api/v1/pupils/{obrien.pk}/progress/", {"academic_year": "x"})
    assert response.status_code == 400
    assert "'x' is not a valid academic year id" in response.json()["academic_year"][0]
    response = client.get(f"/api/v1/pupils/{obrien.pk}/progress/", {"academic_year": "999999"})
    assert response.status_code == 400
    assert "999999" in response.json()["academic_year"][0]


def test_progress_outside_scope_404(api: ApiWorld) -> None:
    obrien = api.pupil("oak9a_obrien")
    client = api.client("elm_teacher")
    for url in (
        f"/api/v1/pupils/{obrien.pk}/progress/",
        f"/api/v1/pupils/{obrien.pk}/attainment8/",
        f"/api/v1/classes/{api.maths_class.pk}/progress/",
        f"/api/v1/year-groups/{api.world.year_groups['oak9'].pk}/progress/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "O'Brien" not in response.content.decode()


def test_teacher_sees_own_class_only(api: ApiWorld) -> None:
    client = api.client("teacher")
    assert client.get(f"/api/v1/classes/{api.maths_class.pk}/progress/").status_code == 200
    assert client.get(f"/api/v1/classes/{api.history_class.pk}/progress/").status_code == 404
    year_group = api.world.year_groups["oak9"]
    assert client.get(f"/api/v1/year-groups/{year_group.pk}/progress/").status_code == 404


def test_class_progress_matches_pupil_detail(api: ApiWorld) -> None:
    grade(api, "oak9a_obrien", api.maths, "6+")
    tmg(api, "oak9a_obrien", api.maths, "6")
    grade(api, "oak9b_patel", api.maths, "4")
    client = api.client("teacher")

    body = client.get(f"/api/v1/classes/{api.maths_class.pk}/progress/").json()

    assert body["qualification"]["name"] == "GCSE mathematics"
    names = [row["name"] for row in body["pupils"]]
    assert names == ["Aoife O'Brien", "Isla Patel", "Noah Smith-Jones"]
    for listed in body["pupils"]:
        detail = client.get(f"/api/v1/pupils/{listed['pupil']}/progress/").json()
        assert listed["qualifications"] == [
            rows_by_name(detail["qualifications"])["GCSE mathematics"]
        ]
    statuses = {row["name"]: row["qualifications"][0]["status"] for row in body["pupils"]}
    assert statuses == {
        "Aoife O'Brien": "on",
        "Isla Patel": "no_tmg",
        "Noah Smith-Jones": "no_grade",
    }


def test_year_group_progress_matches_pupil_detail(api: ApiWorld) -> None:
    grade(api, "oak9a_obrien", api.history, "7")
    tmg(api, "oak9a_obrien", api.history, "6")
    client = api.client("head_of_year")
    year_group = api.world.year_groups["oak9"]

    body = client.get(f"/api/v1/year-groups/{year_group.pk}/progress/").json()

    assert body["academic_year"]["name"] == "2026/27"
    listed = {row["pupil"]: row for row in body["pupils"]}
    assert set(listed) == {
        api.pupil(k).pk for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")
    }
    for pupil_id, row in listed.items():
        detail = client.get(f"/api/v1/pupils/{pupil_id}/progress/").json()
        assert row["qualifications"] == detail["qualifications"]
    obrien = rows_by_name(listed[api.pupil("oak9a_obrien").pk]["qualifications"])
    assert obrien["GCSE history"]["status"] == "above"


def add_class_pupils(api: ApiWorld, count: int) -> None:
    for _ in range(count):
        pupil = PupilFactory()
        Enrolment.objects.create(
            pupil=pupil,
            academy=api.maths_class.academy,
            academic_year=api.maths_class.academic_year,
            year_group=api.maths_class.year_group,
            start_date=api.maths_class.academic_year.start_date,
        )
        ClassMembershipFactory(group=api.maths_class, pupil=pupil)
        GradeEntryFactory(
            pupil=pupil,
            assessment_point=api.point,
            qualification=api.maths,
            grade=grade_of(api.maths.scale, "5"),
        )
        TargetGradeFactory(
            pupil=pupil,
            qualification=api.maths,
            academic_year=api.world.academic_year,
            grade=grade_of(api.maths.scale, "6"),
        )


@pytest.mark.parametrize("resource", ["classes", "year-groups"])
def test_group_progress_query_count(api: ApiWorld, resource: str) -> None:
    client = api.client("headteacher")
    pk = api.maths_class.pk if resource == "classes" else api.world.year_groups["oak9"].pk
    url = f"/api/v1/{resource}/{pk}/progress/"
    add_class_pupils(api, 2)
    # The first request reads and caches the caller's scope.
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add_class_pupils(api, 6)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.json()["pupils"]) == 11
    assert len(large.captured_queries) == len(small.captured_queries)


# Attainment 8 -----------------------------------------------------------------------------------


def test_attainment8_worked_example(a8: A8World) -> None:  # noqa: F811
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, EXAMPLE_A)
    client = APIClient()
    client.force_authenticate(a8.world.users["headteacher"])

    response = client.get(f"/api/v1/pupils/{pupil.pk}/attainment8/")

    assert response.status_code == 200
    body = response.json()
    assert body["attainment8"] == 53.0
    assert body["english_double"] is True
    assert body["elements"] == {"english": 12.0, "maths": 10.0, "ebacc": 15.0, "open": 16.0}
    assert body["results_year"] == {"id": a8.year.pk, "name": "2023/24"}
    assert len(body["slots"]) == 8
    english = body["slots"][0]
    assert english == {
        "element": "english",
        "number": 1,
        "label": "English",
        "weight": 2,
        "qualification": {
            "id": a8.quals["gcse_english_language"].pk,
            "name": "GCSE English language",
        },
        "part": None,
        "grade": "6",
        "points": 6.0,
        "slot_points": 12.0,
    }
    science = [s for s in body["slots"] if s["qualification"] and s["part"]]
    assert [(s["label"], s["part"], s["points"]) for s in science] == [
        ("EBacc 2", 1, 4.5),
        ("EBacc 3", 2, 4.5),
    ]
    p8 = body["progress8"]
    assert p8["progress8"] == 0.788
    assert p8["prior_attainment_group"] == 19
    assert p8["ks2_average"] == 105.0
    assert p8["estimate_attainment8"] == 45.12
    assert p8["elements"] == {"english": 1.075, "maths": 0.515, "ebacc": 0.6833, "open": 0.8833}
    assert p8["estimate_table"] == {
        "id": a8.table.pk,
        "name": "DfE estimates",
        "year": 2024,
        "source": "DfE KS4 ready reckoner, 2024",
        "same_year": True,
    }


def test_attainment8_variant_and_missing(a8: A8World) -> None:  # noqa: F811
    pupil = a8.pupil("oak10a_taylor")
    a8.results(pupil, {k: v for k, v in EXAMPLE_A.items() if k != "gcse_english_literature"})
    empty = a8.pupil("oak9a_obrien")
    client = APIClient()
    client.force_authenticate(a8.world.users["headteacher"])

    body = client.get(f"/api/v1/pupils/{pupil.pk}/attainment8/").json()
    assert body["attainment8"] == 42.0
    assert body["progress8"]["progress8"] == -0.312
    assert body["slots"][-1]["qualification"] is None
    assert body["slots"][-1]["slot_points"] == 0.0

    body = client.get(f"/api/v1/pupils/{empty.pk}/attainment8/").json()
    assert body["attainment8"] is None
    assert body["slots"] == []
    assert body["progress8"] is None


# Writing grades ---------------------------------------------------------------------------------


def post_grade(api: ApiWorld, persona: str, **fields: Any) -> Any:
    data = {
        "pupil": api.pupil("oak9a_obrien").pk,
        "qualification": api.maths.pk,
        "assessment_point": api.point.pk,
        "grade": "6",
        **fields,
    }
    return api.client(persona).post("/api/v1/grades/", data, format="json")


def test_grade_create_and_change(api: ApiWorld) -> None:
    tmg(api, "oak9a_obrien", api.maths, "6")
    response = post_grade(api, "teacher")
    assert response.status_code == 201
    body = response.json()
    assert body["grade"] == "6"
    assert body["points"] == 6.0
    assert body["version"] == 1
    assert body["status"] == "on"

    response = post_grade(api, "teacher", grade="7", version=1)
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["status"] == "above"

    response = post_grade(api, "teacher", grade="7")
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_grade_conflict_409(api: ApiWorld) -> None:
    assert post_grade(api, "teacher").status_code == 201
    assert post_grade(api, "teacher", grade="5", version=1).status_code == 200
    response = post_grade(api, "teacher", grade="4", version=1)
    assert response.status_code == 409
    assert response.json()["current_grade"] == "5"
    assert response.json()["current_version"] == 2
    saved = GradeEntry.objects.select_related("grade").get()
    assert saved.grade is not None
    assert saved.grade.label == "5"


def test_grade_not_on_scale_400(api: ApiWorld) -> None:
    response = post_grade(api, "teacher", grade="6++")
    assert response.status_code == 400
    message = response.json()["grade"][0]
    assert "'6++'" in message
    assert "allowed: 9, 9-, 8+, 8" in message
    assert not GradeEntry.objects.exists()


def test_grade_fine_grade_final_400(api: ApiWorld) -> None:
    response = post_grade(api, "teacher", grade="6+", assessment_point=api.final.pk)
    assert response.status_code == 400
    assert "whole grade" in response.json()["grade"][0]


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"pupil": "abc"}, "pupil", "'abc' is not a valid pupil id"),
        ({"qualification": None}, "qualification", "not a valid qualification id"),
        ({"assessment_point": 999999}, "assessment_point", "999999 was not found"),
        ({"qualification": 999999}, "qualification", "999999 was not found"),
        ({"grade": ""}, "grade", "Grade is blank"),
        ({"version": "x"}, "version", "Version is not a whole number"),
    ],
)
def test_grade_bad_input_400(api: ApiWorld, fields: dict[str, Any], field: str, text: str) -> None:
    response = post_grade(api, "teacher", **fields)
    assert response.status_code == 400
    assert text in response.json()[field][0]
    assert not GradeEntry.objects.exists()


def test_grade_missing_fields_400(api: ApiWorld) -> None:
    response = api.client("teacher").post("/api/v1/grades/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"pupil", "qualification", "assessment_point", "grade"}
    response = api.client("teacher").post("/api/v1/grades/", [1, 2], format="json")
    assert response.status_code == 400


def test_grade_outside_scope_404(api: ApiWorld) -> None:
    elm_pupil = api.pupil("elm9e_ashdown")
    response = post_grade(api, "teacher", pupil=elm_pupil.pk)
    assert response.status_code == 404
    assert "Ashdown" not in response.content.decode()
    # O'Brien is visible through maths, but the teacher does not teach her history class.
    response = post_grade(api, "teacher", qualification=api.history.pk)
    assert response.status_code == 404
    assert not GradeEntry.objects.exists()


def test_grade_point_outside_scope_400(api: ApiWorld) -> None:
    elm = api.world.academies["elm"]
    elm_point = AssessmentPointFactory(
        academy=elm,
        academic_year=api.world.academic_year,
        year_group=api.world.year_groups["elm9"],
        name="Elm autumn drop",
    )
    response = post_grade(api, "teacher", assessment_point=elm_point.pk)
    assert response.status_code == 400
    message = response.json()["assessment_point"][0]
    assert message == f"Assessment point {elm_point.pk} was not found."
    assert not GradeEntry.objects.exists()


def test_grade_pupil_without_class_400(api: ApiWorld) -> None:
    response = post_grade(
        api,
        "head_of_year",
        pupil=api.pupil("oak9a_smithjones").pk,
        qualification=api.history.pk,
    )
    assert response.status_code == 400
    assert "is in no class for GCSE history" in response.json()["pupil"][0]


# Writing TMGs -----------------------------------------------------------------------------------


def post_target(api: ApiWorld, persona: str, **fields: Any) -> Any:
    data = {
        "pupil": api.pupil("oak9a_obrien").pk,
        "qualification": api.maths.pk,
        "grade": "6",
        "reason": "Strong start in Year 9",
        **fields,
    }
    return api.client(persona).post("/api/v1/targets/", data, format="json")


def test_target_set_and_lower(api: ApiWorld) -> None:
    response = post_target(api, "head_of_year")
    assert response.status_code == 200
    body = response.json()
    assert body["grade"] == "6"
    assert body["points"] == 6.0
    assert body["basis"] == "manual"
    assert api.world.academic_year is not None
    assert body["academic_year"] == api.world.academic_year.pk
    assert body["version"] == 1

    response = post_target(api, "head_of_year", grade="5", reason="Lower")
    assert response.status_code == 403
    kept = TargetGrade.objects.select_related("grade").get()
    assert kept.grade is not None
    assert kept.grade.label == "6"

    response = api.client("headteacher").patch(
        f"/api/v1/targets/{body['id']}/",
        {"grade": "5", "reason": "Agreed at review", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["grade"] == "5"
    assert response.json()["version"] == 2


def test_target_conflict_409(api: ApiWorld) -> None:
    target = tmg(api, "oak9a_obrien", api.maths, "6")
    response = api.client("headteacher").patch(
        f"/api/v1/targets/{target.pk}/",
        {"grade": "7", "reason": "Raised", "version": 5},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current_version"] == target.version


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"grade": "X"}, "grade", "Grade 'X' is not on GCSE 9 to 1"),
        ({"grade": "6+"}, "grade", "whole grade"),
        ({"reason": ""}, "reason", "Reason is missing"),
        ({"qualification": 999999}, "qualification", "999999 was not found"),
        ({"pupil": "1.5"}, "pupil", "'1.5' is not a valid pupil id"),
    ],
)
def test_target_bad_input_400(api: ApiWorld, fields: dict[str, Any], field: str, text: str) -> None:
    response = post_target(api, "headteacher", **fields)
    assert response.status_code == 400
    assert text in response.json()[field][0]
    assert not TargetGrade.objects.exists()


def test_target_outside_scope_404(api: ApiWorld) -> None:
    response = post_target(api, "elm_teacher")
    assert response.status_code == 404
    target = tmg(api, "oak9a_obrien", api.maths, "6")
    response = api.client("elm_teacher").patch(
        f"/api/v1/targets/{target.pk}/", {"grade": "7", "reason": "Raised"}, format="json"
    )
    assert response.status_code == 404


def test_schema_lists_progress_paths(api: ApiWorld) -> None:
    response = api.client("teacher").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in (
        "/api/v1/pupils/{id}/progress/",
        "/api/v1/pupils/{id}/attainment8/",
        "/api/v1/classes/{id}/progress/",
        "/api/v1/year-groups/{id}/progress/",
        "/api/v1/grades/",
        "/api/v1/targets/",
        "/api/v1/targets/{id}/",
    ):
        assert expected in paths, expected

"""The underperformance list, interventions (opening, editing, review and
impact), overdue reviews and what works by intervention kind."""

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from progress.grades import default_subjects_ensure
from progress.interventions import (
    intervention_create,
    intervention_review,
    intervention_update,
    pupil_impacts,
    reviewed_links,
    underperformance,
    what_works,
)
from progress.models import Intervention, InterventionPupil
from pupils.models import Enrolment
from trust.models import AuditEvent

from .factories import PupilFactory, StaffFactory
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

AUTUMN_1 = datetime.date(2026, 10, 15)
AUTUMN_2 = datetime.date(2026, 12, 1)
SPRING_1 = datetime.date(2027, 1, 20)
LATER = datetime.datetime(2027, 1, 25, 10, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


class World:
    """Personas with Year 9 at Oak graded at two assessment points."""

    notmg: Any
    year: Any
    autumn1: Any
    autumn2: Any

    def __init__(self) -> None:
        self.p = build_personas()
        trust = self.p.academies["oak"].trust
        self.quals = default_subjects_ensure(trust)
        self.maths = self.quals["gcse_maths"]
        self.english = self.quals["gcse_english_language"]
        self.history = self.quals["gcse_history"]
        self.geography = self.quals["gcse_geography"]
        self.year = self.p.academic_year
        self.year_group = self.p.year_groups["oak9"]

        oak = self.p.academies["oak"]
        self.autumn1 = AssessmentPointFactory(
            academy=oak,
            academic_year=self.year,
            year_group=self.year_group,
            name="Autumn 1",
            date=AUTUMN_1,
        )
        self.autumn2 = AssessmentPointFactory(
            academy=oak,
            academic_year=self.year,
            year_group=self.year_group,
            name="Autumn 2",
            date=AUTUMN_2,
        )

        self.group = TeachingGroupFactory(
            academy=oak,
            academic_year=self.year,
            year_group=self.year_group,
            qualification=self.maths,
            name="9Ma1",
            teachers=[self.p.staff["teacher"]],
        )
        for key in ("oak9a_obrien", "oak9b_patel"):
            ClassMembershipFactory(group=self.group, pupil=self.p.pupils[key])

    def pupil(self, key: str):
        return self.p.pupils[key]

    def tmg(self, pupil, qualification, label: str) -> None:
        TargetGradeFactory(
            pupil=pupil,
            qualification=qualification,
            academic_year=self.year,
            grade=grade_of(qualification.scale, label),
        )

    def grade(self, pupil, qualification, point: Any, label: str) -> None:
        GradeEntryFactory(
            pupil=pupil,
            qualification=qualification,
            assessment_point=point,
            grade=grade_of(qualification.scale, label),
        )

    def add_pupil(self, forename: str, surname: str, tutor_group: str = "9A"):
        group = self.p.tutor_groups[tutor_group]
        pupil: Any = PupilFactory(legal_forename=forename, legal_surname=surname)
        Enrolment.objects.create(
            pupil=pupil,
            academy=group.academy,
            academic_year=self.year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=self.year.start_date,
        )
        return pupil


@pytest.fixture
def world() -> World:
    w = World()
    obrien, smithjones, patel = (
        w.pupil(k) for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")
    )
    # O'Brien: below TMG in maths only, so listed for English or maths.
    w.tmg(obrien, w.maths, "6")
    w.tmg(obrien, w.english, "6")
    w.grade(obrien, w.maths, w.autumn2, "5")
    w.grade(obrien, w.english, w.autumn2, "6")
    # Smith-Jones: on TMG in English and maths, below in two other subjects.
    for qualification in (w.maths, w.english, w.history, w.geography):
        w.tmg(smithjones, qualification, "6")
    w.grade(smithjones, w.maths, w.autumn2, "6")
    w.grade(smithjones, w.english, w.autumn2, "6+")
    w.grade(smithjones, w.history, w.autumn2, "4")
    w.grade(smithjones, w.geography, w.autumn2, "6-")
    # Patel: below in maths at Autumn 1 but above at Autumn 2, and below in
    # history only, so not listed.
    w.tmg(patel, w.maths, "6")
    w.tmg(patel, w.history, "6")
    w.grade(patel, w.maths, w.autumn1, "4")
    w.grade(patel, w.maths, w.autumn2, "7")
    w.grade(patel, w.history, w.autumn2, "5")
    # Without TMGs, low grades are not counted as below.
    w.notmg = w.add_pupil("Ada", "Notarget")
    w.grade(w.notmg, w.maths, w.autumn2, "2")
    w.grade(w.notmg, w.english, w.autumn2, "2")
    w.grade(w.notmg, w.history, w.autumn2, "2")
    return w


def listed(view) -> dict[int, list[str]]:
    return {row.pupil.pk: row.reasons for row in view.rows}


# The underperformance list ----------------------------------------------------------------


def test_list_rules(world):
    view = underperformance(world.p.users["head_of_year"], world.year_group)
    rows = listed(view)
    obrien, smithjones = world.pupil("oak9a_obrien"), world.pupil("oak9a_smithjones")
    assert view.point == world.autumn2
    assert set(rows) == {obrien.pk, smithjones.pk}
    assert rows[obrien.pk] == ["below TMG in English or maths"]
    assert rows[smithjones.pk] == ["below TMG in two or more subjects"]


def test_list_subjects_and_statuses(world):
    view = underperformance(world.p.users["head_of_year"], world.year_group)
    row = next(r for r in view.rows if r.pupil == world.pupil("oak9a_smithjones"))
    shown = [(s.qualification.name, s.grade, s.tmg, s.status.label) for s in row.subjects]
    assert shown == [
        ("GCSE geography", "6-", "6", "Below TMG"),
        ("GCSE history", "4", "6", "Well below TMG"),
    ]


def test_on_target_and_no_tmg_excluded(world):
    view = underperformance(world.p.users["head_of_year"], world.year_group)
    ids = set(listed(view))
    assert world.pupil("oak9b_patel").pk not in ids
    assert world.notmg.pk not in ids


def test_list_page_shows_in_place(client, world):
    obrien = world.pupil("oak9a_obrien")
    client.force_login(world.p.users["head_of_year"])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    body = client.get(url).content.decode()
    assert "No intervention in place" in body
    assert "O&#x27;Brien, Aoife" in body
    assert "Well below TMG" in body

    intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[obrien.pk],
        kind=Intervention.Kind.TUTORING,
        title="Maths small-group tutoring",
        qualification_id=world.maths.pk,
        owner_id=world.p.staff["teacher"].pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 1, 29),
    )
    response = client.get(url)
    row = response.content.decode().split(f'id="pupil-{obrien.pk}"')[1].split("</tr>")[0]
    assert "Maths small-group tutoring" in row
    assert "TeacherPersona" in row or "Teacher Persona" in row
    assert "29/01/2027" in row
    assert "No intervention in place" not in row


def test_list_csv_export(client, world):
    client.force_login(world.p.users["headteacher"])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Surname", "Forename", "UPN"]
    by_surname = {row[0]: row for row in rows[1:]}
    assert set(by_surname) == {"O'Brien", "Smith-Jones"}
    assert "GCSE mathematics: 5 against TMG 6 (Well below TMG)" in by_surname["O'Brien"][5]
    assert by_surname["O'Brien"][6] == "No intervention in place"


def test_list_bad_format_is_400(client, world):
    client.force_login(world.p.users["headteacher"])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    assert client.get(url, {"format": "pdf"}).status_code == 400


def test_teacher_sees_class_pupils_only(client, world):
    client.force_login(world.p.users["teacher"])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    response = client.get(url)
    assert response.status_code == 200
    ids = {row.pupil.pk for row in response.context["view"].rows}
    assert ids == {world.pupil("oak9a_obrien").pk}


@pytest.mark.parametrize("persona", ["elm_teacher", "trustee", "staff"])
def test_list_outside_scope_is_404(client, world, persona):
    client.force_login(world.p.users[persona])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    assert client.get(url).status_code == 404


def test_list_without_point_says_so(client, world):
    client.force_login(world.p.users["headteacher"])
    url = reverse("progress:underperformance", args=[world.p.year_groups["oak10"].pk])
    body = client.get(url).content.decode()
    assert "has no assessment point in 2026/27 yet" in body


def test_list_query_count_constant(client, world):
    client.force_login(world.p.users["headteacher"])
    url = reverse("progress:underperformance", args=[world.year_group.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    for index in range(6):
        pupil = world.add_pupil("Extra", f"Pupil{index}")
        world.tmg(pupil, world.maths, "6")
        world.grade(pupil, world.maths, world.autumn2, "4")
        intervention_create(
            actor=world.p.users["headteacher"],
            pupil_ids=[pupil.pk],
            kind=Intervention.Kind.CATCH_UP,
            title=f"Catch-up {index}",
            qualification_id=world.maths.pk,
            owner_id=world.p.staff["teacher"].pk,
            start_date=datetime.date(2026, 12, 4),
            review_date=datetime.date(2027, 1, 29),
        )
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert len(response.context["view"].rows) == 8
    assert len(after) == len(before)


# Opening an intervention ------------------------------------------------------------------


def new_form(world, **changes):
    data = {
        "pupil": [str(world.pupil("oak9a_obrien").pk)],
        "kind": Intervention.Kind.TUTORING,
        "title": "Maths tutoring",
        "qualification": str(world.maths.pk),
        "owner": str(world.p.staff["teacher"].pk),
        "start_date": "04/12/2026",
        "review_date": "29/01/2027",
        "status": Intervention.Status.ACTIVE,
        "notes": "Twice a week after school.",
    }
    data.update(changes)
    return data


def test_open_from_page_captures_start(client, world):
    client.force_login(world.p.users["teacher"])
    response = client.post(reverse("progress:intervention-new"), new_form(world))
    assert response.status_code == 302
    intervention = Intervention.objects.get()
    assert response["Location"] == reverse("progress:intervention-detail", args=[intervention.pk])
    assert intervention.owner == world.p.staff["teacher"]
    assert intervention.academy == world.p.academies["oak"]
    assert intervention.academic_year == world.year
    link = intervention.pupil_links.get()
    assert link.start_points == Decimal("5.00")
    assert link.tmg_points == Decimal("6.00")
    assert link.review_points is None
    event = AuditEvent.objects.get(model="progress.Intervention", object_id=str(intervention.pk))
    assert event.actor == world.p.users["teacher"]


def test_open_form_defaults_owner_to_user(client, world):
    client.force_login(world.p.users["teacher"])
    pupil = world.pupil("oak9a_obrien")
    response = client.get(reverse("progress:intervention-new"), {"pupil": pupil.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["owner"] == world.p.staff["teacher"].pk
    assert form.initial["start_date"] == datetime.date(2026, 12, 4)
    assert "Aoife O&#x27;Brien" in response.content.decode()


def test_open_for_many_leaves_missing_empty(world):
    obrien, smithjones = world.pupil("oak9a_obrien"), world.pupil("oak9a_smithjones")
    intervention = intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[obrien.pk, smithjones.pk, world.notmg.pk],
        kind=Intervention.Kind.REVISION,
        title="Year 9 maths revision club",
        qualification_id=world.maths.pk,
        owner_id=world.p.staff["head_of_year"].pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 2, 1),
    )
    points = {
        link.pupil_id: (link.start_points, link.tmg_points)
        for link in intervention.pupil_links.all()
    }
    assert points == {
        obrien.pk: (Decimal("5.00"), Decimal("6.00")),
        smithjones.pk: (Decimal("6.00"), Decimal("6.00")),
        world.notmg.pk: (Decimal("2.00"), None),
    }


def test_open_start_uses_grade_up_to_start(world):
    patel = world.pupil("oak9b_patel")
    intervention = intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[patel.pk],
        kind=Intervention.Kind.TUTORING,
        title="Maths tutoring",
        qualification_id=world.maths.pk,
        owner_id=world.p.staff["head_of_year"].pk,
        start_date=datetime.date(2026, 11, 1),
        review_date=datetime.date(2026, 12, 20),
    )
    assert intervention.pupil_links.get().start_points == Decimal("4.00")


def test_open_without_qualification_has_no_points(world):
    intervention = intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[world.pupil("oak9a_obrien").pk],
        kind=Intervention.Kind.MENTORING,
        title="Weekly mentoring",
        qualification_id=None,
        owner_id=world.p.staff["head_of_year"].pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 1, 15),
    )
    link = intervention.pupil_links.get()
    assert (link.start_points, link.tmg_points) == (None, None)


def test_review_before_start_names_both_dates(client, world):
    client.force_login(world.p.users["teacher"])
    response = client.post(
        reverse("progress:intervention-new"),
        new_form(world, start_date="05/11/2026", review_date="01/11/2026"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["review_date"]
    assert errors == [
        "Review date 01/11/2026 is before the start date 05/11/2026; "
        "the review must be on or after the start."
    ]
    assert not Intervention.objects.exists()
    assert not InterventionPupil.objects.exists()


def test_open_rejects_owner_of_other_academy(client, world):
    client.force_login(world.p.users["teacher"])
    elm_owner = world.p.staff["elm_teacher"]
    response = client.post(
        reverse("progress:intervention-new"), new_form(world, owner=str(elm_owner.pk))
    )
    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == ["Choose the owner from the staff listed."]
    assert not Intervention.objects.exists()


def test_service_rejects_bad_values(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        intervention_create(
            actor=world.p.users["head_of_year"],
            pupil_ids=[world.pupil("oak9a_obrien").pk, world.pupil("elm9e_ashdown").pk],
            kind="magic",
            title="",
            qualification_id=None,
            owner_id=world.p.staff["elm_teacher"].pk,
            start_date=datetime.date(2026, 12, 4),
            review_date=datetime.date(2027, 1, 15),
            status=Intervention.Status.REVIEWED,
        )
    errors = caught.value.message_dict
    assert "2 academies (Elm Academy, Oak Academy)" in errors["pupils"][0]
    assert errors["kind"][0].startswith("Kind 'magic' is not an intervention kind; allowed: ")
    assert errors["title"] == ["Title is blank; give the intervention a title."]
    assert errors["status"] == [
        "Status 'reviewed' is not allowed when opening an intervention; allowed: Planned, In place."
    ]
    assert not Intervention.objects.exists()


def test_service_rejects_owner_from_elsewhere(world):
    from django.core.exceptions import ValidationError

    elm_owner = world.p.staff["elm_teacher"]
    with pytest.raises(ValidationError) as caught:
        intervention_create(
            actor=world.p.users["head_of_year"],
            pupil_ids=[world.pupil("oak9a_obrien").pk],
            kind=Intervention.Kind.TUTORING,
            title="Tutoring",
            qualification_id=None,
            owner_id=elm_owner.pk,
            start_date=datetime.date(2026, 12, 4),
            review_date=datetime.date(2027, 1, 15),
        )
    assert caught.value.message_dict["owner"] == [
        f"Owner {elm_owner.pk} is not a member of staff at Oak Academy; choose one from the list."
    ]


def test_teacher_cannot_open_outside_classes(client, world):
    """Access case X2: a pupil outside the teacher's classes is not found."""
    client.force_login(world.p.users["teacher"])
    outsider = world.pupil("oak9a_smithjones")
    url = reverse("progress:intervention-new")
    assert client.get(url, {"pupil": outsider.pk}).status_code == 404
    form = new_form(world, pupil=[str(world.pupil("oak9a_obrien").pk), str(outsider.pk)])
    assert client.post(url, form).status_code == 404
    assert not Intervention.objects.exists()
    assert not InterventionPupil.objects.exists()
    assert not AuditEvent.objects.filter(model__startswith="progress.Intervention").exists()


def test_new_with_bad_pupil_id_is_400(client, world):
    client.force_login(world.p.users["teacher"])
    response = client.get(reverse("progress:intervention-new"), {"pupil": "abc"})
    assert response.status_code == 400


# Review and impact ------------------------------------------------------------------------


def open_maths(world, *keys: str) -> Intervention:
    return intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[world.pupil(k).pk for k in keys],
        kind=Intervention.Kind.TUTORING,
        title="Maths tutoring",
        qualification_id=world.maths.pk,
        owner_id=world.p.staff["teacher"].pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 1, 22),
    )


def test_review_captures_grade_after_start(client, world, frozen):
    intervention = open_maths(world, "oak9a_obrien", "oak9a_smithjones")
    spring = AssessmentPointFactory(
        academy=world.p.academies["oak"],
        academic_year=world.year,
        year_group=world.year_group,
        name="Spring 1",
        date=SPRING_1,
    )
    obrien, smithjones = world.pupil("oak9a_obrien"), world.pupil("oak9a_smithjones")
    world.grade(obrien, world.maths, spring, "6+")
    frozen.move_to(LATER)

    client.force_login(world.p.users["teacher"])
    url = reverse("progress:intervention-review", args=[intervention.pk])
    response = client.post(
        url,
        {
            "version": str(intervention.version),
            "reviewed_on": "25/01/2027",
            "outcome": "Secure on fractions; carry on until Easter.",
            f"grade_{obrien.pk}": "",
            f"grade_{smithjones.pk}": "",
        },
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.status == Intervention.Status.REVIEWED
    assert intervention.reviewed_on == datetime.date(2027, 1, 25)
    points = {link.pupil_id: link.review_points for link in intervention.pupil_links.all()}
    # Smith-Jones has no maths grade after the start, so none is recorded.
    assert points == {obrien.pk: Decimal("6.33"), smithjones.pk: None}

    impacts = {i.link.pupil_id: i for i in pupil_impacts(intervention)}
    assert impacts[obrien.pk].change == Decimal("1.33")
    assert impacts[obrien.pk].change_text == "Up 1.33 grades"
    assert impacts[obrien.pk].back_on_tmg is True
    assert impacts[smithjones.pk].change is None
    assert impacts[smithjones.pk].back_on_tmg is None

    body = client.get(reverse("progress:intervention-detail", args=[intervention.pk])).content
    text = body.decode()
    assert "Up 1.33 grades" in text
    assert "Yes: on or above TMG" in text
    assert "Secure on fractions" in text


def test_review_typed_grade_and_still_below(world, frozen):
    intervention = open_maths(world, "oak9a_obrien")
    frozen.move_to(LATER)
    obrien = world.pupil("oak9a_obrien")
    intervention_review(
        actor=world.p.users["teacher"],
        intervention_id=intervention.pk,
        seen_version=intervention.version,
        reviewed_on=datetime.date(2027, 1, 22),
        outcome="Little change yet.",
        typed_grades={obrien.pk: "5-"},
    )
    impact = pupil_impacts(intervention)[0]
    assert impact.link.review_points == Decimal("4.67")
    assert impact.review_label == "5-"
    assert impact.change_text == "Down 0.33 grades"
    assert impact.back_on_tmg is False


def test_review_rejects_bad_input(client, world, frozen):
    intervention = open_maths(world, "oak9a_obrien")
    frozen.move_to(LATER)
    obrien = world.pupil("oak9a_obrien")
    client.force_login(world.p.users["teacher"])
    url = reverse("progress:intervention-review", args=[intervention.pk])
    response = client.post(
        url,
        {
            "version": str(intervention.version),
            "reviewed_on": "01/12/2026",
            "outcome": "",
            f"grade_{obrien.pk}": "6++",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["outcome"] == ["This field is required."]
    rows = response.context["rows"]
    assert "Grade '6++' is not on GCSE 9 to 1" in rows[0]["errors"][0]

    response = client.post(
        url,
        {
            "version": str(intervention.version),
            "reviewed_on": "01/12/2026",
            "outcome": "Done.",
            f"grade_{obrien.pk}": "6",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["reviewed_on"] == [
        "Review date 01/12/2026 is before the start date 04/12/2026; "
        "the review must be on or after the start."
    ]
    intervention.refresh_from_db()
    assert intervention.status == Intervention.Status.ACTIVE
    assert intervention.pupil_links.get().review_points is None


def test_review_of_stranger_is_404(client, world, frozen):
    intervention = open_maths(world, "oak9a_obrien")
    frozen.move_to(LATER)
    client.force_login(world.p.users["teacher"])
    url = reverse("progress:intervention-review", args=[intervention.pk])
    other = world.pupil("oak9b_patel")
    response = client.post(
        url,
        {"reviewed_on": "22/01/2027", "outcome": "Done.", f"grade_{other.pk}": "6"},
    )
    assert response.status_code == 404
    intervention.refresh_from_db()
    assert intervention.status == Intervention.Status.ACTIVE


def test_edit_keeps_history(client, world):
    intervention = open_maths(world, "oak9a_obrien")
    client.force_login(world.p.users["teacher"])
    url = reverse("progress:intervention-edit", args=[intervention.pk])
    response = client.post(
        url,
        {
            "version": str(intervention.version),
            "kind": Intervention.Kind.TUTORING,
            "title": "Maths tutoring, twice weekly",
            "owner": str(world.p.staff["teacher"].pk),
            "start_date": "04/12/2026",
            "review_date": "05/02/2027",
            "status": Intervention.Status.ACTIVE,
            "notes": "",
        },
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.review_date == datetime.date(2027, 2, 5)

    change = AuditEvent.objects.filter(
        model="progress.Intervention",
        object_id=str(intervention.pk),
        action=AuditEvent.Action.UPDATE,
    ).get()
    assert change.actor == world.p.users["teacher"]
    assert change.changes["title"] == ["Maths tutoring", "Maths tutoring, twice weekly"]
    assert change.changes["review_date"] == ["2027-01-22", "2027-02-05"]
    body = client.get(reverse("progress:intervention-detail", args=[intervention.pk])).content
    assert "Maths tutoring, twice weekly" in body.decode()
    assert "Review date: 22/01/2027 → 05/02/2027" in body.decode()


def test_edit_stale_version_is_409(client, world):
    intervention = open_maths(world, "oak9a_obrien")
    intervention_update(
        actor=world.p.users["head_of_year"],
        intervention_id=intervention.pk,
        seen_version=intervention.version,
        kind=intervention.kind,
        title="Renamed",
        owner_id=intervention.owner_id,
        start_date=intervention.start_date,
        review_date=intervention.review_date,
        status=intervention.status,
    )
    client.force_login(world.p.users["teacher"])
    response = client.post(
        reverse("progress:intervention-edit", args=[intervention.pk]),
        {
            "version": "1",
            "kind": Intervention.Kind.TUTORING,
            "title": "Mine",
            "owner": str(world.p.staff["teacher"].pk),
            "start_date": "04/12/2026",
            "review_date": "05/02/2027",
            "status": Intervention.Status.ACTIVE,
        },
    )
    assert response.status_code == 409
    intervention.refresh_from_db()
    assert intervention.title == "Renamed"


def test_other_teacher_cannot_edit(client, world):
    intervention = open_maths(world, "oak9a_obrien")
    client.force_login(world.p.users["elm_teacher"])
    assert (
        client.get(reverse("progress:intervention-detail", args=[intervention.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("progress:intervention-edit", args=[intervention.pk])).status_code == 404
    )


# The intervention list and overdue reviews ------------------------------------------------


def test_list_overdue_first(client, world):
    teacher = world.p.staff["teacher"]
    made = {}
    for title, review, status in [
        ("Later review", datetime.date(2027, 1, 10), Intervention.Status.ACTIVE),
        ("Reviewed already", datetime.date(2026, 11, 1), Intervention.Status.REVIEWED),
        ("Sooner review", datetime.date(2026, 12, 20), Intervention.Status.PLANNED),
        ("Overdue review", datetime.date(2026, 11, 30), Intervention.Status.ACTIVE),
    ]:
        made[title] = Intervention.objects.create(
            academy=world.p.academies["oak"],
            academic_year=world.year,
            kind=Intervention.Kind.MENTORING,
            title=title,
            owner=teacher,
            start_date=datetime.date(2026, 10, 1),
            review_date=review,
            status=status,
        )
    client.force_login(world.p.users["teacher"])
    response = client.get(reverse("progress:intervention-list"))
    titles = [row["intervention"].title for row in response.context["rows"]]
    assert titles == ["Overdue review", "Sooner review", "Later review", "Reviewed already"]
    overdue_row = response.content.decode().split(f'id="intervention-{made["Overdue review"].pk}"')[
        1
    ]
    assert "Overdue" in overdue_row.split("</tr>")[0]

    body = client.get(reverse("my-classes")).content.decode()
    assert "Overdue review" in body
    assert "Sooner review" not in body


def test_list_scope(client, world):
    open_maths(world, "oak9a_obrien")
    mine = Intervention.objects.get()
    other: Any = StaffFactory(academy=world.p.academies["oak"])
    Intervention.objects.create(
        academy=world.p.academies["oak"],
        academic_year=world.year,
        kind=Intervention.Kind.MENTORING,
        title="Someone else's",
        owner=other,
        start_date=datetime.date(2026, 10, 1),
        review_date=datetime.date(2027, 1, 1),
    )
    url = reverse("progress:intervention-list")
    client.force_login(world.p.users["teacher"])
    titles = {r["intervention"].title for r in client.get(url).context["rows"]}
    assert titles == {mine.title}
    client.force_login(world.p.users["headteacher"])
    titles = {r["intervention"].title for r in client.get(url).context["rows"]}
    assert titles == {mine.title, "Someone else's"}


# What works -------------------------------------------------------------------------------


def reviewed(world, academy_key: str, kind: str, rows: list[tuple[str, str, str]]) -> None:
    """Make a reviewed intervention with (start, TMG, review) points per pupil."""
    academy = world.p.academies[academy_key]
    owner: Any = StaffFactory(academy=academy)
    intervention = Intervention.objects.create(
        academy=academy,
        academic_year=world.year,
        kind=kind,
        title=f"{kind} at {academy.name}",
        qualification=world.maths,
        owner=owner,
        start_date=datetime.date(2026, 9, 10),
        review_date=datetime.date(2026, 11, 20),
        reviewed_on=datetime.date(2026, 11, 20),
        status=Intervention.Status.REVIEWED,
    )
    for start, tmg, review in rows:
        pupil: Any = PupilFactory()
        InterventionPupil.objects.create(
            intervention=intervention,
            pupil=pupil,
            start_points=Decimal(start),
            tmg_points=Decimal(tmg),
            review_points=Decimal(review),
        )


@pytest.fixture
def impacts(world):
    # Tutoring at Oak: changes 1, 2, 3, 0 and -1, so the median is 1.
    reviewed(
        world,
        "oak",
        Intervention.Kind.TUTORING,
        [("5", "6", "6"), ("4", "6", "6"), ("3", "6", "6"), ("5", "6", "5"), ("6", "6", "5")],
    )
    # Tutoring at Elm: one pupil up 0.33 but still below.
    reviewed(world, "elm", Intervention.Kind.TUTORING, [("5", "6", "5.33")])
    # Mentoring at Oak: two pupils, fewer than five.
    reviewed(world, "oak", Intervention.Kind.MENTORING, [("4", "5", "5"), ("4", "5", "4")])
    return world


def test_what_works_figures(impacts):
    tables = what_works(reviewed_links(), suppress_small=False)
    trust = {i.kind: i for i in tables[None]}
    tutoring = trust[Intervention.Kind.TUTORING]
    assert tutoring.pupils == 6
    assert tutoring.started_below == 5
    assert tutoring.back_on == 3
    assert tutoring.back_on_percent == 60.0
    assert tutoring.median_change == Decimal("0.67")
    oak = {i.kind: i for i in tables[impacts.p.academies["oak"].pk]}
    assert oak[Intervention.Kind.TUTORING].median_change == Decimal("1.00")
    assert oak[Intervention.Kind.TUTORING].back_on == 3
    assert oak[Intervention.Kind.MENTORING].back_on == 1
    assert oak[Intervention.Kind.MENTORING].median_change == Decimal("0.50")


def test_what_works_trustee_sees_trust_only(client, impacts):
    client.force_login(impacts.p.users["trustee"])
    response = client.get(reverse("progress:what-works"))
    assert response.status_code == 200
    assert response.context["academies"] == []
    trust = {i.kind: i for i in response.context["trust_table"]}
    assert not trust[Intervention.Kind.TUTORING].suppressed
    assert trust[Intervention.Kind.MENTORING].suppressed
    body = response.content.decode()
    assert "Fewer than 5 pupils: not shown" in body
    assert "Data behind the chart" in body
    oak = impacts.p.academies["oak"].pk
    assert client.get(reverse("progress:what-works"), {"academy": oak}).status_code == 404


def test_what_works_leader_sees_academy(client, impacts):
    oak = impacts.p.academies["oak"]
    client.force_login(impacts.p.users["headteacher"])
    response = client.get(reverse("progress:what-works"), {"academy": oak.pk})
    assert response.status_code == 200
    assert response.context["chosen"] == oak
    kinds = {i.kind: i for i in response.context["academy_table"]}
    assert kinds[Intervention.Kind.MENTORING].pupils == 2
    assert not kinds[Intervention.Kind.MENTORING].suppressed
    elm = impacts.p.academies["elm"].pk
    assert client.get(reverse("progress:what-works"), {"academy": elm}).status_code == 404
    assert client.get(reverse("progress:what-works"), {"academy": "x"}).status_code == 400


def test_what_works_teacher_sees_trust(client, impacts):
    client.force_login(impacts.p.users["teacher"])
    response = client.get(reverse("progress:what-works"))
    assert response.status_code == 200
    assert response.context["academies"] == []
    trust = {i.kind: i for i in response.context["trust_table"]}
    assert trust[Intervention.Kind.MENTORING].suppressed


def test_what_works_without_role_forbidden(client, impacts):
    client.force_login(impacts.p.users["staff"])
    assert client.get(reverse("progress:what-works")).status_code == 403


def test_links_reach_the_pages(client, world):
    client.force_login(world.p.users["head_of_year"])
    year_page = client.get(reverse("academies:year-group", args=[world.year_group.pk]))
    assert reverse("progress:underperformance", args=[world.year_group.pk]) in (
        year_page.content.decode()
    )
    pupil = world.pupil("oak9a_obrien")
    progress_page = client.get(reverse("progress:pupil-progress", args=[pupil.pk]))
    assert f"{reverse('progress:intervention-new')}?pupil={pupil.pk}" in (
        progress_page.content.decode()
    )
    client.force_login(world.p.users["trustee"])
    academy_page = client.get(reverse("academies:detail", args=[world.p.academies["oak"].pk]))
    assert reverse("progress:what-works") in academy_page.content.decode()


# Pages by GET and shared access ----------------------------------------------------------


def test_pages_open_for_owner(client, world):
    intervention = open_maths(world, "oak9a_obrien")
    client.force_login(world.p.users["teacher"])
    for name in ("intervention-detail", "intervention-edit", "intervention-review"):
        response = client.get(reverse(f"progress:{name}", args=[intervention.pk]))
        assert response.status_code == 200, name
    review = client.get(reverse("progress:intervention-review", args=[intervention.pk]))
    assert "Grade at review for Aoife O&#x27;Brien" in review.content.decode()


def test_new_without_pupils_explains(client, world):
    client.force_login(world.p.users["head_of_year"])
    response = client.get(reverse("progress:intervention-new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "No pupil was chosen." in body
    assert reverse("progress:underperformance", args=[world.year_group.pk]) in body


def test_class_teacher_reads_not_edits(client, world):
    other: Any = StaffFactory(academy=world.p.academies["oak"])
    intervention = intervention_create(
        actor=world.p.users["head_of_year"],
        pupil_ids=[world.pupil("oak9a_obrien").pk, world.pupil("oak9a_smithjones").pk],
        kind=Intervention.Kind.MENTORING,
        title="Mentoring by the head of year",
        qualification_id=None,
        owner_id=other.pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 1, 15),
    )
    client.force_login(world.p.users["teacher"])
    detail = client.get(reverse("progress:intervention-detail", args=[intervention.pk]))
    assert detail.status_code == 200
    shown = [impact.link.pupil_id for impact in detail.context["impacts"]]
    assert shown == [world.pupil("oak9a_obrien").pk]
    assert detail.context["hidden_pupils"] == 1
    edit = client.get(reverse("progress:intervention-edit", args=[intervention.pk]))
    assert edit.status_code == 403


def test_intervention_list_query_count_constant(client, world):
    client.force_login(world.p.users["headteacher"])
    url = reverse("progress:intervention-list")
    open_maths(world, "oak9a_obrien")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for _ in range(4):
        open_maths(world, "oak9a_obrien", "oak9a_smithjones", "oak9b_patel")
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert len(response.context["rows"]) == 5
    assert len(after) == len(before)


def test_head_of_year_sees_only_own_year_pupils(world, client):
    obrien = world.pupil("oak9a_obrien")
    taylor = world.pupil("oak10a_taylor")
    intervention = intervention_create(
        actor=world.p.users["headteacher"],
        pupil_ids=[obrien.pk, taylor.pk],
        kind=Intervention.Kind.MENTORING,
        title="Mentoring across years",
        qualification_id=None,
        owner_id=world.p.staff["headteacher"].pk,
        start_date=datetime.date(2026, 12, 4),
        review_date=datetime.date(2027, 1, 29),
    )
    client.force_login(world.p.users["head_of_year"])

    detail = client.get(f"/progress/interventions/{intervention.pk}/").content.decode()
    review = client.get(f"/progress/interventions/{intervention.pk}/review/").content.decode()

    assert "O&#x27;Brien" in detail
    assert "Taylor" not in detail
    assert "Taylor" not in review

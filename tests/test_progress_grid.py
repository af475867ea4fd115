"""The grade grid: validation, conflicts, final results, scope and query counts."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from progress.models import AssessmentPoint, GradeEntry, TeachingGroup
from progress.services import GradeInput, grades_save
from pupils.models import Enrolment, Pupil
from trust.models import AuditEvent

from .factories import AcademicYearFactory, EnrolmentFactory, UserFactory, YearGroupFactory
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    QualificationFactory,
    SubjectFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

POINT_DAY = datetime.date(2026, 12, 1)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        trust = world.academies["oak"].trust
        maths = QualificationFactory(
            subject=SubjectFactory(trust=trust, name="Mathematics"), name="GCSE Mathematics"
        )
        group = TeachingGroupFactory(
            academy=world.academies["oak"],
            academic_year=world.academic_year,
            year_group=world.year_groups["oak9"],
            qualification=maths,
            name="9Ma1",
            teachers=[world.staff["teacher"]],
        )
        for key in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel"):
            ClassMembershipFactory(group=group, pupil=world.pupils[key])
        world.group = group  # type: ignore[attr-defined]
        world.before = AssessmentPointFactory(  # type: ignore[attr-defined]
            group=group, name="Autumn 1", date=datetime.date(2026, 10, 16)
        )
        world.point = AssessmentPointFactory(  # type: ignore[attr-defined]
            group=group, name="Autumn 2", date=POINT_DAY
        )
        yield world


def grid_url(world, point=None) -> str:
    return f"/progress/classes/{world.group.pk}/grades/{(point or world.point).pk}/"


def scale_of(world):
    return world.group.qualification.scale


def save(world, entries, actor=None, point=None):
    return grades_save(
        actor=actor or world.users["teacher"],
        group=world.group,
        assessment_point=point or world.point,
        entries=entries,
    )


def test_grid_saves_typed_grades(world, client):
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]
    client.force_login(world.users["teacher"])

    response = client.post(
        grid_url(world), {f"grade_{obrien.pk}": "6-", f"grade_{patel.pk}": " 7 "}, follow=True
    )

    assert response.status_code == 200
    assert "2 new grades saved, 0 grades changed, 0 unchanged, 1 left blank." in (
        response.content.decode()
    )
    labels = dict(
        GradeEntry.objects.filter(assessment_point=world.point).values_list(
            "pupil_id", "grade__label"
        )
    )
    assert labels == {obrien.pk: "6-", patel.pk: "7"}


def test_entry_copies_enrolment_on_date(world):
    pupil = world.pupils["oak9a_obrien"]

    save(world, [GradeInput(pupil_id=pupil.pk, text="5")])

    entry = GradeEntry.objects.get(pupil=pupil)
    enrolment = Enrolment.objects.get(pupil=pupil)
    assert entry.academy_id == enrolment.academy_id
    assert entry.academic_year_id == enrolment.academic_year_id
    assert entry.year_group_id == enrolment.year_group_id
    assert entry.qualification_id == world.group.qualification_id
    assert entry.entered_by == world.users["teacher"]
    assert entry.version == 1


def test_invalid_grade_lists_allowed_values(world, client):
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]
    client.force_login(world.users["teacher"])

    response = client.post(grid_url(world), {f"grade_{obrien.pk}": "6++", f"grade_{patel.pk}": "7"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "Grade &#x27;6++&#x27; is not on GCSE 9 to 1; allowed: 9, 9-, 8+" in body
    assert "1 pupil has a grade to fix" in body
    assert 'value="6++"' in body
    assert 'value="7"' in body
    assert 'aria-invalid="true"' in body
    assert not GradeEntry.objects.exists()


def test_service_errors_keyed_by_pupil(world):
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]

    with pytest.raises(ValidationError) as caught:
        save(
            world,
            [GradeInput(pupil_id=obrien.pk, text="10"), GradeInput(pupil_id=patel.pk, text="4")],
        )

    errors = caught.value.message_dict
    assert list(errors) == [f"pupil_{obrien.pk}"]
    assert "Grade '10' is not on GCSE 9 to 1" in errors[f"pupil_{obrien.pk}"][0]
    assert "allowed: 9, 9-" in errors[f"pupil_{obrien.pk}"][0]
    assert not GradeEntry.objects.exists()


def test_final_result_takes_whole_grades(world, client):
    final = AssessmentPointFactory(
        group=world.group, name="Summer results", date=datetime.date(2027, 8, 20), kind="final"
    )
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]
    client.force_login(world.users["teacher"])

    rejected = client.post(
        grid_url(world, final), {f"grade_{obrien.pk}": "6+", f"grade_{patel.pk}": "6"}
    )
    page = client.get(grid_url(world, final)).content.decode()

    body = rejected.content.decode()
    assert rejected.status_code == 400
    assert "a final result must be a whole grade" in body
    assert "allowed: 9, 8, 7, 6, 5, 4, 3, 2, 1, U" in body
    assert not GradeEntry.objects.exists()
    assert "(whole grades only)" in page
    assert "6+" not in page.split('<datalist id="grades">')[1].split("</datalist>")[0]

    save(world, [GradeInput(pupil_id=patel.pk, text="6")], point=final)
    assert GradeEntry.objects.get(pupil=patel).grade.label == "6"


def test_in_year_point_takes_fine_grades(world):
    pupil = world.pupils["oak9a_obrien"]

    save(world, [GradeInput(pupil_id=pupil.pk, text="6+")])

    assert GradeEntry.objects.get(pupil=pupil).grade.label == "6+"


def test_pupil_outside_class_is_404(world, client):
    """A teacher of 9Ma1 gets 404 entering a grade for a pupil outside the class."""
    outsider = world.pupils["oak10a_taylor"]
    insider = world.pupils["oak9a_obrien"]
    client.force_login(world.users["teacher"])

    response = client.post(
        grid_url(world), {f"grade_{insider.pk}": "5", f"grade_{outsider.pk}": "5"}
    )

    assert response.status_code == 404
    assert b"Taylor" not in response.content
    assert not GradeEntry.objects.exists()


def test_service_rejects_non_member(world):
    outsider = world.pupils["oak10a_taylor"]

    with pytest.raises(ValidationError) as caught:
        save(world, [GradeInput(pupil_id=outsider.pk, text="5")])

    assert "is not in class 9Ma1" in caught.value.message_dict[f"pupil_{outsider.pk}"][0]
    assert not GradeEntry.objects.exists()


def test_grid_of_other_class_is_404(world, client):
    client.force_login(world.users["elm_teacher"])

    get = client.get(grid_url(world))
    post = client.post(grid_url(world), {f"grade_{world.pupils['oak9a_obrien'].pk}": "5"})

    assert get.status_code == 404
    assert post.status_code == 404
    assert not GradeEntry.objects.exists()


def test_point_of_other_year_group_is_404(world, client):
    other = AssessmentPointFactory(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak10"],
        name="Year 10 drop",
    )
    client.force_login(world.users["teacher"])

    assert client.get(grid_url(world, other)).status_code == 404


def test_reader_cannot_enter_grades(world, client):
    client.force_login(world.users["attendance_officer"])
    pupil = world.pupils["oak9a_obrien"]

    page = client.get(grid_url(world))
    post = client.post(grid_url(world), {f"grade_{pupil.pk}": "5"})

    assert page.status_code == 200
    assert "Grade for Aoife O&#x27;Brien" not in page.content.decode()
    assert post.status_code == 403
    assert not GradeEntry.objects.exists()


def test_head_of_year_enters_grades(world, client):
    pupil = world.pupils["oak9b_patel"]
    client.force_login(world.users["head_of_year"])

    response = client.post(grid_url(world), {f"grade_{pupil.pk}": "4"})

    assert response.status_code == 302
    assert GradeEntry.objects.get(pupil=pupil).entered_by == world.users["head_of_year"]


def test_blank_keeps_saved_grade(world, client):
    pupil = world.pupils["oak9a_obrien"]
    save(world, [GradeInput(pupil_id=pupil.pk, text="5")])
    client.force_login(world.users["teacher"])

    response = client.post(grid_url(world), {f"grade_{pupil.pk}": "", f"seen_{pupil.pk}": "1"})

    assert response.status_code == 400
    assert "No grades were typed" in response.content.decode()
    assert GradeEntry.objects.get(pupil=pupil).grade.label == "5"


def test_remove_deletes_and_audits(world, client):
    pupil = world.pupils["oak9a_obrien"]
    save(world, [GradeInput(pupil_id=pupil.pk, text="5")])
    client.force_login(world.users["teacher"])

    response = client.post(
        grid_url(world),
        {
            f"grade_{pupil.pk}": "",
            f"seen_{pupil.pk}": "1",
            f"remove_{pupil.pk}": "1",
            "reason": "Entered for the wrong pupil",
        },
        follow=True,
    )

    assert "1 grade removed" in response.content.decode()
    assert not GradeEntry.objects.exists()
    event = AuditEvent.objects.get(model="progress.GradeEntry")
    assert event.action == AuditEvent.Action.DELETE
    assert event.changes == {"grade": ["5", None]}
    assert event.pupil_ref == pupil.pk
    assert event.reason == "Entered for the wrong pupil"
    assert event.actor == world.users["teacher"]


def test_correction_audited_in_bulk(world):
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]
    save(world, [GradeInput(pupil_id=p.pk, text="5") for p in (obrien, patel)])

    result = grades_save(
        actor=world.users["head_of_year"],
        group=world.group,
        assessment_point=world.point,
        entries=[
            GradeInput(pupil_id=obrien.pk, text="6", seen_version=1),
            GradeInput(pupil_id=patel.pk, text="5", seen_version=1),
        ],
        reason="Moderated",
    )

    assert (result.changed, result.unchanged, result.created) == (1, 1, 0)
    entry = GradeEntry.objects.get(pupil=obrien)
    assert entry.grade.label == "6"
    assert entry.version == 2
    assert entry.changed_by == world.users["head_of_year"]
    event = AuditEvent.objects.get(model="progress.GradeEntry")
    assert event.changes == {"grade": ["5", "6"]}
    assert event.reason == "Moderated"


def test_conflict_not_overwritten(world, client):
    pupil = world.pupils["oak9a_obrien"]
    save(world, [GradeInput(pupil_id=pupil.pk, text="5")], actor=world.users["head_of_year"])
    # Someone else corrects the grade after the teacher opened the grid at version 1.
    save(
        world,
        [GradeInput(pupil_id=pupil.pk, text="6", seen_version=1)],
        actor=world.users["head_of_year"],
    )
    client.force_login(world.users["teacher"])

    response = client.post(grid_url(world), {f"grade_{pupil.pk}": "4", f"seen_{pupil.pk}": "1"})

    body = response.content.decode()
    assert response.status_code == 409
    assert "Grades changed by someone else since you opened the grid" in body
    assert "you entered 4" in body
    entry = GradeEntry.objects.get(pupil=pupil)
    assert entry.grade.label == "6"
    assert entry.version == 2

    resolved = client.post(
        grid_url(world),
        {
            "resolve": "1",
            f"grade_{pupil.pk}": "4",
            f"seen_{pupil.pk}": "2",
            f"choice_{pupil.pk}": "mine",
        },
    )

    assert resolved.status_code == 302
    entry.refresh_from_db()
    assert entry.grade.label == "4"
    assert entry.version == 3
    assert AuditEvent.objects.filter(model="progress.GradeEntry").count() == 2


def test_conflict_keep_theirs_writes_nothing(world, client):
    pupil = world.pupils["oak9a_obrien"]
    save(world, [GradeInput(pupil_id=pupil.pk, text="6")], actor=world.users["head_of_year"])
    client.force_login(world.users["teacher"])

    response = client.post(
        grid_url(world),
        {
            "resolve": "1",
            f"grade_{pupil.pk}": "4",
            f"seen_{pupil.pk}": "1",
            f"choice_{pupil.pk}": "theirs",
        },
        follow=True,
    )

    assert "Their grades were kept" in response.content.decode()
    assert GradeEntry.objects.get(pupil=pupil).grade.label == "6"


def test_new_entry_by_other_is_conflict(world):
    pupil = world.pupils["oak9a_obrien"]
    save(world, [GradeInput(pupil_id=pupil.pk, text="6")], actor=world.users["head_of_year"])

    result = save(world, [GradeInput(pupil_id=pupil.pk, text="3", seen_version=None)])

    assert len(result.conflicts) == 1
    assert result.conflicts[0].current == "6"
    assert result.conflicts[0].submitted == "3"
    assert GradeEntry.objects.get(pupil=pupil).grade.label == "6"


def test_pupil_not_on_roll_on_date(world):
    joiner = EnrolmentFactory(
        tutor_group=world.tutor_groups["9A"], start_date=datetime.date(2026, 12, 2)
    ).pupil
    ClassMembershipFactory(group=world.group, pupil=joiner, start_date=datetime.date(2026, 12, 2))

    with pytest.raises(ValidationError) as caught:
        save(world, [GradeInput(pupil_id=joiner.pk, text="5")])

    assert "not on roll on 01/12/2026" in caught.value.message_dict[f"pupil_{joiner.pk}"][0]


def test_point_of_other_class_rejected(world):
    other = AssessmentPoint.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak10"],
        name="Year 10 drop",
        date=POINT_DAY,
        kind="working_at",
    )

    with pytest.raises(ValidationError) as caught:
        save(world, [GradeInput(pupil_id=world.pupils["oak9a_obrien"].pk, text="5")], point=other)

    assert "assessment_point" in caught.value.message_dict


def test_grid_shows_previous_status_and_change(world, client):
    pupil = world.pupils["oak9a_obrien"]
    scale = scale_of(world)
    TargetGradeFactory(
        pupil=pupil,
        qualification=world.group.qualification,
        academic_year=world.academic_year,
        grade=grade_of(scale, "6"),
    )
    GradeEntryFactory(
        pupil=pupil,
        assessment_point=world.before,
        qualification=world.group.qualification,
        grade=grade_of(scale, "7"),
    )
    save(world, [GradeInput(pupil_id=pupil.pk, text="6-")])
    client.force_login(world.users["teacher"])

    body = client.get(grid_url(world)).content.decode()

    row = body[body.index(f'id="row-{pupil.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Above TMG" in row
    assert "Below TMG" in row
    assert "down 1.33 grades" in row
    assert 'value="6-"' in row
    assert "No TMG" in body


def add_pupils(world, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        enrolment = EnrolmentFactory(tutor_group=world.tutor_groups["9B"])
        ClassMembershipFactory(group=world.group, pupil=enrolment.pupil)
        ids.append(enrolment.pupil_id)
    return ids


def test_save_queries_constant(world):
    members = [world.pupils[k].pk for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")]
    small = members + add_pupils(world, 2)
    large = add_pupils(world, 25) + small
    assert len(small) == 5
    assert len(large) == 30
    actor = UserFactory()

    def count(ids, text, seen):
        # A fresh class object, as each request has, so the scale's grades are read each time.
        group = TeachingGroup.objects.select_related("qualification__scale").get(pk=world.group.pk)
        with CaptureQueriesContext(connection) as queries:
            grades_save(
                actor=actor,
                group=group,
                assessment_point=world.point,
                entries=[GradeInput(pupil_id=i, text=text, seen_version=seen) for i in ids],
            )
        return len(queries)

    create_small = count(small, "5", None)
    correct_small = count(small, "6", 1)
    GradeEntry.objects.all().delete()
    create_large = count(large, "5", None)
    correct_large = count(large, "6", 1)

    assert create_small == create_large
    assert correct_small == correct_large
    assert AuditEvent.objects.filter(model="progress.GradeEntry").count() == 35


def test_grid_pages_queries_constant(world, client):
    client.force_login(world.users["teacher"])
    small = [world.pupils[k].pk for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")]
    small += add_pupils(world, 2)
    client.get(grid_url(world))

    def post_queries(ids):
        data = {f"grade_{i}": "5" for i in ids}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(grid_url(world), data)
        assert response.status_code == 302
        return len(queries)

    def get_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(grid_url(world))
        assert response.status_code == 200
        return len(queries)

    post_small = post_queries(small)
    get_small = get_queries()
    GradeEntry.objects.all().delete()
    large = small + add_pupils(world, 25)
    post_large = post_queries(large)
    get_large = get_queries()

    assert len(large) == 30
    assert post_small == post_large
    assert get_small == get_large


def test_simultaneous_first_save_rejected(world, monkeypatch):
    pupil = world.pupils["oak9a_obrien"]

    def clash(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint grade_entry_once")

    monkeypatch.setattr(GradeEntry.objects, "bulk_create", clash)
    with pytest.raises(ValidationError) as caught:
        save(world, [GradeInput(pupil_id=pupil.pk, text="5")])

    assert "Someone else saved grades" in caught.value.message_dict["grid"][0]


LAST_SUMMER = datetime.date(2026, 7, 10)


def last_summer(world):
    """Return the Year 8 Summer point of 2025/26, the year before the class's."""
    oak = world.academies["oak"]
    return AssessmentPointFactory(
        academy=oak,
        academic_year=AcademicYearFactory(trust=oak.trust, start_year=2025),
        year_group=YearGroupFactory(academy=oak, nc_year=8),
        name="Summer",
        date=LAST_SUMMER,
    )


def give(world, pupil, point, label):
    return GradeEntryFactory(
        pupil=pupil,
        assessment_point=point,
        qualification=world.group.qualification,
        grade=grade_of(scale_of(world), label),
    )


def set_tmg(world, pupil, academic_year, label):
    return TargetGradeFactory(
        pupil=pupil,
        qualification=world.group.qualification,
        academic_year=academic_year,
        grade=grade_of(scale_of(world), label),
    )


def row_of(body: str, pupil) -> str:
    row = body[body.index(f'id="row-{pupil.pk}"') :]
    return row[: row.index("</tr>")]


def heading_of(body: str) -> str:
    head = body[body.index("<thead>") :]
    return head[: head.index("</thead>")]


def test_first_point_compares_last_year(world, client):
    summer = last_summer(world)
    obrien, patel = world.pupils["oak9a_obrien"], world.pupils["oak9b_patel"]
    set_tmg(world, obrien, summer.academic_year, "5")
    set_tmg(world, obrien, world.academic_year, "7")
    give(world, obrien, summer, "5")
    give(world, obrien, world.before, "8")
    give(world, obrien, world.point, "4")
    client.force_login(world.users["teacher"])

    body = client.get(grid_url(world, world.before)).content.decode()

    assert "Grade at Summer (10/07/2026)" in heading_of(body)
    assert "(10/07/2026, Year 8 in 2025/26)" in body
    row = row_of(body, obrien)
    # Status then uses the 2025/26 TMG of 5, so the Summer 5 is on it, not well below 7.
    assert "On TMG" in row
    assert "Well below TMG" not in row
    assert "Above TMG" in row
    assert "up 3 grades" in row
    patel_row = row_of(body, patel)
    assert "No grade" in patel_row
    assert "no comparison" in patel_row


def test_grid_skips_missing_point_to_last_year(world, client):
    summer = last_summer(world)
    obrien, smithjones = world.pupils["oak9a_obrien"], world.pupils["oak9a_smithjones"]
    give(world, obrien, world.before, "6")
    give(world, smithjones, summer, "4")
    give(world, smithjones, world.point, "5")
    client.force_login(world.users["teacher"])

    body = client.get(grid_url(world)).content.decode()

    heading = heading_of(body)
    assert "Previous grade" in heading
    assert "Grade at Autumn 1" not in heading
    assert "at Autumn 1 (16/10/2026)" in row_of(body, obrien)
    smithjones_row = row_of(body, smithjones)
    assert "at Summer (10/07/2026)" in smithjones_row
    assert "up 1 grade" in smithjones_row


def test_grid_ignores_later_points(world, client):
    obrien = world.pupils["oak9a_obrien"]
    give(world, obrien, world.point, "6")
    client.force_login(world.users["teacher"])

    body = client.get(grid_url(world, world.before)).content.decode()

    assert "Previous grade" in heading_of(body)
    assert "no earlier grade to compare" in body
    assert "No grade" in row_of(body, obrien)


def test_class_page_change_across_years(world, client):
    summer = last_summer(world)
    obrien = world.pupils["oak9a_obrien"]
    give(world, obrien, summer, "5")
    give(world, obrien, world.before, "6")
    client.force_login(world.users["teacher"])

    with time_machine.travel(TODAY, tick=False):
        body = client.get(f"/progress/classes/{world.group.pk}/").content.decode()

    row = body[body.index(f'id="pupil-{obrien.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Autumn 1 (16/10/2026)" in row
    assert "up 1 grade" in row


def test_grid_cross_year_queries_constant(world, client):
    summer = last_summer(world)
    client.force_login(world.users["teacher"])

    def grade_all(ids):
        for pupil_id in ids:
            pupil = Pupil.objects.get(pk=pupil_id)
            set_tmg(world, pupil, summer.academic_year, "5")
            set_tmg(world, pupil, world.academic_year, "6")
            give(world, pupil, summer, "5")
            give(world, pupil, world.before, "6")

    def get_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(grid_url(world, world.before))
        assert response.status_code == 200
        assert "Grade at Summer (10/07/2026)" in heading_of(response.content.decode())
        return len(queries)

    small = [world.pupils[k].pk for k in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel")]
    grade_all(small)
    client.get(grid_url(world, world.before))
    get_small = get_queries()
    large = add_pupils(world, 25)
    grade_all(large)
    get_large = get_queries()

    assert get_small == get_large

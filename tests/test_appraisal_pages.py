"""The appraisal pages: my appraisal, my appraisees, one appraisal, and the
forms that set objectives, sign, review and annotate, for each persona."""

import datetime
import html
import re

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse

from appraisal.measures import measure_values
from appraisal.models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    DevelopmentNeed,
    Measure,
    MeasureScope,
    Objective,
    ObjectiveReview,
    PortfolioEntry,
    Signature,
    Standard,
)

from .factories import AcademicYearFactory, StaffFactory
from .factories_appraisal import cycle_2026, make_appraisal, make_objective, sign
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

Status = Appraisal.Status


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    world.cycle = cycle_2026(world)  # type: ignore[attr-defined]
    return world


def appraisal_of(world, status=Status.DRAFT, **kwargs) -> Appraisal:
    """The teacher's appraisal, with the academy leader as appraiser."""
    return make_appraisal(
        world.cycle, world.staff["teacher"], world.staff["academy_leader"], status=status, **kwargs
    )


def get(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


def post(client, user, name, *args, **data):
    client.force_login(user)
    return client.post(reverse(name, args=args), data)


def text(response) -> str:
    return response.content.decode()


def visible_text(response) -> str:
    """The page's text with tags removed and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text(response))).split())


def class_with_grades(world):
    """Give the teacher a Year 9 maths class with TMG 6 for three pupils
    graded 7, 6 and 5 at the latest point: two of three on or above."""
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
    point = AssessmentPointFactory(group=group, name="Autumn 2", date=datetime.date(2026, 12, 1))
    for key, label in (("oak9a_obrien", "7"), ("oak9b_patel", "6"), ("oak9a_smithjones", "5")):
        pupil = world.pupils[key]
        ClassMembershipFactory(group=group, pupil=pupil)
        TargetGradeFactory(
            pupil=pupil,
            qualification=maths,
            academic_year=world.academic_year,
            grade=grade_of(maths.scale, "6"),
        )
        GradeEntryFactory(
            pupil=pupil,
            assessment_point=point,
            qualification=maths,
            grade=grade_of(maths.scale, label),
        )
    return group


def objective_data(**overrides) -> dict:
    data = {
        "title": "Lead the Year 9 reading programme",
        "success_criteria": "Every Year 9 pupil reads two books a term.",
        "weighting": "40",
        "support": "Two twilight sessions with the literacy lead.",
        "measure": "",
        "measure_scope": "",
        "target_value": "",
    }
    data.update(overrides)
    return data


# My appraisal ---------------------------------------------------------------------------------


def test_my_appraisal_none_names_manager(client, world):
    teacher = world.staff["teacher"]
    teacher.line_manager = world.staff["academy_leader"]
    teacher.save()
    response = get(client, world.users["teacher"], "my-appraisal")
    body = visible_text(response)
    assert response.status_code == 200
    assert "You have no appraisal for 2026/27 yet." in body
    assert "Your line manager, AcademyLeader Persona, usually appraises you" in body


def test_my_appraisal_without_cycle(client, world):
    AppraisalCycle.objects.all().delete()
    body = visible_text(get(client, world.users["teacher"], "my-appraisal"))
    assert "No appraisal cycle covers today (04/12/2026)" in body


def test_my_appraisal_shows_current_cycle(client, world):
    appraisal = appraisal_of(world)
    reading = appraisal.objectives.get(weighting=40)
    reading.support = "Release time on Fridays."
    reading.save()
    reading.standards.set(Standard.objects.filter(code="TS3"))
    response = get(client, world.users["teacher"], "my-appraisal")
    body = visible_text(response)
    assert response.status_code == 200
    assert "Status Draft" in body
    assert "Appraiser AcademyLeader Persona" in body
    # The trust's default deadline for staff objectives is 31 October.
    assert "Next deadline Objectives agreed by 31/10/2026 Overdue" in body
    assert "Lead the Year 9 reading programme" in body
    assert "Weighting 40%" in body
    assert "Release time on Fridays." in body
    assert "Standards TS3 Demonstrate good subject and curriculum knowledge" in body
    assert "Outcome not yet reviewed" in body
    assert reverse("appraisal:objectives-sign", args=[appraisal.pk]) in text(response)


def test_my_appraisal_linked_value(client, world):
    class_with_grades(world)
    appraisal = appraisal_of(world, objectives=[])
    objective = make_objective(
        appraisal,
        "Raise maths attainment",
        100,
        measure=Measure.TMG_LATEST,
        measure_scope=MeasureScope.OWN_CLASSES,
        target_value=80,
    )
    expected = measure_values([objective], TODAY.date())[objective.pk]
    assert expected.value == 66.7
    body = text(get(client, world.users["teacher"], "my-appraisal"))
    assert f'id="value-{objective.pk}">{expected.display}</span>' in body
    assert f'id="target-{objective.pk}">80.0%' in body
    assert "Below target" in body


def test_my_appraisal_lists_earlier_cycles(client, world):
    last_year = AcademicYearFactory(trust=world.academies["oak"].trust, start_year=2025)
    old_cycle = AppraisalCycle.objects.create(academic_year=last_year)
    old = make_appraisal(
        old_cycle, world.staff["teacher"], world.staff["academy_leader"], status=Status.SIGNED_OFF
    )
    next_year = AcademicYearFactory(trust=world.academies["oak"].trust, start_year=2027)
    future = make_appraisal(
        AppraisalCycle.objects.create(academic_year=next_year),
        world.staff["teacher"],
        world.staff["academy_leader"],
    )
    appraisal_of(world)
    body = text(get(client, world.users["teacher"], "my-appraisal"))
    assert f'href="{reverse("appraisal:detail", args=[old.pk])}">2025/26</a>: Signed off' in body
    assert reverse("appraisal:detail", args=[future.pk]) not in body


def test_my_appraisal_portfolio_panel(client, world):
    teacher = world.staff["teacher"]
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    answered = DevelopmentNeed.objects.create(appraisal=appraisal, description="Questioning")
    DevelopmentNeed.objects.create(appraisal=appraisal, description="Behaviour for learning")
    DevelopmentNeed.objects.create(appraisal=appraisal, description="Dismissed", dismissed=True)
    PortfolioEntry.objects.create(
        staff=teacher,
        kind="course",
        title="Questioning in maths",
        started_on=datetime.date(2026, 11, 2),
        hours=3,
        development_need=answered,
    )
    PortfolioEntry.objects.create(
        staff=world.staff["tutor"],
        kind="course",
        title="Someone else's course",
        started_on=datetime.date(2026, 11, 2),
    )
    body = visible_text(get(client, world.users["teacher"], "my-appraisal"))
    assert "1 suggested entry from development needs" in body
    assert "Questioning in maths Course 02/11/2026 3.0" in body
    assert "Someone else's course" not in body


def test_my_appraisal_without_staff_record(client, django_user_model):
    user = django_user_model.objects.create_user("lonely", password="x")
    client.force_login(user)
    response = client.get(reverse("my-appraisal"))
    assert response.status_code == 200
    assert "No staff record is linked to your login" in text(response)


def test_my_appraisal_query_count(client, world, django_assert_max_num_queries):
    class_with_grades(world)
    appraisal = appraisal_of(world, objectives=[("One", 50), ("Two", 50)])
    client.force_login(world.users["teacher"])
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("my-appraisal")).status_code == 200
    for number in range(6):
        make_objective(appraisal, f"Extra {number}", 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("my-appraisal")).status_code == 200


# My appraisees ----------------------------------------------------------------------------


def test_appraisees_lists_appraiser_rows(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    response = get(client, world.users["academy_leader"], "appraisal:appraisees")
    body = visible_text(response)
    assert response.status_code == 200
    assert "Teacher Persona Objectives agreed Mid-year review by 31/03/2027" in body
    assert "2, 100% weighted not yet reviewed" in body
    assert f"appraisal-{appraisal.pk}" in text(response)
    assert 'name="status"' not in text(response)


def test_appraisees_headteacher_filters_status(client, world):
    appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    make_appraisal(world.cycle, world.staff["tutor"], world.staff["head_of_year"])
    make_appraisal(world.cycle, world.staff["elm_teacher"], None)
    response = get(client, world.users["headteacher"], "appraisal:appraisees")
    body = visible_text(response)
    assert "Teacher Persona" in body
    assert "Tutor Persona" in body
    assert "ElmTeacher" not in body
    assert 'name="status"' in text(response)
    filtered = visible_text(
        get(client, world.users["headteacher"], "appraisal:appraisees", status="draft")
    )
    assert "Tutor Persona" in filtered
    assert "Teacher Persona" not in filtered


def test_appraisees_overdue_flag(client, world):
    appraisal_of(world)
    body = visible_text(get(client, world.users["academy_leader"], "appraisal:appraisees"))
    assert "1 of 1 appraisal is past a deadline." in body
    assert "Objectives agreed by 31/10/2026 Overdue" in body


def test_appraisees_invalid_status_is_400(client, world):
    response = get(client, world.users["headteacher"], "appraisal:appraisees", status="done")
    assert response.status_code == 400
    assert "The filter “status” has the value “done”" in text(response)


def test_appraisees_unknown_academy_is_404(client, world):
    appraisal_of(world)
    elm = world.academies["elm"].pk
    response = get(client, world.users["headteacher"], "appraisal:appraisees", academy=str(elm))
    assert response.status_code == 404


def test_appraisees_empty_for_teacher(client, world):
    appraisal_of(world)
    body = visible_text(get(client, world.users["teacher"], "appraisal:appraisees"))
    assert "You appraise no one in this cycle." in body


def test_appraisees_trust_hr_sees_every_academy(client, world):
    appraisal_of(world)
    make_appraisal(world.cycle, world.staff["elm_teacher"], None)
    body = visible_text(get(client, world.users["trust_hr"], "appraisal:appraisees"))
    assert "Teacher Persona" in body
    assert "ElmTeacher Persona" in body


def test_appraisees_query_count_bounded(client, world, django_assert_max_num_queries):
    leader = world.staff["academy_leader"]
    oak = world.academies["oak"]

    def add(count):
        for _ in range(count):
            make_appraisal(world.cycle, StaffFactory(academy=oak), leader)

    add(2)
    client.force_login(world.users["headteacher"])
    with django_assert_max_num_queries(20) as few:
        assert client.get(reverse("appraisal:appraisees")).status_code == 200
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("appraisal:appraisees"))
    assert "10 appraisals" in text(response)


# One appraisal: who may read it ------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status_code"),
    [
        ("teacher", 200),
        ("academy_leader", 200),
        ("headteacher", 200),
        ("trust_hr", 200),
        ("tutor", 404),
        ("elm_teacher", 404),
        ("trustee", 404),
        ("trust_leader", 404),
    ],
)
def test_detail_access(client, world, persona, status_code):
    appraisal = appraisal_of(world)
    response = get(client, world.users[persona], "appraisal:detail", appraisal.pk)
    assert response.status_code == status_code
    if status_code == 404:
        assert "Teacher Persona" not in text(response)


def test_detail_shows_steps_and_disagreement(client, world):
    appraisal = appraisal_of(world, status=Status.FINAL_REVIEWED, outcomes=["met", "not_met"])
    sign(
        appraisal,
        Signature.Document.FINAL_REVIEW,
        Signature.Party.APPRAISEE,
        agrees=False,
        comment="The reading data came late.",
    )
    body = visible_text(get(client, world.users["headteacher"], "appraisal:detail", appraisal.pk))
    assert "Objectives agreed 04/12/2026 10:00 AcademyLeader Persona" in body
    assert "Signed off Not yet" in body
    assert "Final review Appraisee Teacher Persona 04/12/2026 10:00 Disagrees" in body
    assert "The reading data came late." in body
    assert "Outcome Not met" in body
    assert "1 of 2 met" in body
    assert "Recorded by the appraiser as text under the trust's pay policy" in body


def test_detail_hides_pay_recommendation_when_unused(client, world):
    world.cycle.uses_pay_recommendation = False
    world.cycle.save()
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    body = text(get(client, world.users["teacher"], "appraisal:detail", appraisal.pk))
    assert "Pay recommendation" not in body


def test_detail_signed_off_links_record_pdf(client, world):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    body = text(get(client, world.users["teacher"], "appraisal:detail", appraisal.pk))
    assert reverse("appraisal:annotate", args=[appraisal.pk]) in body
    try:
        pdf_url = reverse("appraisal:record-pdf", args=[appraisal.pk])
    except NoReverseMatch:
        pytest.skip("the record PDF view is not routed in this checkout")
    assert pdf_url in body


def test_detail_draft_shows_previous_needs(client, world):
    last_year = AcademicYearFactory(trust=world.academies["oak"].trust, start_year=2025)
    old = make_appraisal(
        AppraisalCycle.objects.create(academic_year=last_year),
        world.staff["teacher"],
        world.staff["academy_leader"],
        status=Status.SIGNED_OFF,
    )
    DevelopmentNeed.objects.create(appraisal=old, description="Adaptive teaching in Year 7")
    appraisal = appraisal_of(world)
    body = visible_text(
        get(client, world.users["academy_leader"], "appraisal:detail", appraisal.pk)
    )
    assert "Development needs from 2025/26" in body
    assert "Adaptive teaching in Year 7" in body


def test_detail_query_count(client, world, django_assert_max_num_queries):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    client.force_login(world.users["headteacher"])
    url = reverse("appraisal:detail", args=[appraisal.pk])
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    for number in range(5):
        objective = make_objective(appraisal, f"Extra {number}", 1)
        ObjectiveReview.objects.create(objective=objective, kind="final", outcome="met")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# Objectives ----------------------------------------------------------------------------------


def test_objective_add_saves(client, world):
    appraisal = appraisal_of(world, objectives=[("Feedback", 60)])
    standard = Standard.objects.filter(standard_set=appraisal.standard_set).first()
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(standards=[str(standard.pk)]),
    )
    assert response.status_code == 302
    objective = appraisal.objectives.get(title="Lead the Year 9 reading programme")
    assert objective.weighting == 40
    assert list(objective.standards.all()) == [standard]
    assert objective.support == "Two twilight sessions with the literacy lead."


def test_objective_form_shows_total(client, world):
    appraisal = appraisal_of(world, objectives=[("Feedback", 60), ("Reading", 30)])
    body = text(get(client, world.users["academy_leader"], "appraisal:objective-add", appraisal.pk))
    assert "Total 90% of 100%" in body
    assert "Teachers&#x27; Standards" in body or "Teachers' Standards" in body
    assert 'name="measure_tutor_group"' in body


def test_objective_add_bad_weighting_is_400(client, world):
    appraisal = appraisal_of(world, objectives=[])
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(weighting="forty"),
    )
    body = visible_text(response)
    assert response.status_code == 400
    assert "Weighting 'forty' is not a whole number; enter a whole number from 1 to 100." in body
    assert "The form was not saved" in body
    assert 'value="Lead the Year 9 reading programme"' in text(response)
    assert not appraisal.objectives.exists()


def test_objective_add_missing_title_is_400(client, world):
    appraisal = appraisal_of(world, objectives=[])
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(title="  "),
    )
    assert response.status_code == 400
    assert "The objective&#x27;s title is missing; enter some text." in text(response)
    assert 'href="#id_title"' in text(response)


def test_objective_add_measure_without_scope_is_400(client, world):
    appraisal = appraisal_of(world, objectives=[])
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(measure=Measure.ATTENDANCE, target_value="96"),
    )
    assert response.status_code == 400
    assert "Scope is missing for attendance rate" in text(response)
    assert not appraisal.objectives.exists()


def test_objective_add_by_appraisee_is_403(client, world):
    appraisal = appraisal_of(world, objectives=[])
    response = post(
        client, world.users["teacher"], "appraisal:objective-add", appraisal.pk, **objective_data()
    )
    assert response.status_code == 403
    assert not appraisal.objectives.exists()


def test_objective_add_after_agreement_is_400(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(),
    )
    assert response.status_code == 400
    assert "Changing objectives is possible only while the appraisal is" in text(response)
    assert appraisal.objectives.count() == 2


def test_objective_add_for_unseen_appraisal_is_404(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client, world.users["tutor"], "appraisal:objective-add", appraisal.pk, **objective_data()
    )
    assert response.status_code == 404


def test_objective_edit_prefills_and_saves(client, world):
    appraisal = appraisal_of(world)
    objective = appraisal.objectives.get(weighting=40)
    page = text(
        get(client, world.users["academy_leader"], "appraisal:objective-edit", objective.pk)
    )
    assert 'value="Lead the Year 9 reading programme"' in page
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-edit",
        objective.pk,
        **objective_data(title="Lead whole-school reading", weighting="40"),
    )
    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.title == "Lead whole-school reading"


def test_objective_delete(client, world):
    appraisal = appraisal_of(world)
    objective = appraisal.objectives.get(weighting=40)
    confirm = get(client, world.users["academy_leader"], "appraisal:objective-delete", objective.pk)
    assert "Delete the objective" in text(confirm)
    response = post(
        client, world.users["academy_leader"], "appraisal:objective-delete", objective.pk
    )
    assert response.status_code == 302
    assert not Objective.objects.filter(pk=objective.pk).exists()


# Signing -------------------------------------------------------------------------------------


def test_objectives_signed_by_both_are_agreed(client, world):
    appraisal = appraisal_of(world)
    first = post(client, world.users["academy_leader"], "appraisal:objectives-sign", appraisal.pk)
    assert first.status_code == 302
    second = post(
        client, world.users["teacher"], "appraisal:objectives-sign", appraisal.pk, agrees="yes"
    )
    assert second.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.status == Status.OBJECTIVES_AGREED
    assert appraisal.objectives_agreed_by == world.staff["teacher"]
    body = visible_text(get(client, world.users["teacher"], "my-appraisal"))
    assert "Status Objectives agreed" in body


def test_sign_disagree_without_comment_is_400(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client, world.users["teacher"], "appraisal:objectives-sign", appraisal.pk, agrees="no"
    )
    assert response.status_code == 400
    assert "A comment is required when you sign without agreeing" in text(response)
    assert not Signature.objects.filter(appraisal=appraisal).exists()


def test_sign_disagree_keeps_comment(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client,
        world.users["teacher"],
        "appraisal:objectives-sign",
        appraisal.pk,
        agrees="no",
        comment="The weighting of reading is too high.",
    )
    assert response.status_code == 302
    signature = Signature.objects.get(appraisal=appraisal)
    assert signature.agrees is False
    assert signature.comment == "The weighting of reading is too high."


def test_sign_with_bad_total_is_400(client, world):
    appraisal = appraisal_of(world, objectives=[("Feedback", 60), ("Reading", 30)])
    response = post(
        client, world.users["academy_leader"], "appraisal:objectives-sign", appraisal.pk
    )
    assert response.status_code == 400
    assert "Weightings total 90%; they must total exactly 100%" in text(response)


def test_appraiser_sign_form_has_no_disagree(client, world):
    appraisal = appraisal_of(world)
    body = text(
        get(client, world.users["academy_leader"], "appraisal:objectives-sign", appraisal.pk)
    )
    assert "I disagree" not in body
    assert "I disagree" in text(
        get(client, world.users["teacher"], "appraisal:objectives-sign", appraisal.pk)
    )


def test_sign_by_headteacher_is_403(client, world):
    appraisal = appraisal_of(world)
    response = post(client, world.users["headteacher"], "appraisal:objectives-sign", appraisal.pk)
    assert response.status_code == 403


# Reviews and the rest of the cycle -----------------------------------------------------------


def test_appraisee_writes_mid_year_review(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    objective = appraisal.objectives.first()
    form = text(get(client, world.users["teacher"], "appraisal:review", objective.pk, "mid_year"))
    assert 'name="self_review"' in form
    assert 'name="outcome"' not in form
    response = post(
        client,
        world.users["teacher"],
        "appraisal:review",
        objective.pk,
        "mid_year",
        evidence="Reading logs",
        self_review="On track",
    )
    assert response.status_code == 302
    review = ObjectiveReview.objects.get(objective=objective, kind="mid_year")
    assert review.evidence == "Reading logs"
    assert review.self_review == "On track"


def test_review_before_agreement_is_400(client, world):
    appraisal = appraisal_of(world)
    objective = appraisal.objectives.first()
    response = post(
        client,
        world.users["teacher"],
        "appraisal:review",
        objective.pk,
        "mid_year",
        evidence="Too early",
    )
    assert response.status_code == 400
    assert "Reviews start once the appraisee and the appraiser have both signed" in text(response)
    assert not ObjectiveReview.objects.exists()


def test_review_unknown_kind_is_404(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    objective = appraisal.objectives.first()
    response = get(client, world.users["teacher"], "appraisal:review", objective.pk, "annual")
    assert response.status_code == 404


def test_appraiser_records_final_outcome(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    objective = appraisal.objectives.first()
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:review",
        objective.pk,
        "final",
        appraiser_comment="Well done",
        outcome="partly_met",
    )
    assert response.status_code == 302
    review = ObjectiveReview.objects.get(objective=objective, kind="final")
    assert review.outcome == "partly_met"
    assert review.appraiser_comment == "Well done"


def test_mid_year_complete(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    response = post(
        client, world.users["academy_leader"], "appraisal:mid-year", appraisal.pk, comment="Fine"
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.status == Status.MID_YEAR_REVIEWED
    assert appraisal.mid_year_comment == "Fine"


def test_final_review_needs_one_per_line(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    for objective in appraisal.objectives.all():
        ObjectiveReview.objects.filter(objective=objective, kind="final").delete()
        ObjectiveReview.objects.create(objective=objective, kind="final", outcome="met")
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:final-review",
        appraisal.pk,
        summary="A strong year.",
        pay_recommendation="Progress to the next point.",
        development_needs="Questioning\n\n  Adaptive teaching  \n",
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.status == Status.FINAL_REVIEWED
    assert appraisal.pay_recommendation == "Progress to the next point."
    assert list(appraisal.development_needs.values_list("description", flat=True)) == [
        "Questioning",
        "Adaptive teaching",
    ]


def test_final_review_without_outcomes_is_400(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:final-review",
        appraisal.pk,
        summary="A strong year.",
        development_needs="Questioning",
    )
    assert response.status_code == 400
    assert "These objectives have no final outcome" in text(response)
    appraisal.refresh_from_db()
    assert appraisal.status == Status.MID_YEAR_REVIEWED
    assert not appraisal.development_needs.exists()


def test_final_review_long_need_shown_on_field(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    for objective in appraisal.objectives.all():
        ObjectiveReview.objects.create(objective=objective, kind="final", outcome="met")
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:final-review",
        appraisal.pk,
        summary="A strong year.",
        development_needs="Short\n" + "x" * 301,
    )
    assert response.status_code == 400
    assert 'href="#id_development_needs">Development needs: Development need 2 is 301' in text(
        response
    )


def test_final_review_form_without_pay_field(client, world):
    world.cycle.uses_pay_recommendation = False
    world.cycle.save()
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    body = text(get(client, world.users["academy_leader"], "appraisal:final-review", appraisal.pk))
    assert 'name="summary"' in body
    assert 'name="pay_recommendation"' not in body


def test_final_sign_by_both_signs_off(client, world):
    appraisal = appraisal_of(world, status=Status.FINAL_REVIEWED)
    post(client, world.users["teacher"], "appraisal:final-sign", appraisal.pk, agrees="yes")
    post(client, world.users["academy_leader"], "appraisal:final-sign", appraisal.pk)
    appraisal.refresh_from_db()
    assert appraisal.status == Status.SIGNED_OFF


# Appraiser and notes -------------------------------------------------------------------------


def test_headteacher_changes_appraiser(client, world):
    appraisal = appraisal_of(world)
    form = text(get(client, world.users["headteacher"], "appraisal:appraiser", appraisal.pk))
    assert "HeadOfYear Persona" in form
    assert "ElmTeacher" not in form
    response = post(
        client,
        world.users["headteacher"],
        "appraisal:appraiser",
        appraisal.pk,
        appraiser=str(world.staff["head_of_year"].pk),
    )
    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff["head_of_year"]


def test_appraiser_change_by_appraiser_is_403(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:appraiser",
        appraisal.pk,
        appraiser=str(world.staff["head_of_year"].pk),
    )
    assert response.status_code == 403


def test_appraiser_change_to_appraisee_is_400(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client,
        world.users["headteacher"],
        "appraisal:appraiser",
        appraisal.pk,
        appraiser=str(world.staff["teacher"].pk),
    )
    assert response.status_code == 400
    assert f"Staff member {world.staff['teacher'].pk} is not one of the choices" in text(response)
    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff["academy_leader"]


def test_annotate_signed_off(client, world):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    response = post(
        client, world.users["teacher"], "appraisal:annotate", appraisal.pk, text="Moved to Year 7."
    )
    assert response.status_code == 302
    note = Annotation.objects.get(appraisal=appraisal)
    assert note.author == world.staff["teacher"]
    body = visible_text(get(client, world.users["headteacher"], "appraisal:detail", appraisal.pk))
    assert "Moved to Year 7. Teacher Persona, 04/12/2026" in body


def test_annotate_draft_is_400(client, world):
    appraisal = appraisal_of(world)
    response = post(
        client, world.users["teacher"], "appraisal:annotate", appraisal.pk, text="Too early"
    )
    assert response.status_code == 400
    assert "Annotations are added to signed-off appraisals only" in text(response)
    assert not Annotation.objects.exists()


def test_annotate_empty_text_is_400(client, world):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    response = post(client, world.users["teacher"], "appraisal:annotate", appraisal.pk, text="")
    assert response.status_code == 400
    assert not Annotation.objects.exists()


def test_objective_add_reports_missing_together(client, world):
    appraisal = appraisal_of(world, objectives=[])
    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        **objective_data(title="", success_criteria="", weighting=""),
    )
    body = visible_text(response)
    assert response.status_code == 400
    assert "Objective: The objective's title is missing; enter some text." in body
    assert "Success criteria: The success criteria are missing" in body
    assert "Weighting (%): Weighting is missing; enter a whole number from 1 to 100." in body


def test_trust_hr_own_appraisal_offers_no_objective_actions(client, world):
    appraisal = make_appraisal(world.cycle, world.staff["trust_hr"], world.staff["trust_leader"])
    body = text(get(client, world.users["trust_hr"], "appraisal:detail", appraisal.pk))
    assert reverse("appraisal:objective-add", args=[appraisal.pk]) not in body
    assert reverse("appraisal:objectives-sign", args=[appraisal.pk]) in body


@pytest.mark.parametrize(
    ("persona", "name", "status", "by_objective"),
    [
        ("academy_leader", "appraisal:objective-add", Status.DRAFT, False),
        ("teacher", "appraisal:objectives-sign", Status.DRAFT, False),
        ("academy_leader", "appraisal:final-review", Status.MID_YEAR_REVIEWED, False),
        ("headteacher", "appraisal:appraiser", Status.DRAFT, False),
        ("teacher", "appraisal:review", Status.OBJECTIVES_AGREED, True),
    ],
)
def test_form_descriptions_exist(client, world, persona, name, status, by_objective):
    appraisal = appraisal_of(world, status=status)
    args = [appraisal.objectives.first().pk, "mid_year"] if by_objective else [appraisal.pk]
    response = get(client, world.users[persona], name, *args)
    body = text(response)
    assert response.status_code == 200
    references = {
        ref for value in re.findall(r'aria-describedby="([^"]+)"', body) for ref in value.split()
    }
    assert references
    for ref in references:
        assert f'id="{ref}"' in body, ref
    for label_for in re.findall(r'<label for="([^"]+)"', body):
        assert f'id="{label_for}"' in body, label_for

"""Appraisal services and selectors: bad input, who may act, the outcome
summary (real-world case S1), the audit trail and signed-off records."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import pre_save
from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal import selectors, services
from appraisal.models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    Deadline,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    Outcome,
    Signature,
    Stage,
    Standard,
    StandardSet,
    Track,
)
from appraisal.standards import TEACHERS_STANDARDS
from staff.models import PostType, Role, StaffMember
from trust import clock
from trust.models import AuditEvent

from .factories import AcademicYearFactory, StaffFactory, UserFactory, grant
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

Status = Appraisal.Status
Kind = ObjectiveReview.Kind

APPRAISEE = "teacher"
APPRAISER = "head_of_year"
# Personas who may neither manage nor sign the Oak teacher's appraisal.
OUTSIDERS = ["tutor", "elm_teacher", "trustee", "academy_leader", "trust_leader", "staff"]
MANAGERS = [APPRAISER, "headteacher", "trust_hr"]


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


@pytest.fixture
def cycle(world):
    return cycle_2026(world)


def appraisal_at(world: Personas, cycle: Any, status: str, **options: Any) -> Appraisal:
    return make_appraisal(
        cycle, world.staff[APPRAISEE], world.staff[APPRAISER], status=status, **options
    )


def row_counts() -> dict[str, int]:
    return {
        "appraisals": Appraisal.objects.count(),
        "objectives": Objective.objects.count(),
        "standards": Objective.standards.through.objects.count(),
        "reviews": ObjectiveReview.objects.count(),
        "signatures": Signature.objects.count(),
        "annotations": Annotation.objects.count(),
        "needs": DevelopmentNeed.objects.count(),
        "deadlines": Deadline.objects.count(),
        "cycles": AppraisalCycle.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def messages_of(error: ValidationError) -> str:
    return " ".join(m for values in error.message_dict.values() for m in values)


def objective_input(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Improve Year 11 coursework completion",
        "success_criteria": "Every pupil submits on time.",
        "weighting": 50,
    }
    values.update(changes)
    return values


def save_objective(world: Personas, appraisal: Appraisal, **changes: Any) -> Objective:
    return services.objective_save(world.users[APPRAISER], appraisal, **objective_input(**changes))


# Objectives: bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"weighting": 0}, "weighting", "Weighting 0% is out of range"),
        ({"weighting": 101}, "weighting", "Weighting 101% is out of range"),
        ({"weighting": -5}, "weighting", "Weighting -5% is out of range"),
        ({"weighting": "ten"}, "weighting", "Weighting 'ten' is not a whole number"),
        ({"weighting": None}, "weighting", "Weighting 'None' is not a whole number"),
        ({"weighting": True}, "weighting", "Weighting True is not a number"),
        ({"title": ""}, "title", "The objective's title is missing"),
        ({"title": "   "}, "title", "The objective's title is missing"),
        ({"title": "x" * 301}, "title", "The title is 301 characters long"),
        ({"success_criteria": ""}, "success_criteria", "The success criteria are missing"),
        ({"measure": "made_up"}, "measure", "Measure 'made_up' is not one of"),
        ({"measure": "attendance"}, "measure_scope", "Scope is missing"),
        ({"measure_scope": "academy"}, "measure_scope", "Scope 'academy' needs a measure"),
        ({"target_value": "80"}, "target_value", "Target 80 needs a measure"),
    ],
)
def test_objective_bad_input(world, cycle, changes, field, fragment):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal, **changes)

    assert field in raised.value.message_dict
    assert fragment in " ".join(raised.value.message_dict[field])
    assert row_counts() == before


def test_weighting_range_names_allowed_values(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal, weighting=101)

    assert raised.value.message_dict["weighting"] == [
        "Weighting 101% is out of range; enter a whole number from 1 to 100."
    ]


def test_objective_errors_reported_together(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal, title="", success_criteria=" ", weighting=0)

    assert set(raised.value.message_dict) == {"title", "success_criteria", "weighting"}


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("150", "Target 150 is outside 0 to 100"),
        ("-1", "Target -1 is outside 0 to 100"),
        ("62.55", "more than one decimal place"),
        ("lots", "Target 'lots' is not a number"),
    ],
)
def test_measure_target_rejected(world, cycle, target, fragment):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        save_objective(
            world,
            appraisal,
            measure="attendance",
            measure_scope="tutor_group",
            measure_tutor_group=world.tutor_groups["9A"],
            target_value=target,
        )

    assert fragment in " ".join(raised.value.message_dict["target_value"])
    assert row_counts() == before


def test_measure_objective_saved(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    objective = save_objective(
        world,
        appraisal,
        measure="attendance",
        measure_scope="tutor_group",
        measure_tutor_group=world.tutor_groups["9A"],
        target_value="95.5",
    )

    objective.refresh_from_db()
    assert objective.measure == "attendance"
    assert objective.measure_tutor_group == world.tutor_groups["9A"]
    assert objective.target_value == Decimal("95.5")


def test_measure_outside_academy_rejected(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    with pytest.raises(ValidationError) as raised:
        save_objective(
            world,
            appraisal,
            measure="attendance",
            measure_scope="tutor_group",
            measure_tutor_group=world.tutor_groups["9E"],
            target_value="95",
        )

    assert "measure_tutor_group" in raised.value.message_dict
    assert not Objective.objects.exists()


def test_objective_standards_from_appraisal_set(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    ts2 = Standard.objects.get(standard_set__name=TEACHERS_STANDARDS, code="TS2")
    ts6 = Standard.objects.get(standard_set__name=TEACHERS_STANDARDS, code="TS6")

    objective = save_objective(world, appraisal, standards=[ts2, ts6.pk])

    assert set(objective.standards.values_list("code", flat=True)) == {"TS2", "TS6"}


def test_objective_standard_from_other_set(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    other = StandardSet.objects.create(name="Support staff standards")
    foreign = Standard.objects.create(standard_set=other, code="SS1", title="Work safely")
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal, standards=[foreign, 999999])

    messages = raised.value.message_dict["standards"]
    assert messages[0] == (
        f"Standard SS1 belongs to another standard set; choose from {TEACHERS_STANDARDS}."
    )
    assert messages[1] == "Standard 999999 was not found."
    assert row_counts() == before


def test_objective_of_other_appraisal(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    other = make_appraisal(cycle, world.staff["tutor"], world.staff[APPRAISER])
    foreign = other.objectives.first()

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal, objective=foreign)

    assert "objective" in raised.value.message_dict
    foreign.refresh_from_db()
    assert foreign.appraisal == other


@pytest.mark.parametrize(("weightings", "total"), [((60, 30), 90), ((60, 50), 110), ((99,), 99)])
def test_weightings_must_total_100(world, cycle, weightings, total):
    objectives = [(f"Objective {n}", w) for n, w in enumerate(weightings)]
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=objectives)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.objectives_sign(world.users[APPRAISEE], appraisal)

    assert raised.value.message_dict == {
        "weighting": [
            f"Weightings total {total}%; they must total exactly 100% before the objectives "
            "can be agreed."
        ]
    }
    assert row_counts() == before


def test_signing_without_objectives(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    with pytest.raises(ValidationError) as raised:
        services.objectives_sign(world.users[APPRAISER], appraisal)

    assert "no objectives to agree" in raised.value.message_dict["objectives"][0]
    assert not Signature.objects.exists()


def test_objectives_after_sign_off(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        save_objective(world, appraisal)

    assert raised.value.message_dict == {
        "status": [
            "This appraisal was signed off on 04/12/2026 and can no longer be edited; add an "
            "annotation instead."
        ]
    }
    assert row_counts() == before


def test_review_before_objectives_agreed(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    objective = appraisal.objectives.first()
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.review_save(
            world.users[APPRAISEE], objective, kind=Kind.MID_YEAR, evidence="Lesson visits."
        )

    message = raised.value.message_dict["status"][0]
    assert "Reviews start once the appraisee and the appraiser have both signed" in message
    assert "'Draft'" in message
    assert row_counts() == before


# Reviews ------------------------------------------------------------------------------


def test_review_fields_by_party(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    objective = appraisal.objectives.first()

    services.review_save(
        world.users[APPRAISEE],
        objective,
        kind=Kind.FINAL,
        evidence=" Results summary. ",
        self_review="Met, I think.",
    )
    review = services.review_save(
        world.users[APPRAISER],
        objective,
        kind=Kind.FINAL,
        appraiser_comment="Agreed: met.",
        outcome=Outcome.MET,
    )

    review.refresh_from_db()
    assert review.evidence == "Results summary."
    assert review.self_review == "Met, I think."
    assert review.appraiser_comment == "Agreed: met."
    assert review.outcome == Outcome.MET


@pytest.mark.parametrize("field", ["appraiser_comment", "outcome"])
def test_appraisee_cannot_judge_own_review(world, cycle, field):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    before = row_counts()

    with pytest.raises(PermissionDenied):
        services.review_save(
            world.users[APPRAISEE], appraisal.objectives.first(), kind=Kind.FINAL, **{field: "met"}
        )

    assert row_counts() == before


def test_appraiser_cannot_write_self_review(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)

    with pytest.raises(PermissionDenied):
        services.review_save(
            world.users[APPRAISER],
            appraisal.objectives.first(),
            kind=Kind.MID_YEAR,
            self_review="Fine.",
        )

    assert not ObjectiveReview.objects.exists()


@pytest.mark.parametrize(
    ("status", "kind", "outcome", "field", "fragment"),
    [
        (Status.OBJECTIVES_AGREED, "mid_year", "met", "outcome", "at the mid-year review"),
        (Status.MID_YEAR_REVIEWED, "final", "brilliant", "outcome", "'brilliant' is not valid"),
        (Status.MID_YEAR_REVIEWED, "annual", None, "kind", "Review kind 'annual' is not valid"),
    ],
)
def test_review_bad_input(world, cycle, status, kind, outcome, field, fragment):
    appraisal = appraisal_at(world, cycle, status)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.review_save(
            world.users[APPRAISER], appraisal.objectives.first(), kind=kind, outcome=outcome
        )

    assert fragment in raised.value.message_dict[field][0]
    assert row_counts() == before


def test_final_review_needs_every_outcome(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    first, second = appraisal.objectives.all()
    services.review_save(world.users[APPRAISER], first, kind=Kind.FINAL, outcome="met")
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.final_review_complete(
            world.users[APPRAISER], appraisal, summary="", development_needs=["x" * 301]
        )

    errors = raised.value.message_dict
    assert errors["objectives"] == [
        f"These objectives have no final outcome: '{second.title}'. Record met, partly met, "
        "not met or not applicable for each."
    ]
    assert errors["summary"] == ["The overall summary is missing; enter some text."]
    assert "Development need 1 is 301 characters long" in errors["development_needs.0"][0]
    assert row_counts() == before
    appraisal.refresh_from_db()
    assert appraisal.status == Status.MID_YEAR_REVIEWED


def test_pay_recommendation_when_unused(world, cycle):
    cycle.uses_pay_recommendation = False
    cycle.save()
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    for objective in appraisal.objectives.all():
        services.review_save(world.users[APPRAISER], objective, kind=Kind.FINAL, outcome="met")

    with pytest.raises(ValidationError) as raised:
        services.final_review_complete(
            world.users[APPRAISER], appraisal, summary="Good.", pay_recommendation="Move up."
        )

    assert raised.value.message_dict["pay_recommendation"] == [
        "The 2026/27 cycle does not use pay recommendations; leave this field empty."
    ]


# Opening appraisals -------------------------------------------------------------------


def test_open_defaults(world, cycle):
    teacher = world.staff[APPRAISEE]
    teacher.line_manager = world.staff[APPRAISER]
    teacher.save()

    appraisal = services.appraisal_open(world.users["headteacher"], cycle=cycle, appraisee=teacher)

    assert appraisal.appraiser == world.staff[APPRAISER]
    assert appraisal.academy == world.academies["oak"]
    assert appraisal.track == Track.STAFF
    assert appraisal.status == Status.DRAFT
    assert appraisal.standard_set is not None
    assert appraisal.standard_set.name == TEACHERS_STANDARDS


@pytest.mark.parametrize("persona", ["trust_leader", "trust_hr", "headteacher"])
def test_open_allowed(world, cycle, persona):
    appraisal = services.appraisal_open(
        world.users[persona], cycle=cycle, appraisee=world.staff["tutor"]
    )

    event = AuditEvent.objects.get(model="appraisal.Appraisal", action="create")
    assert event.actor == world.users[persona]
    assert event.staff_ref == world.staff["tutor"].pk
    assert event.object_id == str(appraisal.pk)


def test_open_headteacher_track(world, cycle):
    appraisal = services.appraisal_open(
        world.users["trust_hr"],
        cycle=cycle,
        appraisee=world.staff["headteacher"],
        appraiser=world.staff["trust_leader"],
    )

    assert appraisal.track == Track.HEADTEACHER


def test_open_support_staff_no_set(world, cycle):
    support = StaffFactory(academy=world.academies["oak"], post_type=PostType.SUPPORT)

    appraisal = services.appraisal_open(world.users["trust_hr"], cycle=cycle, appraisee=support)

    assert appraisal.standard_set is None
    assert appraisal.appraiser is None


def test_open_skips_departed_line_manager(world, cycle):
    manager = StaffFactory(academy=world.academies["oak"], left_on=datetime.date(2026, 10, 31))
    teacher = world.staff[APPRAISEE]
    teacher.line_manager = manager
    teacher.save()

    appraisal = services.appraisal_open(world.users["trust_hr"], cycle=cycle, appraisee=teacher)

    assert appraisal.appraiser is None


def test_open_twice_rejected(world, cycle):
    appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.appraisal_open(
            world.users["trust_hr"], cycle=cycle, appraisee=world.staff[APPRAISEE]
        )

    assert raised.value.message_dict["appraisee"] == [
        "Teacher Persona already has an appraisal in the 2026/27 cycle (status "
        "'Objectives agreed'); open that one instead."
    ]
    assert row_counts() == before


def test_open_departed_staff_rejected(world, cycle):
    leaver = StaffFactory(
        academy=world.academies["oak"],
        first_name="Rowan",
        last_name="Leaver",
        left_on=datetime.date(2026, 7, 20),
    )

    with pytest.raises(ValidationError) as raised:
        services.appraisal_open(world.users["trust_hr"], cycle=cycle, appraisee=leaver)

    assert raised.value.message_dict["appraisee"] == [
        "Rowan Leaver left on 20/07/2026, before the 2026/27 cycle started on 01/09/2026; only "
        "current staff are appraised."
    ]
    assert not Appraisal.objects.exists()


def test_open_self_as_appraiser_rejected(world, cycle):
    teacher = world.staff[APPRAISEE]
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.appraisal_open(
            world.users["trust_hr"], cycle=cycle, appraisee=teacher, appraiser=teacher
        )

    assert raised.value.message_dict["appraiser"] == [
        "Teacher Persona is the appraisee and cannot also be the appraiser; choose "
        "another member of staff."
    ]
    assert row_counts() == before


def test_open_departed_appraiser_rejected(world, cycle):
    departed = StaffFactory(
        academy=world.academies["oak"],
        first_name="Ash",
        last_name="Former",
        left_on=datetime.date(2026, 11, 30),
    )

    with pytest.raises(ValidationError) as raised:
        services.appraisal_open(
            world.users["trust_hr"],
            cycle=cycle,
            appraisee=world.staff[APPRAISEE],
            appraiser=departed,
        )

    assert raised.value.message_dict["appraiser"] == [
        "Ash Former left on 30/11/2026; choose a current member of staff as appraiser."
    ]
    assert not Appraisal.objects.exists()


def test_appraiser_set_self_rejected(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.appraiser_set(world.users["headteacher"], appraisal, world.staff[APPRAISEE])

    assert "cannot also be the appraiser" in raised.value.message_dict["appraiser"][0]
    assert row_counts() == before
    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff[APPRAISER]


@pytest.mark.parametrize("persona", ["headteacher", "trust_hr"])
def test_appraiser_set_by_leader(world, cycle, persona):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)

    changed = services.appraiser_set(world.users[persona], appraisal, world.staff["tutor"])

    assert changed.appraiser == world.staff["tutor"]
    event = AuditEvent.objects.get(
        model="appraisal.Appraisal", action="update", changes__has_key="appraiser_id"
    )
    assert event.actor == world.users[persona]
    assert event.changes["appraiser_id"] == [world.staff[APPRAISER].pk, world.staff["tutor"].pk]


@pytest.mark.parametrize("persona", [APPRAISER, APPRAISEE, *OUTSIDERS])
def test_appraiser_set_refused(world, cycle, persona):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    with pytest.raises(PermissionDenied):
        services.appraiser_set(world.users[persona], appraisal, world.staff["tutor"])

    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff[APPRAISER]


@pytest.mark.parametrize("persona", ["teacher", "academy_leader", "trustee", "trust_admin"])
def test_open_refused(world, cycle, persona):
    with pytest.raises(PermissionDenied):
        services.appraisal_open(world.users[persona], cycle=cycle, appraisee=world.staff["tutor"])
    with pytest.raises(PermissionDenied):
        services.appraisals_open_all(world.users[persona], cycle, academy=world.academies["oak"])
    assert not Appraisal.objects.exists()


def test_headteacher_opens_own_academy_only(world, cycle):
    head = world.users["headteacher"]

    with pytest.raises(PermissionDenied):
        services.appraisal_open(head, cycle=cycle, appraisee=world.staff["elm_teacher"])
    with pytest.raises(PermissionDenied):
        services.appraisals_open_all(head, cycle, academy=world.academies["elm"])
    with pytest.raises(PermissionDenied):
        services.appraisals_open_all(head, cycle)

    opened = services.appraisals_open_all(head, cycle, academy=world.academies["oak"])

    oak_staff = StaffMember.objects.filter(academy=world.academies["oak"]).count()
    assert opened == oak_staff
    assert set(Appraisal.objects.values_list("academy_id", flat=True)) == {
        world.academies["oak"].pk
    }


def test_open_all_whole_trust(world, cycle):
    leaver = StaffFactory(academy=world.academies["elm"], left_on=datetime.date(2026, 8, 31))
    starter = StaffFactory(academy=world.academies["elm"], started_on=datetime.date(2027, 9, 1))
    appraisal_at(world, cycle, Status.DRAFT)
    before_audit = AuditEvent.objects.filter(model="appraisal.Appraisal").count()

    opened = services.appraisals_open_all(world.users["trust_hr"], cycle)

    appraised = set(Appraisal.objects.values_list("appraisee_id", flat=True))
    expected = set(StaffMember.objects.values_list("pk", flat=True)) - {
        leaver.pk,
        starter.pk,
        world.staff["trustee"].pk,
    }
    assert appraised == expected
    assert opened == len(expected) - 1
    created_events = AuditEvent.objects.filter(model="appraisal.Appraisal").count()
    assert created_events - before_audit == opened
    head = Appraisal.objects.get(appraisee=world.staff["headteacher"])
    assert head.track == Track.HEADTEACHER
    assert services.appraisals_open_all(world.users["trust_hr"], cycle) == 0


# Cycles and deadlines -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["trust_hr", "trust_leader"])
def test_cycle_create(world, persona):
    cycle = services.cycle_create(world.users[persona], world.academic_year)

    dates = {(d.track, d.stage): d.due for d in Deadline.objects.filter(cycle=cycle)}
    assert len(dates) == 8
    assert dates[(Track.STAFF, Stage.OBJECTIVES)] == datetime.date(2026, 10, 31)
    assert dates[(Track.HEADTEACHER, Stage.OBJECTIVES)] == datetime.date(2026, 12, 31)


def test_cycle_create_twice(world, cycle):
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.cycle_create(world.users["trust_hr"], world.academic_year)

    assert (
        "The 2026/27 appraisal cycle already exists"
        in raised.value.message_dict["academic_year"][0]
    )
    assert row_counts() == before


@pytest.mark.parametrize("persona", ["headteacher", "teacher", "trustee", "trust_admin"])
def test_cycle_create_refused(world, persona):
    with pytest.raises(PermissionDenied):
        services.cycle_create(world.users[persona], world.academic_year)
    assert not AppraisalCycle.objects.exists()


def test_trust_deadline_moved(world, cycle):
    services.deadlines_set(
        world.users["trust_hr"],
        cycle,
        dates={(Track.STAFF, Stage.OBJECTIVES): datetime.date(2026, 10, 16)},
    )

    row = Deadline.objects.get(cycle=cycle, academy=None, track=Track.STAFF, stage=Stage.OBJECTIVES)
    assert row.due == datetime.date(2026, 10, 16)
    assert Deadline.objects.count() == 8


def test_academy_deadline_set_and_removed(world, cycle):
    oak = world.academies["oak"]
    key = (Track.STAFF, Stage.MID_YEAR)

    services.deadlines_set(
        world.users["headteacher"], cycle, dates={key: datetime.date(2027, 2, 12)}, academy=oak
    )
    own = Deadline.objects.get(cycle=cycle, academy=oak)
    assert own.due == datetime.date(2027, 2, 12)

    services.deadlines_set(world.users["headteacher"], cycle, dates={key: None}, academy=oak)
    assert not Deadline.objects.filter(academy=oak).exists()


@pytest.mark.parametrize(
    ("persona", "academy_key"),
    [("headteacher", None), ("headteacher", "elm"), ("academy_leader", "oak"), ("teacher", "oak")],
)
def test_deadlines_refused(world, cycle, persona, academy_key):
    academy = world.academies[academy_key] if academy_key else None
    before = row_counts()

    with pytest.raises(PermissionDenied):
        services.deadlines_set(
            world.users[persona],
            cycle,
            dates={(Track.STAFF, Stage.MID_YEAR): datetime.date(2027, 2, 12)},
            academy=academy,
        )

    assert row_counts() == before


@pytest.mark.parametrize(
    ("key", "due", "field", "message"),
    [
        (
            (Track.STAFF, Stage.OBJECTIVES),
            datetime.date(2026, 8, 31),
            "staff.objectives",
            "The objectives agreed deadline for teachers and other staff 31/08/2026 is outside "
            "the 2026/27 cycle; choose a date from 01/09/2026 to 31/12/2027.",
        ),
        (
            (Track.HEADTEACHER, Stage.SIGN_OFF),
            datetime.date(2028, 1, 5),
            "headteacher.sign_off",
            "The sign-off deadline for headteachers 05/01/2028 is outside the 2026/27 cycle; "
            "choose a date from 01/09/2026 to 31/12/2027.",
        ),
        (
            (Track.STAFF, Stage.MID_YEAR),
            datetime.date(2026, 10, 1),
            "staff.mid_year",
            "The mid-year review deadline for teachers and other staff 01/10/2026 must be after "
            "the objectives agreed deadline 31/10/2026.",
        ),
        (
            (Track.STAFF, Stage.OBJECTIVES),
            datetime.date(2027, 4, 1),
            "staff.objectives",
            "The objectives agreed deadline for teachers and other staff 01/04/2027 must be "
            "before the mid-year review deadline 31/03/2027.",
        ),
        (
            (Track.STAFF, Stage.SIGN_OFF),
            datetime.date(2027, 10, 14),
            "staff.sign_off",
            "The sign-off deadline for teachers and other staff 14/10/2027 must be on or after "
            "the final review deadline 15/10/2027.",
        ),
        (("staff", "appraisal"), datetime.date(2027, 1, 1), "staff.appraisal", "not valid"),
        ((Track.STAFF, Stage.MID_YEAR), "01/02/2027", "staff.mid_year", "is not a date"),
    ],
)
def test_deadline_rejected(world, cycle, key, due, field, message):
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.deadlines_set(world.users["trust_hr"], cycle, dates={key: due})

    assert message in raised.value.message_dict[field][0]
    assert row_counts() == before


def test_trust_date_checked_against_academy(world, cycle):
    oak = world.academies["oak"]
    services.deadlines_set(
        world.users["headteacher"],
        cycle,
        dates={(Track.STAFF, Stage.MID_YEAR): datetime.date(2027, 2, 12)},
        academy=oak,
    )
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.deadlines_set(
            world.users["trust_hr"],
            cycle,
            dates={(Track.STAFF, Stage.OBJECTIVES): datetime.date(2027, 3, 1)},
        )

    assert raised.value.message_dict == {
        "staff.objectives": [
            "The objectives agreed deadline for teachers and other staff 01/03/2027 must be "
            "before Oak Academy's own mid-year review deadline 12/02/2027. Change that "
            "academy's date first."
        ]
    }
    assert row_counts() == before


def test_sign_off_same_day_as_review(world, cycle):
    same_day = datetime.date(2027, 10, 15)

    services.deadlines_set(
        world.users["trust_hr"], cycle, dates={(Track.STAFF, Stage.SIGN_OFF): same_day}
    )

    row = Deadline.objects.get(academy=None, track=Track.STAFF, stage=Stage.SIGN_OFF)
    assert row.due == same_day


def test_academy_deadline_order_uses_trust_dates(world, cycle):
    with pytest.raises(ValidationError) as raised:
        services.deadlines_set(
            world.users["headteacher"],
            cycle,
            dates={(Track.STAFF, Stage.FINAL_REVIEW): datetime.date(2027, 11, 1)},
            academy=world.academies["oak"],
        )

    assert raised.value.message_dict["staff.final_review"] == [
        "The final review deadline for teachers and other staff 01/11/2027 must be on or "
        "before the sign-off deadline 31/10/2027."
    ]
    assert not Deadline.objects.filter(academy__isnull=False).exists()


# Who may manage and sign ---------------------------------------------------------------


def _manage_calls(world: Personas, cycle: Any) -> dict[str, tuple[Appraisal, Any]]:
    draft = appraisal_at(world, cycle, Status.DRAFT)
    agreed = make_appraisal(
        cycle, world.staff["safeguarding_lead"], world.staff[APPRAISER], status="objectives_agreed"
    )
    return {
        "objective_save": (
            draft,
            lambda user: services.objective_save(user, draft, **objective_input(weighting=10)),
        ),
        "objective_delete": (
            draft,
            lambda user: services.objective_delete(user, draft.objectives.all()[0]),
        ),
        "mid_year_complete": (agreed, lambda user: services.mid_year_complete(user, agreed)),
        "review_comment": (
            agreed,
            lambda user: services.review_save(
                user, agreed.objectives.all()[0], kind=Kind.MID_YEAR, appraiser_comment="Good."
            ),
        ),
    }


MANAGE_ACTIONS = ["objective_save", "objective_delete", "mid_year_complete", "review_comment"]


@pytest.mark.parametrize("persona", MANAGERS)
@pytest.mark.parametrize("action", MANAGE_ACTIONS)
def test_manager_may_manage(world, cycle, persona, action):
    _, call = _manage_calls(world, cycle)[action]
    before = row_counts()

    call(world.users[persona])

    assert row_counts() != before


@pytest.mark.parametrize("persona", [APPRAISEE, *OUTSIDERS])
@pytest.mark.parametrize("action", MANAGE_ACTIONS)
def test_others_may_not_manage(world, cycle, persona, action):
    _, call = _manage_calls(world, cycle)[action]
    before = row_counts()

    with pytest.raises(PermissionDenied):
        call(world.users[persona])

    assert row_counts() == before


def test_final_review_complete_refused(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    for persona in [APPRAISEE, *OUTSIDERS]:
        with pytest.raises(PermissionDenied):
            services.final_review_complete(world.users[persona], appraisal, summary="x")
    appraisal.refresh_from_db()
    assert appraisal.status == Status.MID_YEAR_REVIEWED


def test_trust_hr_cannot_manage_own(world, cycle):
    own = make_appraisal(cycle, world.staff["trust_hr"], world.staff["trust_leader"])

    with pytest.raises(PermissionDenied):
        services.objective_save(world.users["trust_hr"], own, **objective_input())

    assert own.objectives.count() == 2


@pytest.mark.parametrize("persona", ["headteacher", "trust_hr", *OUTSIDERS])
def test_only_parties_sign(world, cycle, persona):
    draft = appraisal_at(world, cycle, Status.DRAFT)
    reviewed = make_appraisal(
        cycle, world.staff["safeguarding_lead"], world.staff[APPRAISER], status="final_reviewed"
    )
    before = row_counts()

    with pytest.raises(PermissionDenied):
        services.objectives_sign(world.users[persona], draft)
    with pytest.raises(PermissionDenied):
        services.final_sign(world.users[persona], reviewed)

    assert row_counts() == before


def test_appraisee_self_review_allowed(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)

    review = services.review_save(
        world.users[APPRAISEE],
        appraisal.objectives.first(),
        kind=Kind.MID_YEAR,
        self_review="Halfway there.",
    )

    assert review.self_review == "Halfway there."


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsider_cannot_review(world, cycle, persona):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)

    with pytest.raises(PermissionDenied):
        services.review_save(
            world.users[persona], appraisal.objectives.first(), kind=Kind.MID_YEAR, evidence="x"
        )

    assert not ObjectiveReview.objects.exists()


# Signed-off records -------------------------------------------------------------------


@pytest.mark.parametrize("persona", [APPRAISEE, APPRAISER, "headteacher", "trust_hr"])
def test_annotation_allowed(world, cycle, persona):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)

    note = services.annotation_add(
        world.users[persona], appraisal, text="  Pay panel met on 10/12/2026.  "
    )

    assert note.text == "Pay panel met on 10/12/2026."
    assert note.author == world.staff[persona]
    assert note.created_at == clock.now()
    event = AuditEvent.objects.get(model="appraisal.Annotation", action="create")
    assert event.actor == world.users[persona]
    assert event.changes["text"] == [None, "Pay panel met on 10/12/2026."]


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_annotation_refused(world, cycle, persona):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)

    with pytest.raises(PermissionDenied):
        services.annotation_add(world.users[persona], appraisal, text="A note.")

    assert not Annotation.objects.exists()


def test_annotation_needs_text(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)

    with pytest.raises(ValidationError) as raised:
        services.annotation_add(world.users[APPRAISEE], appraisal, text=" ")

    assert raised.value.message_dict == {"text": ["The annotation is missing; enter some text."]}
    assert not Annotation.objects.exists()


def test_signed_off_record_unchanged(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)
    objective = appraisal.objectives.first()
    appraiser = world.users[APPRAISER]
    before = row_counts()
    attempts = [
        lambda: services.objective_save(appraiser, appraisal, **objective_input()),
        lambda: services.objective_save(
            appraiser, appraisal, objective=objective, **objective_input()
        ),
        lambda: services.objective_delete(appraiser, objective),
        lambda: services.review_save(appraiser, objective, kind=Kind.FINAL, outcome="not_met"),
        lambda: services.review_save(
            world.users[APPRAISEE], objective, kind=Kind.FINAL, self_review="Changed."
        ),
        lambda: services.mid_year_complete(appraiser, appraisal),
        lambda: services.final_review_complete(appraiser, appraisal, summary="New."),
        lambda: services.final_sign(world.users[APPRAISEE], appraisal, agrees=True),
        lambda: services.objectives_sign(world.users[APPRAISEE], appraisal),
        lambda: services.appraiser_set(world.users["trust_hr"], appraisal, world.staff["tutor"]),
    ]

    for attempt in attempts:
        with pytest.raises(ValidationError) as raised:
            attempt()
        assert "signed off on 04/12/2026" in raised.value.message_dict["status"][0]

    assert row_counts() == before
    objective.refresh_from_db()
    assert objective.title == "Raise the share of Year 10 English pupils on or above TMG"


# Audit --------------------------------------------------------------------------------


def test_objective_change_audited(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    objective = save_objective(world, appraisal, title="Mark books weekly", weighting=40)
    created = AuditEvent.objects.get(model="appraisal.Objective", action="create")
    assert created.actor == world.users[APPRAISER]
    assert created.changes["title"] == [None, "Mark books weekly"]

    save_objective(world, appraisal, objective=objective, title="Mark books fortnightly")

    changed = AuditEvent.objects.get(model="appraisal.Objective", action="update")
    assert changed.actor == world.users[APPRAISER]
    assert changed.object_id == str(objective.pk)
    assert changed.changes["title"] == ["Mark books weekly", "Mark books fortnightly"]
    assert changed.changes["weighting"] == [40, 50]


def test_signature_audited(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    services.objectives_sign(world.users[APPRAISEE], appraisal, agrees=False, comment="Too hard.")

    event = AuditEvent.objects.get(model="appraisal.Signature", action="create")
    assert event.actor == world.users[APPRAISEE]
    assert event.changes["agrees"] == [None, False]
    assert event.changes["comment"] == [None, "Too hard."]


# Case S1: the outcome summary ----------------------------------------------------------


def test_not_applicable_left_out(world, cycle):
    appraisal = make_appraisal(
        cycle,
        world.staff[APPRAISEE],
        world.staff[APPRAISER],
        status=Status.FINAL_REVIEWED,
        objectives=(("Results", 40), ("Reading", 30), ("Trip", 30)),
        outcomes=(Outcome.MET, Outcome.MET, Outcome.NOT_APPLICABLE),
    )

    summary = selectors.outcome_summary(appraisal)

    assert summary.label == "2 of 2 met"
    assert summary.met == 2
    assert summary.counted == 2
    assert summary.not_applicable == 1
    assert summary.reviewed is True


def test_summary_from_prefetched_objectives(world, cycle, django_assert_num_queries):
    appraisal = make_appraisal(
        cycle,
        world.staff[APPRAISEE],
        world.staff[APPRAISER],
        status=Status.FINAL_REVIEWED,
        objectives=(("Results", 40), ("Reading", 30), ("Trip", 30)),
        outcomes=(Outcome.MET, Outcome.MET, Outcome.NOT_APPLICABLE),
    )
    detail = selectors.appraisal_detail(appraisal.pk)

    with django_assert_num_queries(0):
        summary = selectors.outcome_summary(detail.objectives.all())

    assert summary.label == "2 of 2 met"


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.OBJECTIVES_AGREED, Status.MID_YEAR_REVIEWED]
)
def test_not_yet_reviewed(world, cycle, status):
    appraisal = appraisal_at(world, cycle, status)

    summary = selectors.outcome_summary(appraisal)

    assert summary.label == "not yet reviewed"
    assert summary.reviewed is False
    assert summary.counted == 0
    assert "%" not in summary.label
    assert "NaN" not in summary.label


def test_no_objectives_not_yet_reviewed(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())

    assert selectors.outcome_summary(appraisal).label == "not yet reviewed"


def test_all_not_applicable(world, cycle):
    appraisal = appraisal_at(
        world,
        cycle,
        Status.FINAL_REVIEWED,
        outcomes=(Outcome.NOT_APPLICABLE, Outcome.NOT_APPLICABLE),
    )

    summary = selectors.outcome_summary(appraisal)

    assert summary.label == "no objectives counted (all not applicable)"
    assert summary.reviewed is True
    assert summary.counted == 0


def test_summary_partly_met_and_pending(world, cycle):
    appraisal = appraisal_at(
        world,
        cycle,
        Status.MID_YEAR_REVIEWED,
        objectives=(("A", 25), ("B", 25), ("C", 25), ("D", 25)),
    )
    first, second, third, _ = appraisal.objectives.all()
    for objective, outcome in [(first, "met"), (second, "partly_met"), (third, "not_met")]:
        services.review_save(world.users[APPRAISER], objective, kind=Kind.FINAL, outcome=outcome)

    summary = selectors.outcome_summary(appraisal)

    assert summary.label == "1 of 3 met, 1 partly met; 1 not yet reviewed"
    assert summary.pending == 1
    assert summary.not_met == 1


def test_outcome_summaries_one_query(world, cycle, django_assert_num_queries):
    first = appraisal_at(world, cycle, Status.FINAL_REVIEWED)
    second = make_appraisal(cycle, world.staff["tutor"], world.staff[APPRAISER])

    with django_assert_num_queries(2):
        summaries = selectors.outcome_summaries([first, second])

    assert summaries[first.pk].label == "2 of 2 met"
    assert summaries[second.pk].label == "not yet reviewed"


# Other selectors ----------------------------------------------------------------------


def test_appraisal_detail_queries(world, cycle, django_assert_max_num_queries):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)
    services.annotation_add(world.users[APPRAISEE], appraisal, text="Noted.")
    ts1 = Standard.objects.get(standard_set__name=TEACHERS_STANDARDS, code="TS1")
    for objective in appraisal.objectives.all():
        objective.standards.add(ts1)

    with django_assert_max_num_queries(7):
        detail = selectors.appraisal_detail(appraisal)
        codes = [s.code for o in detail.objectives.all() for s in o.standards.all()]
        reviews = [r.kind for o in detail.objectives.all() for r in o.reviews.all()]
        signers = [s.staff.full_name for s in detail.signatures.all()]
        notes = [a.author.full_name for a in detail.annotations.all()]
        total = selectors.weighting_total(detail)

    assert codes == ["TS1", "TS1"]
    assert sorted(reviews) == ["final", "final", "mid_year", "mid_year"]
    assert len(signers) == 4
    assert notes == [world.staff[APPRAISEE].full_name]
    assert total == 100


def test_weighting_total(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=(("A", 60), ("B", 30)))
    empty = make_appraisal(cycle, world.staff["tutor"], world.staff[APPRAISER], objectives=())

    assert selectors.weighting_total(appraisal) == 90
    assert selectors.weighting_total(empty) == 0


def test_appraisals_for_appraiser(world, cycle):
    mine = appraisal_at(world, cycle, Status.DRAFT)
    other = make_appraisal(cycle, world.staff["tutor"], world.staff["academy_leader"])

    listed = list(selectors.appraisals_for_appraiser(world.users[APPRAISER], cycle))

    assert listed == [mine]
    assert other not in listed
    assert list(selectors.appraisals_for_appraiser(world.users[APPRAISEE], cycle)) == []


def test_current_cycle(world, cycle):
    later_year = AcademicYearFactory(trust=world.academic_year.trust, start_year=2027)
    AppraisalCycle.objects.create(academic_year=later_year)

    assert selectors.current_cycle(clock.today()) == cycle
    assert selectors.current_cycle(datetime.date(2027, 9, 2)).academic_year == later_year
    assert selectors.current_cycle(datetime.date(2025, 1, 1)) is None


def test_actor_without_staff_record(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.SIGNED_OFF)
    stranger = UserFactory()

    with pytest.raises(PermissionDenied):
        services.annotation_add(stranger, appraisal, text="Hello.")
    with pytest.raises(PermissionDenied):
        services.objective_save(stranger, appraisal, **objective_input())
    assert not Annotation.objects.exists()


def test_ended_headteacher_role_ignored(world, cycle):
    teacher = world.staff["tutor"]
    role = grant(teacher, Role.HEADTEACHER, world.academies["elm"])
    role.ends_on = datetime.date(2026, 8, 31)
    role.save()

    appraisal = services.appraisal_open(world.users["trust_hr"], cycle=cycle, appraisee=teacher)

    assert appraisal.track == Track.STAFF


@settings(deadline=None, max_examples=200)
@given(st.lists(st.sampled_from([*Outcome.values, ""]), max_size=12))
def test_summary_label_never_a_bare_ratio(outcomes):
    summary = selectors.summarise_outcomes(outcomes)

    assert summary.counted == summary.met + summary.partly_met + summary.not_met
    assert summary.counted == sum(o in ("met", "partly_met", "not_met") for o in outcomes)
    assert summary.pending == outcomes.count("")
    assert summary.reviewed == any(outcomes)
    assert "%" not in summary.label
    assert "of 0" not in summary.label
    if summary.counted:
        assert summary.label.startswith(f"{summary.met} of {summary.counted} met")


def test_open_race_rejected(world, cycle):
    teacher = world.staff[APPRAISEE]

    def open_first(sender, instance, **kwargs):
        # Simulates another request opening the same appraisal between the
        # check and the insert. Its row is rolled back with the savepoint.
        if instance.pk is None and not Appraisal.objects.filter(appraisee=teacher).exists():
            Appraisal.objects.bulk_create([Appraisal(cycle=cycle, appraisee=teacher)])

    pre_save.connect(open_first, sender=Appraisal, dispatch_uid="test-open-race")
    try:
        with pytest.raises(ValidationError) as raised:
            services.appraisal_open(world.users["trust_hr"], cycle=cycle, appraisee=teacher)
    finally:
        pre_save.disconnect(sender=Appraisal, dispatch_uid="test-open-race")

    assert "was opened by someone else a moment ago" in raised.value.message_dict["appraisee"][0]
    assert not AuditEvent.objects.filter(model="appraisal.Appraisal").exists()

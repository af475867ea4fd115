"""The behaviour write services: logging, correcting and deleting incidents."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from behaviour.models import Action, FollowUp, Incident, IncidentPupil
from behaviour.selectors import points_totals
from behaviour.services import (
    ActionInput,
    FollowUpInput,
    PupilEntry,
    action_add,
    action_update,
    follow_up_resolve,
    group_points_log,
    incident_delete,
    incident_log,
    incident_update,
)
from pupils.models import Enrolment
from trust import clock
from trust.models import AuditEvent

from .factories import StaffFactory, TrustFactory
from .factories_behaviour import CategoryFactory
from .factories_incidents import LOGGED_AT, build_categories, log_incident
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

THREE = ["oak9a_obrien", "oak9a_smithjones", "oak9b_patel"]


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


@pytest.fixture
def cats(world):
    return build_categories(world)


def messages_of(error: ValidationError) -> str:
    return " ".join(m for values in error.message_dict.values() for m in values)


def nothing_written() -> bool:
    return not (
        Incident.objects.exists()
        or IncidentPupil.objects.exists()
        or Action.objects.exists()
        or FollowUp.objects.exists()
        or AuditEvent.objects.filter(model__startswith="behaviour.")
        .exclude(model="behaviour.BehaviourCategory")
        .exists()
    )


# Case B1 and copied fields ----------------------------------------------------


def test_one_incident_three_pupils(world, cats):
    incident = log_incident(world, "head_of_year", cats.disruption, THREE, points=-2)

    assert incident.pupil_links.count() == 3
    for key in THREE:
        totals = points_totals(IncidentPupil.objects.filter(pupil=world.pupils[key]))
        assert totals.negative == -2
        assert totals.net == -2
    oak = points_totals(IncidentPupil.objects.filter(academy=world.academies["oak"]))
    assert oak.incident_count == 1
    assert oak.negative == -6


def test_links_copy_incident_and_enrolment(world, cats):
    incident = log_incident(world, "headteacher", cats.oak_merit, ["oak9b_patel"])
    link = incident.pupil_links.get()

    assert incident.trust_category_id == cats.merit.pk
    assert incident.polarity == "positive"
    assert incident.academic_year_id == world.academic_year.pk
    assert link.points == 2
    assert link.trust_category_id == cats.merit.pk
    assert link.polarity == "positive"
    assert link.date == datetime.date(2026, 12, 4)
    assert link.academy_id == world.academies["oak"].pk
    assert link.year_group_id == world.year_groups["oak9"].pk
    assert link.tutor_group_id == world.tutor_groups["9B"].pk


def test_date_is_london_date(world, cats):
    # 23:30 UTC on 10 October is 00:30 on 11 October in London (BST).
    late = datetime.datetime(2026, 10, 10, 23, 30, tzinfo=datetime.UTC)
    incident = log_incident(world, "headteacher", cats.merit, ["oak9b_patel"], occurred_at=late)

    assert incident.date == datetime.date(2026, 10, 11)
    assert incident.pupil_links.get().date == datetime.date(2026, 10, 11)


def test_sensitive_defaults_to_category(world, cats):
    flagged = log_incident(world, "headteacher", cats.safeguarding, ["oak9b_patel"])
    plain = log_incident(world, "headteacher", cats.disruption, ["oak9b_patel"])

    assert flagged.sensitive is True
    assert plain.sensitive is False


def test_sensitive_kind_needs_flag(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_incident(
            world,
            "headteacher",
            cats.disruption,
            ["oak9b_patel"],
            sensitive=False,
            sensitive_kind="prejudice",
        )

    assert "sensitive_kind" in caught.value.message_dict
    assert "not marked sensitive" in messages_of(caught.value)
    assert nothing_written()


# Points (case B2) -------------------------------------------------------------


@pytest.mark.parametrize("points", [-5, 999, 0])
def test_merit_points_out_of_range(world, cats, points):
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.merit, ["oak9b_patel"], points=points)

    assert caught.value.message_dict["pupils.0.points"] == [
        f"Isla Patel: Points {points} are outside Merit's range of 1 to 3."
    ]
    assert nothing_written()


def test_target_and_witness_may_have_zero(world, cats):
    incident = incident_log(
        actor=world.users["headteacher"],
        academy_id=world.academies["oak"].pk,
        occurred_at=LOGGED_AT,
        category_id=cats.disruption.pk,
        reported_by_id=world.staff["headteacher"].pk,
        pupils=[
            PupilEntry(world.pupils["oak9a_obrien"].pk, "instigator", -3),
            PupilEntry(world.pupils["oak9a_smithjones"].pk, "target", 0),
            PupilEntry(world.pupils["oak9b_patel"].pk, "witness"),
        ],
    )

    points = dict(incident.pupil_links.values_list("role", "points"))
    assert points == {"instigator": -3, "target": 0, "witness": 0}


def test_role_must_be_known(world, cats):
    with pytest.raises(ValidationError) as caught:
        incident_log(
            actor=world.users["headteacher"],
            academy_id=world.academies["oak"].pk,
            occurred_at=LOGGED_AT,
            category_id=cats.disruption.pk,
            reported_by_id=world.staff["headteacher"].pk,
            pupils=[PupilEntry(world.pupils["oak9b_patel"].pk, "bystander")],
        )

    assert "Role 'bystander'" in messages_of(caught.value)
    assert nothing_written()


# Pupils -------------------------------------------------------------------------


def test_pupil_listed_twice_rejected(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.disruption, ["oak9b_patel", "oak9b_patel"])

    assert caught.value.message_dict["pupils.1.pupil_id"] == [
        "Isla Patel is listed twice; list each pupil once with one role and points."
    ]
    assert nothing_written()


def test_no_pupil_rejected(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.disruption, [])

    assert caught.value.message_dict["pupils"] == [
        "No pupil is selected; choose at least one pupil."
    ]
    assert nothing_written()


def test_tutor_cannot_log_other_group(world, cats):
    # Case X2: the 9A tutor logging for a 9B pupil gets 404 and writes nothing.
    with pytest.raises(Http404):
        log_incident(world, "tutor", cats.disruption, ["oak9a_obrien", "oak9b_patel"])

    assert nothing_written()


def test_elm_teacher_cannot_log_oak_pupil(world, cats):
    with pytest.raises(Http404):
        log_incident(world, "elm_teacher", cats.disruption, ["oak9b_patel"])

    assert nothing_written()


def test_pupil_not_on_roll_at_academy(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "trust_leader", cats.disruption, ["elm9e_ashdown"])

    assert caught.value.message_dict["pupils.0.pupil_id"] == [
        "Elowen Ashdown is not on roll at Oak Academy on 04/12/2026; an incident is logged "
        "at the academy where the pupil was on roll that day."
    ]
    assert nothing_written()


def test_moved_pupil_counts_at_old_academy(world, cats):
    pupil = world.pupils["elm9e_ashdown"]
    elm = Enrolment.objects.get(pupil=pupil)
    elm.end_date = datetime.date(2026, 11, 30)
    elm.save()
    Enrolment.objects.create(
        pupil=pupil,
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        tutor_group=world.tutor_groups["9B"],
        start_date=datetime.date(2026, 12, 1),
    )
    at_elm = datetime.datetime(2026, 11, 20, 11, 0, tzinfo=clock.LONDON)

    incident = log_incident(
        world,
        "trust_leader",
        cats.disruption,
        ["elm9e_ashdown"],
        points=-2,
        academy_key="elm",
        occurred_at=at_elm,
    )

    assert incident.pupil_links.get().academy_id == world.academies["elm"].pk
    elm_totals = points_totals(IncidentPupil.objects.filter(academy=world.academies["elm"]))
    oak_totals = points_totals(IncidentPupil.objects.filter(academy=world.academies["oak"]))
    assert elm_totals.incident_count == 1
    assert oak_totals.incident_count == 0
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "trust_leader", cats.disruption, ["elm9e_ashdown"], occurred_at=at_elm)
    assert "not on roll at Oak Academy on 20/11/2026" in messages_of(caught.value)


# Date and category --------------------------------------------------------------


def test_future_time_rejected(world, cats):
    later = datetime.datetime(2026, 12, 4, 10, 1, tzinfo=datetime.UTC)
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.disruption, ["oak9b_patel"], occurred_at=later)

    assert caught.value.message_dict["occurred_at"] == [
        "Date and time 04/12/2026 10:01 are in the future; log an incident at or before "
        "04/12/2026 10:00."
    ]
    assert nothing_written()


def test_category_of_other_trust_rejected(world, cats):
    stranger = CategoryFactory(trust=TrustFactory(name="Other Trust"), name="Elsewhere")
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", stranger, ["oak9b_patel"])

    assert "is not a behaviour category of Oak Academy's trust" in messages_of(caught.value)
    assert nothing_written()


def test_other_academy_category_rejected(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.elm_merit, ["oak9b_patel"])

    assert caught.value.message_dict["category_id"] == [
        "Category Elm leaf belongs to another academy; choose a trust category or one of "
        "Oak Academy's own."
    ]
    assert nothing_written()


def test_retired_category_rejected(world, cats):
    cats.disruption.retired_on = datetime.date(2026, 12, 1)
    cats.disruption.save()
    before = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=clock.LONDON)

    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.disruption, ["oak9b_patel"])
    assert "was retired on 01/12/2026" in messages_of(caught.value)
    assert nothing_written()

    incident = log_incident(
        world, "headteacher", cats.disruption, ["oak9b_patel"], occurred_at=before
    )
    assert incident.date == datetime.date(2026, 11, 30)


def test_retired_parent_category_rejected(world, cats):
    cats.merit.retired_on = datetime.date(2026, 12, 1)
    cats.merit.save()

    with pytest.raises(ValidationError) as caught:
        log_incident(world, "headteacher", cats.oak_merit, ["oak9b_patel"], points=1)

    assert "which was retired on 01/12/2026" in messages_of(caught.value)
    assert nothing_written()


def test_reporter_from_other_trust_rejected(world, cats):
    outsider = StaffFactory()
    with pytest.raises(ValidationError) as caught:
        log_incident(
            world, "headteacher", cats.disruption, ["oak9b_patel"], reported_by_id=outsider.pk
        )

    assert "reported_by_id" in caught.value.message_dict
    assert nothing_written()


# Actions ------------------------------------------------------------------------


def log_with(world, cats, *actions, **kwargs):
    return log_incident(
        world, "head_of_year", cats.disruption, THREE, points=-2, actions=actions, **kwargs
    )


def test_detention_for_every_pupil(world, cats):
    detention = ActionInput(kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=30)
    incident = log_with(world, cats, detention)

    rows = incident.actions.all()
    assert rows.count() == 3
    assert {row.duration_minutes for row in rows} == {30}
    assert {row.attended for row in rows} == {None}


def test_detention_needs_date_and_minutes(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, ActionInput(kind="detention"))

    assert caught.value.message_dict["actions.0.date"] == [
        "Detention: the date is missing; enter the day it takes place."
    ]
    assert caught.value.message_dict["actions.0.duration_minutes"] == [
        "Detention minutes are missing; enter 1 to 240."
    ]
    assert nothing_written()


@pytest.mark.parametrize("minutes", [0, 241])
def test_detention_minutes_range(world, cats, minutes):
    detention = ActionInput(
        kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=minutes
    )
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, detention)

    assert caught.value.message_dict["actions.0.duration_minutes"] == [
        f"Detention minutes {minutes} are outside 1 to 240."
    ]
    assert nothing_written()


def test_attended_only_after_the_day(world, cats):
    future = ActionInput(
        kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=30, attended=True
    )
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, future)
    assert caught.value.message_dict["actions.0.attended"] == [
        "Attendance at the detention on 07/12/2026 can be recorded once that day has passed."
    ]
    assert nothing_written()

    earlier = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=clock.LONDON)
    past = ActionInput(
        kind="detention", date=datetime.date(2026, 12, 2), duration_minutes=30, attended=False
    )
    incident = log_with(world, cats, past, occurred_at=earlier)
    assert set(incident.actions.values_list("attended", flat=True)) == {False}


def test_detention_attended_recorded_later(world, cats):
    detention = ActionInput(kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=30)
    incident = log_with(world, cats, detention)
    action = incident.actions.first()
    assert action is not None

    with pytest.raises(ValidationError):
        action_update(actor=world.users["head_of_year"], action=action, attended=True)
    with time_machine.travel(datetime.datetime(2026, 12, 8, 9, 0), tick=False):
        saved = action_update(actor=world.users["head_of_year"], action=action, attended=True)
        assert saved.attended is True
        with pytest.raises(ValidationError) as caught:
            action_update(actor=world.users["head_of_year"], action=action, attended=False)
    assert "reason" in caught.value.message_dict


def test_isolation_needs_date(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, ActionInput(kind="isolation"))

    assert caught.value.message_dict["actions.0.date"] == [
        "Internal isolation or reflection: the date is missing; enter the day it takes place."
    ]
    assert nothing_written()


def test_parent_contact_rules(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, ActionInput(kind="parent_contact"))
    errors = caught.value.message_dict
    assert errors["actions.0.contact_method"] == [
        "How parents were contacted is missing; choose one of phone, email, letter, "
        "meeting, message."
    ]
    assert errors["actions.0.contacted_at"] == [
        "When parents were contacted is missing; enter the date and time."
    ]

    later = datetime.datetime(2026, 12, 4, 11, 0, tzinfo=clock.LONDON)
    with pytest.raises(ValidationError) as caught:
        log_with(
            world,
            cats,
            ActionInput(kind="parent_contact", contact_method="phone", contacted_at=later),
        )
    assert caught.value.message_dict["actions.0.contacted_at"] == [
        "Contacted at 04/12/2026 11:00 is in the future; enter a time at or before "
        "04/12/2026 10:00."
    ]
    assert nothing_written()


def test_referral_opens_follow_up(world, cats):
    lead = world.staff["safeguarding_lead"]
    obrien = world.pupils["oak9a_obrien"]
    referral = ActionInput(kind="referral", pupil_id=obrien.pk, referred_to_id=lead.pk)

    incident = log_with(world, cats, referral)

    action = incident.actions.get()
    assert action.pupil_id == obrien.pk
    follow_up = incident.follow_ups.get()
    assert follow_up.owner_id == lead.pk
    # No term dates recorded: five weekdays after Friday 04/12/2026.
    assert follow_up.due_on == datetime.date(2026, 12, 11)


def test_referral_due_on_given_date(world, cats):
    referral = ActionInput(
        kind="referral",
        referred_to_id=world.staff["safeguarding_lead"].pk,
        date=datetime.date(2026, 12, 8),
    )

    incident = log_with(world, cats, referral)

    assert incident.follow_ups.get().due_on == datetime.date(2026, 12, 8)
    assert set(incident.actions.values_list("date", flat=True)) == {None}


def test_contact_before_incident_rejected(world, cats):
    before = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=clock.LONDON)
    contact = ActionInput(kind="parent_contact", contact_method="email", contacted_at=before)

    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, contact)

    assert caught.value.message_dict["actions.0.contacted_at"] == [
        "Contacted at 04/12/2026 09:00 is before the incident at 04/12/2026 09:30; "
        "enter a later time."
    ]
    assert nothing_written()


def test_isolation_minutes_range(world, cats):
    isolation = ActionInput(kind="isolation", date=datetime.date(2026, 12, 7), duration_minutes=481)

    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, isolation)

    assert caught.value.message_dict["actions.0.duration_minutes"] == [
        "Internal isolation or reflection minutes 481 are outside 1 to 480."
    ]
    assert nothing_written()


def test_referral_needs_trust_staff(world, cats):
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, ActionInput(kind="referral"))
    assert caught.value.message_dict["actions.0.referred_to_id"] == [
        "Referred to is missing; choose a member of staff."
    ]

    outsider = StaffFactory()
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, ActionInput(kind="referral", referred_to_id=outsider.pk))
    assert caught.value.message_dict["actions.0.referred_to_id"] == [
        f"Staff member {outsider.pk} is not on the staff of the trust; choose a member of "
        "staff of the trust."
    ]
    assert nothing_written()


def test_follow_up_in_past_rejected(world, cats):
    follow_up = FollowUpInput(owner_id=world.staff["tutor"].pk, due_on=datetime.date(2026, 12, 3))
    with pytest.raises(ValidationError) as caught:
        log_with(world, cats, follow_up=follow_up)

    assert caught.value.message_dict["follow_up.due_on"] == [
        "Due date 03/12/2026 is in the past; choose today or later."
    ]
    assert nothing_written()


def test_follow_up_resolved_by_owner(world, cats):
    follow_up = FollowUpInput(owner_id=world.staff["tutor"].pk, due_on=datetime.date(2026, 12, 9))
    incident = log_with(world, cats, follow_up=follow_up)
    task = incident.follow_ups.get()

    with pytest.raises(PermissionDenied):
        follow_up_resolve(actor=world.users["attendance_officer"], follow_up=task, resolution="x")
    done = follow_up_resolve(
        actor=world.users["tutor"], follow_up=task, resolution="Spoke to Noah."
    )
    assert done.status == "resolved"
    with pytest.raises(ValidationError):
        follow_up_resolve(actor=world.users["tutor"], follow_up=task, resolution="Again.")


def test_action_add_out_of_scope_pupil(world, cats):
    incident = log_with(world, cats)
    patel = world.pupils["oak9b_patel"]

    with pytest.raises(Http404):
        action_add(
            actor=world.users["tutor"],
            incident=incident,
            action=ActionInput(
                kind="isolation", pupil_id=patel.pk, date=datetime.date(2026, 12, 7)
            ),
        )
    rows = action_add(
        actor=world.users["tutor"],
        incident=incident,
        action=ActionInput(kind="isolation", date=datetime.date(2026, 12, 7)),
    )
    # The 9A tutor may log for the two 9A pupils only.
    assert {row.pupil_id for row in rows} == {
        world.pupils["oak9a_obrien"].pk,
        world.pupils["oak9a_smithjones"].pk,
    }


# Group points -------------------------------------------------------------------


def test_group_points_one_incident(world, cats):
    ids = [world.pupils["oak9a_obrien"].pk, world.pupils["oak9a_smithjones"].pk]
    incident = group_points_log(
        actor=world.users["tutor"],
        pupil_ids=ids,
        academy_id=world.academies["oak"].pk,
        category_id=cats.merit.pk,
        points=None,
        occurred_at=LOGGED_AT,
        reported_by_id=world.staff["tutor"].pk,
    )

    assert Incident.objects.count() == 1
    assert sorted(incident.pupil_links.values_list("pupil_id", flat=True)) == sorted(ids)
    assert set(incident.pupil_links.values_list("points", flat=True)) == {1}


def test_group_points_negative_rejected(world, cats):
    with pytest.raises(ValidationError) as caught:
        group_points_log(
            actor=world.users["tutor"],
            pupil_ids=[world.pupils["oak9a_obrien"].pk],
            academy_id=world.academies["oak"].pk,
            category_id=cats.disruption.pk,
            points=-1,
            occurred_at=LOGGED_AT,
            reported_by_id=world.staff["tutor"].pk,
        )

    assert caught.value.message_dict["category_id"] == [
        "Category Disruption is negative; group points use a positive category."
    ]
    assert nothing_written()


# Corrections and deletes ---------------------------------------------------------


def test_correction_audited_with_reason(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"], points=-1)
    earlier = datetime.datetime(2026, 12, 3, 14, 0, tzinfo=clock.LONDON)

    incident_update(
        actor=world.users["head_of_year"],
        incident=incident,
        seen_version=1,
        reason="Wrong day and category",
        occurred_at=earlier,
        category_id=cats.merit.pk,
        pupils=[PupilEntry(world.pupils["oak9a_obrien"].pk, points=2)],
        description="Helped a visitor",
    )

    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.polarity == "positive"
    link = incident.pupil_links.get()
    assert link.date == datetime.date(2026, 12, 3)
    assert link.polarity == "positive"
    assert link.trust_category_id == cats.merit.pk
    assert link.points == 2
    event = AuditEvent.objects.get(
        model="behaviour.Incident", object_id=str(incident.pk), action="update"
    )
    assert event.reason == "Wrong day and category"
    assert event.actor == world.users["head_of_year"]
    assert event.changes["category_id"] == [cats.disruption.pk, cats.merit.pk]
    assert event.changes["description"] == ["", "Helped a visitor"]
    link_event = AuditEvent.objects.get(model="behaviour.IncidentPupil", action="update")
    assert link_event.changes["points"] == [-1, 2]
    assert link_event.pupil_ref == world.pupils["oak9a_obrien"].pk


def test_stale_version_names_who_changed(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"])
    incident_update(
        actor=world.users["head_of_year"],
        incident=incident,
        seen_version=1,
        reason="Typo",
        description="Shouted in class",
    )

    with pytest.raises(ValidationError) as caught:
        incident_update(
            actor=world.users["tutor"],
            incident=incident,
            seen_version=1,
            reason="Adding detail",
            description="Shouted",
        )

    message = messages_of(caught.value)
    assert "changed by head.of.year at 04/12/2026 10:00" in message
    assert "version 1, now 2" in message
    incident.refresh_from_db()
    assert incident.description == "Shouted in class"


def test_correction_needs_reason(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"])

    with pytest.raises(ValidationError) as caught:
        incident_update(
            actor=world.users["tutor"],
            incident=incident,
            seen_version=1,
            reason=" ",
            description="x",
        )

    assert caught.value.message_dict["reason"] == [
        "The reason for the correction is missing; say why it is changed."
    ]


def test_correction_only_by_allowed(world, cats):
    incident = log_incident(world, "head_of_year", cats.disruption, ["oak9a_obrien"])

    with pytest.raises(PermissionDenied):
        incident_update(
            actor=world.users["tutor"],
            incident=incident,
            seen_version=1,
            reason="r",
            description="x",
        )


def test_correction_keeps_points_in_range(world, cats):
    incident = log_incident(world, "tutor", cats.disruption, ["oak9a_obrien"], points=-2)

    with pytest.raises(ValidationError) as caught:
        incident_update(
            actor=world.users["tutor"],
            incident=incident,
            seen_version=1,
            reason="Wrong",
            category_id=cats.merit.pk,
        )

    assert "Points -2 are outside Merit's range of 1 to 3." in messages_of(caught.value)
    incident.refresh_from_db()
    assert incident.category_id == cats.disruption.pk


def test_delete_only_by_leaders(world, cats):
    incident = log_incident(world, "head_of_year", cats.disruption, THREE, points=-2)

    for key in ("tutor", "head_of_year", "attendance_officer"):
        with pytest.raises(PermissionDenied):
            incident_delete(actor=world.users[key], incident=incident, reason="Duplicate")
    with pytest.raises(ValidationError) as caught:
        incident_delete(actor=world.users["headteacher"], incident=incident, reason="")
    assert caught.value.message_dict["reason"] == [
        "The reason for deleting is missing; say why the incident is deleted."
    ]
    assert Incident.objects.filter(pk=incident.pk).exists()

    incident_pk = incident.pk
    incident_delete(actor=world.users["headteacher"], incident=incident, reason="Duplicate")

    assert not Incident.objects.exists()
    assert not IncidentPupil.objects.exists()
    deleted = AuditEvent.objects.filter(action="delete", reason="Duplicate")
    assert deleted.filter(model="behaviour.Incident", object_id=str(incident_pk)).count() == 1
    assert deleted.filter(model="behaviour.IncidentPupil").count() == 3
    assert set(deleted.values_list("actor_id", flat=True)) == {world.users["headteacher"].pk}

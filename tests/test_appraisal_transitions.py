"""The appraisal state machine: which action each status allows, the dates
and names each step records, and the two signatures on each document."""

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from appraisal import services
from appraisal.models import (
    STATUS_ORDER,
    Annotation,
    Appraisal,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    Signature,
)
from trust import clock
from trust.models import AuditEvent

from .factories_appraisal import cycle_2026, make_appraisal, sign
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

Status = Appraisal.Status
Kind = ObjectiveReview.Kind
Document = Signature.Document
Party = Signature.Party

APPRAISEE = "teacher"
APPRAISER = "head_of_year"


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
        "objectives": Objective.objects.count(),
        "reviews": ObjectiveReview.objects.count(),
        "signatures": Signature.objects.count(),
        "annotations": Annotation.objects.count(),
        "needs": DevelopmentNeed.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


# The state machine matrix ---------------------------------------------------------------


def _first_objective(appraisal: Appraisal) -> Objective:
    return appraisal.objectives.order_by("position").first()  # type: ignore[return-value]


def _objective_add(world: Personas, appraisal: Appraisal) -> object:
    return services.objective_save(
        world.users[APPRAISER],
        appraisal,
        title="Coach two early career teachers",
        success_criteria="Both complete their first year.",
        weighting=10,
    )


def _objective_edit(world: Personas, appraisal: Appraisal) -> object:
    objective = _first_objective(appraisal)
    return services.objective_save(
        world.users[APPRAISER],
        appraisal,
        objective=objective,
        title=objective.title + " (revised)",
        success_criteria=objective.success_criteria,
        weighting=objective.weighting,
    )


def _objective_delete(world: Personas, appraisal: Appraisal) -> object:
    services.objective_delete(world.users[APPRAISER], _first_objective(appraisal))
    return None


def _sign_objectives_appraisee(world: Personas, appraisal: Appraisal) -> object:
    return services.objectives_sign(world.users[APPRAISEE], appraisal)


def _sign_objectives_appraiser(world: Personas, appraisal: Appraisal) -> object:
    return services.objectives_sign(world.users[APPRAISER], appraisal)


def _review_mid_year(world: Personas, appraisal: Appraisal) -> object:
    return services.review_save(
        world.users[APPRAISER],
        _first_objective(appraisal),
        kind=Kind.MID_YEAR,
        appraiser_comment="On track.",
    )


def _review_final(world: Personas, appraisal: Appraisal) -> object:
    return services.review_save(
        world.users[APPRAISER], _first_objective(appraisal), kind=Kind.FINAL, outcome="met"
    )


def _mid_year_complete(world: Personas, appraisal: Appraisal) -> object:
    return services.mid_year_complete(world.users[APPRAISER], appraisal, comment="Good start.")


def _outcomes_recorded(appraisal: Appraisal) -> None:
    """Give every objective a final outcome, so only the status decides the result."""
    for objective in appraisal.objectives.all():
        ObjectiveReview.objects.get_or_create(
            objective=objective, kind=Kind.FINAL, defaults={"outcome": "met"}
        )


def _final_review_complete(world: Personas, appraisal: Appraisal) -> object:
    return services.final_review_complete(world.users[APPRAISER], appraisal, summary="A good year.")


def _final_sign_appraisee(world: Personas, appraisal: Appraisal) -> object:
    return services.final_sign(world.users[APPRAISEE], appraisal)


def _final_sign_appraiser(world: Personas, appraisal: Appraisal) -> object:
    return services.final_sign(world.users[APPRAISER], appraisal)


def _annotation_add(world: Personas, appraisal: Appraisal) -> object:
    return services.annotation_add(world.users[APPRAISEE], appraisal, text="Moved to part time.")


# Action name -> (call, the one status that allows it).
ACTIONS: dict[str, tuple[Callable[[Personas, Appraisal], object], str]] = {
    "objective_add": (_objective_add, Status.DRAFT),
    "objective_edit": (_objective_edit, Status.DRAFT),
    "objective_delete": (_objective_delete, Status.DRAFT),
    "objectives_sign_appraisee": (_sign_objectives_appraisee, Status.DRAFT),
    "objectives_sign_appraiser": (_sign_objectives_appraiser, Status.DRAFT),
    "review_mid_year": (_review_mid_year, Status.OBJECTIVES_AGREED),
    "review_final": (_review_final, Status.MID_YEAR_REVIEWED),
    "mid_year_complete": (_mid_year_complete, Status.OBJECTIVES_AGREED),
    "final_review_complete": (_final_review_complete, Status.MID_YEAR_REVIEWED),
    "final_sign_appraisee": (_final_sign_appraisee, Status.FINAL_REVIEWED),
    "final_sign_appraiser": (_final_sign_appraiser, Status.FINAL_REVIEWED),
    "annotation_add": (_annotation_add, Status.SIGNED_OFF),
}

CASES = [
    pytest.param(action, status, id=f"{action}-{status}")
    for action in ACTIONS
    for status in STATUS_ORDER
]


@pytest.mark.parametrize(("action", "status"), CASES)
def test_status_allows_action(world, cycle, action, status):
    appraisal = appraisal_at(world, cycle, status)
    call, allowed_status = ACTIONS[action]
    if action == "final_review_complete":
        _outcomes_recorded(appraisal)
    before = row_counts()

    if status == allowed_status:
        call(world, appraisal)
        assert row_counts() != before
        return

    with pytest.raises(ValidationError) as raised:
        call(world, appraisal)
    assert list(raised.value.message_dict) == ["status"]
    message = raised.value.message_dict["status"][0]
    if status == Status.SIGNED_OFF:
        assert "signed off on 04/12/2026" in message
        assert "annotation" in message
    elif action == "annotation_add":
        assert "signed-off appraisals only" in message
    else:
        assert f"'{Status(status).label}'" in message
    assert row_counts() == before
    appraisal.refresh_from_db()
    assert appraisal.status == status


def test_each_status_allows_something(world):
    allowed = {status for _, status in ACTIONS.values()}
    assert allowed == set(STATUS_ORDER)


# Each step records its date and who took it ------------------------------------------


def test_objectives_need_both_signatures(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    after_one = services.objectives_sign(world.users[APPRAISEE], appraisal)
    assert after_one.status == Status.DRAFT
    assert after_one.objectives_agreed_at is None

    after_two = services.objectives_sign(world.users[APPRAISER], appraisal)
    assert after_two.status == Status.OBJECTIVES_AGREED
    assert after_two.objectives_agreed_at == clock.now()
    assert after_two.objectives_agreed_by == world.staff[APPRAISER]
    parties = set(
        Signature.objects.filter(appraisal=appraisal, document=Document.OBJECTIVES).values_list(
            "party", "staff_id"
        )
    )
    assert parties == {
        (Party.APPRAISEE, world.staff[APPRAISEE].pk),
        (Party.APPRAISER, world.staff[APPRAISER].pk),
    }


def test_second_signer_agrees_objectives(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    services.objectives_sign(world.users[APPRAISER], appraisal)
    agreed = services.objectives_sign(world.users[APPRAISEE], appraisal)

    assert agreed.status == Status.OBJECTIVES_AGREED
    assert agreed.objectives_agreed_by == world.staff[APPRAISEE]


def test_signing_again_replaces_signature(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    services.objectives_sign(
        world.users[APPRAISEE], appraisal, agrees=False, comment="Too many objectives."
    )

    services.objectives_sign(world.users[APPRAISEE], appraisal, agrees=True)

    signatures = Signature.objects.filter(appraisal=appraisal)
    assert signatures.count() == 1
    assert signatures.get().agrees is True
    assert signatures.get().comment == ""


def test_appraisee_disagreement_recorded(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    services.objectives_sign(
        world.users[APPRAISEE],
        appraisal,
        agrees=False,
        comment="The reading target ignores the timetable cut.",
    )
    agreed = services.objectives_sign(world.users[APPRAISER], appraisal)

    assert agreed.status == Status.OBJECTIVES_AGREED
    signature = Signature.objects.get(appraisal=appraisal, party=Party.APPRAISEE)
    assert signature.agrees is False
    assert signature.comment == "The reading target ignores the timetable cut."
    assert signature.signed_at == clock.now()


def test_disagreement_needs_comment(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    with pytest.raises(ValidationError) as raised:
        services.objectives_sign(world.users[APPRAISEE], appraisal, agrees=False, comment="  ")

    assert "comment" in raised.value.message_dict
    assert "required when you sign without agreeing" in raised.value.message_dict["comment"][0]
    assert not Signature.objects.exists()


def test_appraiser_cannot_sign_disagreeing(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)

    with pytest.raises(ValidationError) as raised:
        services.objectives_sign(world.users[APPRAISER], appraisal, agrees=False, comment="No.")

    assert "agrees" in raised.value.message_dict
    assert not Signature.objects.exists()


@pytest.mark.parametrize("signer", [APPRAISEE, APPRAISER])
def test_objective_edit_clears_signatures(world, cycle, signer):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    services.objectives_sign(world.users[signer], appraisal)
    assert Signature.objects.filter(appraisal=appraisal).count() == 1

    _objective_edit(world, appraisal)

    assert not Signature.objects.filter(appraisal=appraisal).exists()
    deleted = AuditEvent.objects.filter(model="appraisal.Signature", action="delete")
    assert deleted.count() == 1


def test_objective_add_clears_signatures(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    services.objectives_sign(world.users[APPRAISEE], appraisal)

    _objective_add(world, appraisal)

    assert not Signature.objects.filter(appraisal=appraisal).exists()


def test_objective_delete_clears_signatures(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    services.objectives_sign(world.users[APPRAISEE], appraisal)

    _objective_delete(world, appraisal)

    assert not Signature.objects.filter(appraisal=appraisal).exists()
    assert appraisal.objectives.count() == 1


def test_mid_year_dated_and_by_whom(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)

    done = services.mid_year_complete(world.users[APPRAISER], appraisal, comment=" On track. ")

    assert done.status == Status.MID_YEAR_REVIEWED
    assert done.mid_year_reviewed_at == clock.now()
    assert done.mid_year_reviewed_by == world.staff[APPRAISER]
    assert done.mid_year_comment == "On track."


def test_final_review_dated_and_by_whom(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)
    for objective in appraisal.objectives.all():
        services.review_save(world.users[APPRAISER], objective, kind=Kind.FINAL, outcome="met")

    done = services.final_review_complete(
        world.users["headteacher"],
        appraisal,
        summary="Both objectives met.",
        pay_recommendation="Progress to the next point on the main pay range.",
        development_needs=["Training in leading adults", "", "  "],
    )

    assert done.status == Status.FINAL_REVIEWED
    assert done.final_reviewed_at == clock.now()
    assert done.final_reviewed_by == world.staff["headteacher"]
    assert done.summary == "Both objectives met."
    assert done.pay_recommendation == "Progress to the next point on the main pay range."
    needs = list(DevelopmentNeed.objects.filter(appraisal=appraisal))
    assert [need.description for need in needs] == ["Training in leading adults"]


def test_final_review_needs_both_signatures(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.FINAL_REVIEWED)

    after_one = services.final_sign(
        world.users[APPRAISEE], appraisal, agrees=False, comment="The outcome of 2 is harsh."
    )
    assert after_one.status == Status.FINAL_REVIEWED
    assert after_one.signed_off_at is None

    after_two = services.final_sign(world.users[APPRAISER], appraisal)
    assert after_two.status == Status.SIGNED_OFF
    assert after_two.signed_off_at == clock.now()
    assert after_two.signed_off_by == world.staff[APPRAISER]
    disagreement = Signature.objects.get(
        appraisal=appraisal, document=Document.FINAL_REVIEW, party=Party.APPRAISEE
    )
    assert disagreement.agrees is False
    assert disagreement.comment == "The outcome of 2 is harsh."


def test_final_disagreement_needs_comment(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.FINAL_REVIEWED)
    before = row_counts()

    with pytest.raises(ValidationError) as raised:
        services.final_sign(world.users[APPRAISEE], appraisal, agrees=False)

    assert "comment" in raised.value.message_dict
    assert row_counts() == before


def test_status_change_audited(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.OBJECTIVES_AGREED)
    AuditEvent.objects.all().delete()

    services.mid_year_complete(world.users[APPRAISER], appraisal)

    event = AuditEvent.objects.get(model="appraisal.Appraisal", action="update")
    assert event.actor == world.users[APPRAISER]
    assert event.staff_ref == world.staff[APPRAISEE].pk
    assert event.changes["status"] == [Status.OBJECTIVES_AGREED, Status.MID_YEAR_REVIEWED]
    assert event.changes["mid_year_reviewed_by_id"] == [None, world.staff[APPRAISER].pk]


def test_whole_cycle_in_order(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT, objectives=())
    appraiser = world.users[APPRAISER]
    appraisee = world.users[APPRAISEE]
    first = services.objective_save(
        appraiser, appraisal, title="Raise Year 10 attainment", success_criteria="x", weighting=70
    )
    second = services.objective_save(
        appraiser, appraisal, title="Run the debate club", success_criteria="y", weighting=30
    )
    seen = [appraisal.status]

    services.objectives_sign(appraisee, appraisal)
    seen.append(services.objectives_sign(appraiser, appraisal).status)
    services.review_save(appraisee, first, kind=Kind.MID_YEAR, self_review="Going well.")
    seen.append(services.mid_year_complete(appraiser, appraisal).status)
    services.review_save(appraiser, first, kind=Kind.FINAL, outcome="met")
    services.review_save(appraiser, second, kind=Kind.FINAL, outcome="not_applicable")
    seen.append(services.final_review_complete(appraiser, appraisal, summary="Done.").status)
    services.final_sign(appraisee, appraisal)
    seen.append(services.final_sign(appraiser, appraisal).status)

    assert seen == STATUS_ORDER
    assert [o.position for o in appraisal.objectives.all()] == [1, 2]


def test_appraiser_change_drops_pending_signature(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.DRAFT)
    sign(appraisal, Document.OBJECTIVES, Party.APPRAISER)
    sign(appraisal, Document.OBJECTIVES, Party.APPRAISEE)

    changed = services.appraiser_set(world.users["headteacher"], appraisal, world.staff["tutor"])

    assert changed.appraiser == world.staff["tutor"]
    assert changed.status == Status.DRAFT
    assert not Signature.objects.filter(appraisal=appraisal, party=Party.APPRAISER).exists()
    assert Signature.objects.filter(appraisal=appraisal, party=Party.APPRAISEE).exists()


def test_appraiser_change_keeps_agreed_signatures(world, cycle):
    appraisal = appraisal_at(world, cycle, Status.MID_YEAR_REVIEWED)

    services.appraiser_set(world.users["trust_hr"], appraisal, world.staff["tutor"])

    objectives_signatures = Signature.objects.filter(
        appraisal=appraisal, document=Document.OBJECTIVES
    )
    assert objectives_signatures.count() == 2
    assert objectives_signatures.get(party=Party.APPRAISER).staff == world.staff[APPRAISER]


def test_appraiser_chosen_after_appraisee_signs(world, cycle):
    appraisal = make_appraisal(cycle, world.staff[APPRAISEE], None)
    services.objectives_sign(world.users[APPRAISEE], appraisal)
    assert Signature.objects.filter(appraisal=appraisal).count() == 1

    services.appraiser_set(world.users["headteacher"], appraisal, world.staff[APPRAISER])
    agreed = services.objectives_sign(world.users[APPRAISER], appraisal)

    assert agreed.status == Status.OBJECTIVES_AGREED
    assert agreed.objectives_agreed_by == world.staff[APPRAISER]

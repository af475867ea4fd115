"""Appraisal pages: who may be chosen as appraiser, no preselected agreement
when signing, notices in place of forms that cannot be used, required-field
messages, lower-case labels inside sentences and the overdue count on the
appraisees list."""

import datetime
import html
import re

import pytest
import time_machine
from django.urls import reverse

from appraisal import views
from appraisal.cycle_forms import deadline_field_name, deadline_keys
from appraisal.deadlines import deadline_table, next_due
from appraisal.models import (
    Appraisal,
    Deadline,
    Measure,
    MeasureScope,
    Signature,
    Stage,
    Track,
)
from appraisal.pages_context import overdue_condition

from .factories import StaffFactory
from .factories_appraisal import cycle_2026, make_appraisal, make_objective
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


def visible_text(response) -> str:
    """The page's text with tags removed and spaces collapsed."""
    body = response.content.decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def option_ids(response, name: str) -> set[int]:
    """The ids offered by the <select> named `name`."""
    body = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None, f"no <select name={name!r}> on the page"
    return {int(value) for value in re.findall(r'<option value="(\d+)"', select.group(1))}


# Choosing the appraiser ----------------------------------------------------------------


def test_appraiser_choices_include_central_team(client, world):
    head = world.staff["headteacher"]
    ceo = world.staff["trust_leader"]
    left_central = StaffFactory(academy=None, left_on=TODAY.date() - datetime.timedelta(days=1))
    elm_teacher = world.staff["elm_teacher"]
    appraisal = make_appraisal(world.cycle, head, ceo)
    assert appraisal.track == "headteacher"

    response = get(client, world.users["trust_hr"], "appraisal:appraiser", appraisal.pk)

    assert response.status_code == 200
    offered = option_ids(response, "appraiser")
    assert ceo.pk in offered
    assert world.staff["trust_hr"].pk in offered
    # A headteacher is appraised by the trust, not by their own staff.
    assert world.staff["teacher"].pk not in offered
    assert head.pk not in offered
    assert left_central.pk not in offered
    assert world.staff["trustee"].pk not in offered
    assert elm_teacher.pk not in offered


def test_appraiser_choices_for_a_teacher_include_their_academy(client, world):
    appraisal = appraisal_of(world)

    response = get(client, world.users["trust_hr"], "appraisal:appraiser", appraisal.pk)

    offered = option_ids(response, "appraiser")
    assert world.staff["headteacher"].pk in offered
    assert world.staff["head_of_year"].pk in offered
    assert world.staff["trust_leader"].pk in offered
    assert world.staff["teacher"].pk not in offered
    assert world.staff["elm_teacher"].pk not in offered


def test_appraiser_choices_keep_current_appraiser(client, world):
    elm_teacher = world.staff["elm_teacher"]
    appraisal = make_appraisal(world.cycle, world.staff["teacher"], elm_teacher)

    response = get(client, world.users["trust_hr"], "appraisal:appraiser", appraisal.pk)

    assert elm_teacher.pk in option_ids(response, "appraiser")


def test_headteacher_appraiser_set_to_central_team(client, world):
    head = world.staff["headteacher"]
    appraisal = make_appraisal(world.cycle, head, world.staff["academy_leader"])

    response = post(
        client,
        world.users["trust_hr"],
        "appraisal:appraiser",
        appraisal.pk,
        appraiser=str(world.staff["trust_leader"].pk),
    )

    assert response.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.appraiser == world.staff["trust_leader"]


# Signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [(Status.DRAFT, "appraisal:objectives-sign"), (Status.FINAL_REVIEWED, "appraisal:final-sign")],
)
def test_appraisee_sign_form_preselects_nothing(client, world, status, name):
    appraisal = appraisal_of(world, status=status)

    response = get(client, world.users["teacher"], name, appraisal.pk)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="yes"' in body
    assert 'value="no"' in body
    assert "checked" not in body


@pytest.mark.parametrize(
    ("status", "name", "document"),
    [
        (Status.DRAFT, "appraisal:objectives-sign", Signature.Document.OBJECTIVES),
        (Status.FINAL_REVIEWED, "appraisal:final-sign", Signature.Document.FINAL_REVIEW),
    ],
)
def test_appraisee_sign_without_choice_is_400(client, world, status, name, document):
    appraisal = appraisal_of(world, status=status)

    response = post(
        client, world.users["teacher"], name, appraisal.pk, comment="Objective two is unfair."
    )

    assert response.status_code == 400
    text = visible_text(response)
    assert "Not signed" in text
    assert "Do you agree? Choose 'I agree' or 'I disagree' before signing." in text
    assert not Signature.objects.filter(
        appraisal=appraisal, document=document, party=Signature.Party.APPRAISEE
    ).exists()


def test_appraisee_agrees_with_comment(client, world):
    appraisal = appraisal_of(world)

    response = post(
        client,
        world.users["teacher"],
        "appraisal:objectives-sign",
        appraisal.pk,
        agrees="yes",
        comment="Agreed at our meeting.",
    )

    assert response.status_code == 302
    signature = Signature.objects.get(appraisal=appraisal, party=Signature.Party.APPRAISEE)
    assert signature.agrees is True
    assert signature.comment == "Agreed at our meeting."


def test_appraiser_signs_without_choice(client, world):
    appraisal = appraisal_of(world)

    response = post(
        client, world.users["academy_leader"], "appraisal:objectives-sign", appraisal.pk
    )

    assert response.status_code == 302
    signature = Signature.objects.get(appraisal=appraisal, party=Signature.Party.APPRAISER)
    assert signature.agrees is True


# Required fields ---------------------------------------------------------------------------


def test_final_review_missing_summary(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)

    response = post(client, world.users["academy_leader"], "appraisal:final-review", appraisal.pk)

    assert response.status_code == 400
    body = visible_text(response)
    assert (
        "Summary of the year: The summary of the year is missing; enter how the year went "
        "overall." in body
    )
    assert "This field is required" not in body


def test_annotation_missing_text(client, world):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)

    response = post(client, world.users["teacher"], "appraisal:annotate", appraisal.pk)

    assert response.status_code == 400
    body = visible_text(response)
    assert "Note: The note is missing; enter the text to add to the record." in body
    assert "This field is required" not in body


def test_appraiser_change_missing_choice(client, world):
    appraisal = appraisal_of(world)

    response = post(client, world.users["headteacher"], "appraisal:appraiser", appraisal.pk)

    assert response.status_code == 400
    body = visible_text(response)
    assert "Appraiser: The appraiser is missing; choose one from the list." in body
    assert "This field is required" not in body


def test_review_unknown_outcome(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)
    objective = appraisal.objectives.first()

    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:review",
        objective.pk,
        "final",
        outcome="smashed",
    )

    assert response.status_code == 400
    assert "Outcome 'smashed' is not one of the choices" in visible_text(response)


# Overdue count on the appraisees list -------------------------------------------------------


def test_appraisees_overdue_counts_whole_list(client, world, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    appraisal_of(world)
    make_appraisal(world.cycle, world.staff["tutor"], world.staff["head_of_year"])
    make_appraisal(
        world.cycle,
        world.staff["head_of_year"],
        world.staff["academy_leader"],
        status=Status.OBJECTIVES_AGREED,
    )

    response = get(client, world.users["headteacher"], "appraisal:appraisees")

    assert response.status_code == 200
    body = visible_text(response)
    assert "2 of 3 appraisals are past a deadline." in body
    assert "on this page" not in body


def test_appraisees_overdue_count_follows_filter(client, world):
    appraisal_of(world)
    make_appraisal(
        world.cycle,
        world.staff["tutor"],
        world.staff["head_of_year"],
        status=Status.OBJECTIVES_AGREED,
    )

    response = get(
        client, world.users["headteacher"], "appraisal:appraisees", status="objectives_agreed"
    )

    body = visible_text(response)
    assert "Tutor Persona" in body
    assert "past a deadline" not in body


def test_overdue_condition_matches_next_due(world):
    # Oak moves its objectives date past today, so Oak's drafts are not yet overdue.
    Deadline.objects.create(
        cycle=world.cycle,
        academy=world.academies["oak"],
        track=Track.STAFF,
        stage=Stage.OBJECTIVES,
        due=datetime.date(2026, 12, 18),
    )
    appraisals = [
        appraisal_of(world),
        make_appraisal(world.cycle, world.staff["elm_teacher"], None),
        make_appraisal(world.cycle, world.staff["trust_admin"], world.staff["trust_leader"]),
        make_appraisal(world.cycle, world.staff["headteacher"], world.staff["trust_leader"]),
        make_appraisal(
            world.cycle,
            world.staff["tutor"],
            world.staff["head_of_year"],
            status=Status.SIGNED_OFF,
        ),
    ]
    table = deadline_table(world.cycle)
    today = TODAY.date()

    matched = set(
        Appraisal.objects.filter(overdue_condition(table, today)).values_list("pk", flat=True)
    )

    expected = set()
    for appraisal in appraisals:
        due = next_due(appraisal, table, today)
        if due is not None and due.overdue:
            expected.add(appraisal.pk)
    assert matched == expected
    assert matched == {appraisals[1].pk, appraisals[2].pk}


# Labels inside sentences -------------------------------------------------------------------


def test_measure_scope_shown_apart_from_measure(client, world):
    appraisal = appraisal_of(world, objectives=())
    make_objective(
        appraisal,
        "Raise maths attainment",
        100,
        measure=Measure.TMG_LATEST,
        measure_scope=MeasureScope.OWN_CLASSES,
        target_value=80,
    )

    body = visible_text(get(client, world.users["teacher"], "appraisal:detail", appraisal.pk))

    assert (
        "Live measure Pupils on or above TMG at the latest assessment point (%) "
        "Whose figures The appraisee's classes" in body
    )
    assert "(%), The" not in body


def test_review_refused_message_lower_case(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    objective = appraisal.objectives.first()

    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:review",
        objective.pk,
        "final",
        appraiser_comment="Met.",
    )

    assert response.status_code in (400, 409)
    body = visible_text(response)
    assert "The final review is possible only while the appraisal is" in body
    assert "The Final review" not in body


def test_deadline_order_message_lower_case(client, world):
    dates = deadline_table(world.cycle).trust
    data = {
        deadline_field_name(track, stage): dates[(track, stage)].strftime("%d/%m/%Y")
        for track, stage in deadline_keys()
    }
    data["staff_mid_year"] = "01/10/2026"

    response = post(
        client, world.users["trust_hr"], "appraisal:cycle-deadlines", world.cycle.pk, **data
    )

    body = visible_text(response)
    assert response.status_code == 400
    assert (
        "The mid-year review deadline for teachers and other staff 01/10/2026 must be after "
        "the objectives agreed deadline 31/10/2026." in body
    )
    assert "Mid-year review deadline for" not in body


# Forms that cannot be used at the appraisal's status ---------------------------------------

SIGNED_OFF_NOTICE = "This appraisal was signed off on 04/12/2026 and can no longer be edited"


def assert_notice_without_form(response, notice: str) -> None:
    assert response.status_code == 409
    body = visible_text(response)
    assert notice in body
    main = response.content.decode().split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert "<form" not in main
    assert "<textarea" not in main


@pytest.mark.parametrize(
    ("persona", "name", "on_objective"),
    [
        ("academy_leader", "appraisal:objective-add", False),
        ("academy_leader", "appraisal:objective-edit", True),
        ("academy_leader", "appraisal:objective-delete", True),
        ("academy_leader", "appraisal:mid-year", False),
        ("academy_leader", "appraisal:final-review", False),
        ("teacher", "appraisal:objectives-sign", False),
        ("teacher", "appraisal:final-sign", False),
        ("headteacher", "appraisal:appraiser", False),
    ],
)
def test_signed_off_form_get_shows_notice(client, world, persona, name, on_objective):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    target = appraisal.objectives.first().pk if on_objective else appraisal.pk

    response = get(client, world.users[persona], name, target)

    assert_notice_without_form(response, SIGNED_OFF_NOTICE)
    body = response.content.decode()
    assert reverse("appraisal:annotate", args=[appraisal.pk]) in body
    assert reverse("appraisal:detail", args=[appraisal.pk]) in body


@pytest.mark.parametrize("kind", ["mid_year", "final"])
def test_signed_off_review_get_shows_notice(client, world, kind):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)
    objective = appraisal.objectives.first()

    response = get(client, world.users["teacher"], "appraisal:review", objective.pk, kind)

    assert_notice_without_form(response, SIGNED_OFF_NOTICE)


def test_agreed_objective_edit_shows_notice(client, world):
    appraisal = appraisal_of(world, status=Status.OBJECTIVES_AGREED)
    objective = appraisal.objectives.first()

    response = get(client, world.users["academy_leader"], "appraisal:objective-edit", objective.pk)

    assert_notice_without_form(
        response,
        "Changing objectives is possible only while the appraisal is 'Draft'; this appraisal "
        "is 'Objectives agreed'.",
    )
    assert reverse("appraisal:annotate", args=[appraisal.pk]) not in response.content.decode()


def test_review_before_agreement_shows_notice(client, world):
    appraisal = appraisal_of(world)
    objective = appraisal.objectives.first()

    response = get(client, world.users["teacher"], "appraisal:review", objective.pk, "mid_year")

    assert_notice_without_form(
        response,
        "Reviews start once the appraisee and the appraiser have both signed the objectives",
    )


def test_final_sign_early_shows_notice(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)

    response = get(client, world.users["teacher"], "appraisal:final-sign", appraisal.pk)

    assert_notice_without_form(
        response,
        "Signing the final review is possible only while the appraisal is 'Final reviewed'",
    )


def test_final_review_get_when_open_shows_form(client, world):
    appraisal = appraisal_of(world, status=Status.MID_YEAR_REVIEWED)

    response = get(client, world.users["academy_leader"], "appraisal:final-review", appraisal.pk)

    assert response.status_code == 200
    assert 'name="summary"' in response.content.decode()


def test_annotate_get_on_draft_shows_notice(client, world):
    appraisal = appraisal_of(world)

    response = get(client, world.users["teacher"], "appraisal:annotate", appraisal.pk)

    assert_notice_without_form(response, "Annotations are added to signed-off appraisals only")


def test_locked_form_post_still_rejected(client, world):
    appraisal = appraisal_of(world, status=Status.SIGNED_OFF)

    response = post(
        client,
        world.users["academy_leader"],
        "appraisal:objective-add",
        appraisal.pk,
        title="Late objective",
        success_criteria="Never written.",
        weighting="10",
    )

    assert response.status_code == 400
    assert SIGNED_OFF_NOTICE in visible_text(response)
    assert appraisal.objectives.filter(title="Late objective").count() == 0

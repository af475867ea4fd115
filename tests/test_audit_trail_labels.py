"""Audit trail pages name records, fields and values as a reader knows them."""

import pytest
import time_machine
from django.urls import reverse

from pupils.models import SenStatus
from trust.audit import acting_as
from trust.models import AuditEvent
from trust.selectors import audit_rows

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    return build_personas()


def trail(client, user, name, pk) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_pupil_trail_shows_labels_not_attributes(client, world):
    pupil = world.pupils["oak9b_patel"]
    pupil.sen_status = SenStatus.NONE
    pupil.save()
    with acting_as(world.users["trust_admin"], "Pupil import: autumn.csv"):
        pupil.sen_status = SenStatus.SEN_SUPPORT
        pupil.save()

    body = trail(client, world.users["trust_admin"], "pupils:audit", pupil.pk)

    assert f"Pupil: {pupil.display_name}" in body
    assert f"pupils.Pupil {pupil.pk}" not in body
    assert "SEN status" in body
    assert "sen_status" not in body
    assert "No special educational needs" in body
    assert "SEN support" in body
    assert "Pupil import: autumn.csv" in body
    assert '<th scope="col">Reason</th>' in body


def test_staff_trail_shows_field_verbose_name(client, world):
    member = world.staff["teacher"]
    member.job_title = "Head of English"
    member.save()

    body = trail(client, world.users["trust_admin"], "staff:audit", member.pk)

    assert "Job title" in body
    assert "job_title" not in body
    assert "Head of English" in body


def test_audit_rows_label_choices_and_booleans(world):
    pupil = world.pupils["oak9b_patel"]
    event = AuditEvent(
        action=AuditEvent.Action.UPDATE,
        model="pupils.Pupil",
        object_id=str(pupil.pk),
        object_repr="Patel, Isla",
        changes={"sen_status": ["N", "E"], "eal": [False, True]},
    )

    rows = audit_rows([event])

    assert [row.field for row in rows] == [
        "English as an additional language",
        "SEN status",
    ]
    assert (rows[0].before, rows[0].after) == ("No", "Yes")
    assert rows[1].before == "No special educational needs"
    assert rows[1].after == "Education, health and care plan"
    assert rows[0].record == "Pupil: Patel, Isla"


def test_audit_rows_keep_raw_names_for_unknown_model():
    event = AuditEvent(
        action=AuditEvent.Action.DELETE,
        model="retired.Thing",
        object_id="7",
        object_repr="Old thing",
        changes={"colour": ["red", None]},
    )

    [row] = audit_rows([event])

    assert row.record == "retired.Thing 7"
    assert row.field == "colour"
    assert row.before == "red"
    assert row.after is None


def test_audit_rows_keep_raw_name_for_unknown_field(world):
    pupil = world.pupils["oak9b_patel"]
    event = AuditEvent(
        action=AuditEvent.Action.UPDATE,
        model="pupils.Pupil",
        object_id=str(pupil.pk),
        object_repr="Patel, Isla",
        changes={"dropped_column": [1, 2]},
    )

    [row] = audit_rows([event])

    assert row.field == "dropped_column"
    assert (row.before, row.after) == (1, 2)


def test_sensitive_page_view_reason_in_trail(client, world):
    pupil = world.pupils["oak9a_obrien"]
    client.force_login(world.users["safeguarding_lead"])
    assert client.get(reverse("pupils:sensitive", args=[pupil.pk])).status_code == 200

    event = AuditEvent.objects.get(pupil_ref=pupil.pk, action=AuditEvent.Action.VIEW_SENSITIVE)
    assert event.reason == "Shown on the sensitive fields page"

    body = trail(client, world.users["trust_admin"], "pupils:audit", pupil.pk)
    assert "Shown on the sensitive fields page" in body
    assert "Medical notes, Safeguarding notes, SEN needs" in body


def test_printed_profile_reason_in_trail(client, world):
    pupil = world.pupils["oak9a_obrien"]
    client.force_login(world.users["safeguarding_lead"])
    response = client.get(reverse("pupils:profile-pdf", args=[pupil.pk]))
    assert response.status_code == 200

    event = AuditEvent.objects.get(pupil_ref=pupil.pk, action=AuditEvent.Action.VIEW_SENSITIVE)
    assert event.reason == "Printed in the pupil profile PDF"

    body = trail(client, world.users["trust_admin"], "pupils:audit", pupil.pk)
    assert "Printed in the pupil profile PDF" in body

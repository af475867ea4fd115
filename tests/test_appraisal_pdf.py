"""The PDF of a signed-off appraisal record: its content read back with
pdftotext, names in any script, who may download it, and the refusal
before sign-off."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from appraisal.models import (
    Annotation,
    Appraisal,
    DevelopmentNeed,
    Measure,
    MeasureScope,
    Signature,
    Standard,
)
from staff.models import PostType

from .factories import StaffFactory, UserFactory
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas
from .test_pdf import normalised, pdf_fonts, pdf_text

Status = Appraisal.Status
UNICODE_NAME = ("Zoë Nguyễn", "王芳")
SIGNED_AT = datetime.datetime(2026, 11, 20, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(db):
    """Personas with a signed-off appraisal of a teacher at Oak whose name
    mixes Latin letters with diacritics and Chinese characters."""
    people = build_personas()
    people.cycle = cycle_2026(people)
    people.appraisee = StaffFactory(
        user=UserFactory(username="zoe.nguyen"),
        academy=people.academies["oak"],
        first_name=UNICODE_NAME[0],
        last_name=UNICODE_NAME[1],
        job_title="Teacher of Mathematics",
        post_type=PostType.TEACHER,
    )
    appraisal = make_appraisal(
        people.cycle,
        people.appraisee,
        people.staff["headteacher"],
        status=Status.SIGNED_OFF,
        objectives=[
            ("Raise Year 10 maths attainment against TMG", 60),
            ("Improve attendance of tutor group 9A", 40),
        ],
        outcomes=["met", "partly_met"],
        at=SIGNED_AT,
    )

    first, second = appraisal.objectives.order_by("position")
    first.standards.add(Standard.objects.get(code="TS2"))
    second.measure = Measure.ATTENDANCE
    second.measure_scope = MeasureScope.TUTOR_GROUP
    second.measure_tutor_group = people.tutor_groups["9A"]
    second.target_value = Decimal("96.5")
    second.support = "Weekly meeting with the attendance officer."
    second.save()

    Signature.objects.filter(
        appraisal=appraisal, document="final_review", party="appraisee"
    ).update(agrees=False, comment="I think objective two was fully met.")
    DevelopmentNeed.objects.create(appraisal=appraisal, description="Coaching on middle leadership")
    Annotation.objects.create(
        appraisal=appraisal,
        author=people.staff["trust_hr"],
        text="Pay panel accepted the recommendation.",
    )
    appraisal.pay_recommendation = "Progress to the next point on the main pay range."
    appraisal.save()
    people.appraisal = appraisal
    return people


def download(client, user, appraisal):
    client.force_login(user)
    return client.get(reverse("appraisal:record-pdf", args=[appraisal.pk]))


def record_text(client, world, tmp_path, persona="headteacher") -> str:
    user = world.appraisee.user if persona == "appraisee" else world.users[persona]
    response = download(client, user, world.appraisal)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return normalised(pdf_text(response.content, tmp_path))


def test_record_pdf_header_facts(client, world, tmp_path):
    text = record_text(client, world, tmp_path)
    assert "Appraisal record: Zoë Nguyễn 王芳" in text
    assert "Teacher of Mathematics" in text
    assert "Oak Academy" in text
    assert "Headteacher Persona" in text
    assert "2026/27 (teachers and other staff)" in text
    assert "Teachers' Standards" in text or "Teachers’ Standards" in text
    assert "Signed off 20/11/2026" in text


def test_record_pdf_objectives(client, world, tmp_path):
    text = record_text(client, world, tmp_path)
    assert "1. Raise Year 10 maths attainment against TMG (weighting 60%)" in text
    assert "2. Improve attendance of tutor group 9A (weighting 40%)" in text
    assert "Pupils act on written feedback in every unit." in text
    assert "TS2" in text
    assert "Weekly meeting with the attendance officer." in text
    assert "Summer results." in text
    assert "Partly met" in text


def test_record_pdf_linked_measure(client, world, tmp_path):
    text = record_text(client, world, tmp_path)
    assert "Attendance rate (%)" in text
    assert "96.5%" in text
    assert "Value at sign-off" in text
    assert "20/11/2026" in text


def test_record_pdf_outcome_summary(client, world, tmp_path):
    text = record_text(client, world, tmp_path)
    assert "1 of 2 met, 1 partly met" in text
    assert "Of 2 objectives counted: 1 met, 1 partly met, 0 not met." in text
    assert "A strong year." in text
    assert "Coaching on middle leadership" in text
    assert "Progress to the next point on the main pay range." in text


def test_record_pdf_signatures_and_notes(client, world, tmp_path):
    text = record_text(client, world, tmp_path)
    assert "No, disagrees" in text
    assert "I think objective two was fully met." in text
    assert "Pay panel accepted the recommendation." in text
    assert "TrustHr Persona" in text


def test_record_pdf_fonts_embedded(client, world, tmp_path):
    response = download(client, world.users["trust_hr"], world.appraisal)
    fonts = pdf_fonts(response.content, tmp_path)
    assert fonts
    assert all(embedded == "yes" for _name, embedded in fonts)
    assert any("CJK" in name for name, _embedded in fonts)


def test_not_applicable_left_out(client, world, tmp_path):
    appraisal = make_appraisal(
        world.cycle,
        world.staff["teacher"],
        world.staff["headteacher"],
        status=Status.SIGNED_OFF,
        outcomes=["met", "not_applicable"],
    )
    response = download(client, world.users["headteacher"], appraisal)
    text = normalised(pdf_text(response.content, tmp_path))
    assert "1 of 1 met" in text
    assert "1 not applicable, left out." in text
    assert "Not applicable" in text


def test_pay_hidden_when_not_used(client, world, tmp_path):
    world.cycle.uses_pay_recommendation = False
    world.cycle.save()
    text = record_text(client, world, tmp_path)
    assert "Pay recommendation" not in text
    assert "main pay range" not in text


@pytest.mark.parametrize("persona", ("appraisee", "headteacher", "trust_hr"))
def test_record_pdf_allowed(client, world, tmp_path, persona):
    text = record_text(client, world, tmp_path, persona)
    assert "Raise Year 10 maths attainment" in text


def test_record_pdf_file_name(client, world):
    response = download(client, world.users["trust_hr"], world.appraisal)
    assert response["Content-Disposition"] == (
        f'inline; filename="appraisal-2026-{world.appraisal.pk}.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "persona", ("teacher", "elm_teacher", "academy_leader", "trust_leader", "trustee", "staff")
)
def test_record_pdf_hidden_404(client, world, persona):
    response = download(client, world.users[persona], world.appraisal)
    assert response.status_code == 404


def test_record_pdf_anonymous_redirect(client, world):
    response = client.get(reverse("appraisal:record-pdf", args=[world.appraisal.pk]))
    assert response.status_code == 302


def test_unknown_appraisal_404(client, world):
    client.force_login(world.users["trust_hr"])
    response = client.get(reverse("appraisal:record-pdf", args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize("status", (Status.DRAFT, Status.FINAL_REVIEWED))
def test_record_pdf_before_sign_off(client, world, status):
    appraisal = make_appraisal(
        world.cycle, world.staff["teacher"], world.staff["headteacher"], status=status
    )
    response = download(client, world.users["headteacher"], appraisal)
    body = response.content.decode()
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert "Appraisal record not signed off" in body
    assert "Teacher Persona" in body
    assert f"“{appraisal.get_status_display()}”" in body


def test_before_sign_off_hidden_404(client, world):
    appraisal = make_appraisal(world.cycle, world.staff["teacher"], world.staff["headteacher"])
    response = download(client, world.users["trustee"], appraisal)
    assert response.status_code == 404

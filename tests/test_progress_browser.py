"""A teacher enters a class's grades in headless Chromium with the keyboard."""

import datetime
import re

import pytest
import time_machine

from progress.models import GradeEntry

from .browser_support import DEMO_PASSWORD, log_in
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    QualificationFactory,
    SubjectFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import TODAY, build_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUPIL_KEYS = ("oak9a_obrien", "oak9b_patel", "oak9a_smithjones")


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=True):
        world = build_personas()
        teacher = world.users["teacher"]
        teacher.set_password(DEMO_PASSWORD)
        teacher.save()
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
        for key in PUPIL_KEYS:
            ClassMembershipFactory(group=group, pupil=world.pupils[key])
            TargetGradeFactory(
                pupil=world.pupils[key],
                qualification=maths,
                academic_year=world.academic_year,
                grade=grade_of(maths.scale, "6"),
            )
        world.group = group  # type: ignore[attr-defined]
        world.point = AssessmentPointFactory(  # type: ignore[attr-defined]
            group=group, name="Autumn 2", date=datetime.date(2026, 12, 1)
        )
        yield world


@pytest.fixture
def page(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def test_teacher_enters_grades_by_keyboard(page, world):
    obrien, patel, smithjones = (world.pupils[key] for key in PUPIL_KEYS)

    log_in(page, "teacher")
    page.goto("/my-classes/")
    page.get_by_role("link", name="Enter grades for Autumn 2 in 9Ma1").click()
    page.get_by_role("heading", level=1, name=re.compile(r"^9Ma1 grades: Autumn 2")).wait_for()

    first = page.get_by_label("Grade for Aoife O'Brien")
    first.focus()
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    second = page.get_by_label("Grade for Isla Patel")
    assert is_focused(second)
    page.keyboard.type("6-")
    page.keyboard.press("Tab")
    third = page.get_by_label("Grade for Noah Smith-Jones")
    assert is_focused(third)
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    assert is_focused(page.get_by_role("button", name="Save grades", exact=True).last)
    page.keyboard.press("Enter")
    page.get_by_text("3 new grades saved, 0 grades changed, 0 unchanged.").wait_for()

    labels = dict(GradeEntry.objects.values_list("pupil_id", "grade__label"))
    assert labels == {obrien.pk: "7", patel.pk: "6-", smithjones.pk: "6"}

    page.get_by_role("link", name="9Ma1", exact=True).click()
    page.get_by_role("heading", level=1, name=re.compile(r"^Class 9Ma1")).wait_for()
    patel_row = page.locator(f"#pupil-{patel.pk}")
    assert "Below TMG" in patel_row.inner_text()
    assert "Above TMG" in page.locator(f"#pupil-{obrien.pk}").inner_text()
    assert "On TMG" in page.locator(f"#pupil-{smithjones.pk}").inner_text()
    assert "1 below TMG" in page.locator("#class-figures").inner_text()


def test_invalid_grade_keeps_typing(page, world):
    log_in(page, "teacher")
    page.goto(f"/progress/classes/{world.group.pk}/grades/{world.point.pk}/")

    page.get_by_label("Grade for Aoife O'Brien").fill("5")
    page.get_by_label("Grade for Isla Patel").fill("6++")
    page.get_by_role("button", name="Save grades", exact=True).last.click()
    page.get_by_text("No grade was written.").wait_for()

    patel = page.get_by_label("Grade for Isla Patel")
    assert patel.input_value() == "6++"
    assert patel.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Grade for Aoife O'Brien").input_value() == "5"
    assert "Grade '6++' is not on GCSE 9 to 1" in page.locator(".has-error").inner_text()
    assert not GradeEntry.objects.exists()

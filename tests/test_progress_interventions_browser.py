"""A teacher enters grades, finds a pupil below TMG on the underperformance
list and opens an intervention for them, in headless Chromium."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine

from progress.models import GradeEntry, Intervention, Qualification

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
            subject=SubjectFactory(trust=trust, name="Mathematics", code="maths"),
            name="GCSE Mathematics",
            element=Qualification.Element.MATHS,
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
        world.maths = maths  # type: ignore[attr-defined]
        AssessmentPointFactory(group=group, name="Autumn 2", date=datetime.date(2026, 12, 1))
        yield world


@pytest.fixture
def page(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def test_teacher_opens_intervention_for_pupil_below(page, world):
    obrien, patel, smithjones = (world.pupils[key] for key in PUPIL_KEYS)

    log_in(page, "teacher")
    page.goto("/my-classes/")
    page.get_by_role("link", name="Enter grades for Autumn 2 in 9Ma1").click()
    page.get_by_label("Grade for Aoife O'Brien").fill("7")
    page.get_by_label("Grade for Isla Patel").fill("5")
    page.get_by_label("Grade for Noah Smith-Jones").fill("6")
    page.get_by_role("button", name="Save grades", exact=True).last.click()
    page.get_by_text("3 new grades saved").wait_for()
    assert GradeEntry.objects.count() == 3

    page.goto("/my-classes/")
    page.get_by_role("link", name="Interventions and underperformance lists").click()
    page.get_by_role("heading", level=1, name="Interventions").wait_for()
    page.get_by_role("link", name=re.compile(r"Year 9, Oak Academy")).click()
    page.get_by_role("heading", level=1, name=re.compile(r"^Underperformance in Year 9")).wait_for()

    patel_row = page.locator(f"#pupil-{patel.pk}")
    assert "Well below TMG" in patel_row.inner_text()
    assert "No intervention in place" in patel_row.inner_text()
    assert page.locator(f"#pupil-{obrien.pk}").count() == 0
    assert page.locator(f"#pupil-{smithjones.pk}").count() == 0

    page.get_by_label("Choose Isla Patel").check()
    page.get_by_role("button", name="Open an intervention for the pupils chosen").click()
    page.get_by_role("heading", level=1, name="Open an intervention").wait_for()
    assert page.get_by_label("Isla Patel").is_checked()
    page.get_by_label("Kind").select_option(label="Tutoring")
    page.get_by_label("Title").fill("Fractions tutoring")
    page.get_by_label("Qualification").select_option(label="Mathematics: GCSE Mathematics")
    page.get_by_label("Review date").fill("29/01/2027")
    page.get_by_role("button", name="Open intervention").click()
    page.get_by_role("heading", level=1, name="Fractions tutoring").wait_for()
    assert page.get_by_text("opened for 1 pupil, review on 29/01/2027").is_visible()

    intervention = Intervention.objects.get()
    assert intervention.owner == world.staff["teacher"]
    assert intervention.kind == Intervention.Kind.TUTORING
    link = intervention.pupil_links.get()
    assert link.pupil == patel
    assert link.start_points == Decimal("5.00")
    assert link.tmg_points == Decimal("6.00")

    page.goto(f"/progress/year-groups/{world.year_groups['oak9'].pk}/underperformance/")
    patel_row = page.locator(f"#pupil-{patel.pk}")
    assert "Fractions tutoring" in patel_row.inner_text()
    assert "No intervention in place" not in patel_row.inner_text()

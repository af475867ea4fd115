"""An appraiser sets two objectives and signs, the appraisee agrees and signs,
and the objective linked to a TMG measure shows its live value, in headless
Chromium."""

import re

import pytest
import time_machine

from appraisal.measures import measure_values
from appraisal.models import Appraisal, Measure, Signature, Standard, StandardSet
from appraisal.standards import teachers_standards_ensure

from .browser_support import DEMO_PASSWORD, log_in
from .factories_appraisal import cycle_2026, make_appraisal
from .personas import TODAY, build_personas
from .test_appraisal_pages import class_with_grades

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=True):
        world = build_personas()
        # A migration seeds the Teachers' Standards, but the flush after an
        # earlier transactional test deletes them.
        teachers_standards_ensure(StandardSet, Standard)
        for key in ("teacher", "academy_leader"):
            user = world.users[key]
            user.set_password(DEMO_PASSWORD)
            user.save()
        class_with_grades(world)
        world.appraisal = make_appraisal(  # type: ignore[attr-defined]
            cycle_2026(world),
            world.staff["teacher"],
            world.staff["academy_leader"],
            objectives=[],
        )
        yield world


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def add_objective(page, title: str, weighting: str) -> None:
    page.get_by_role("link", name="Add an objective").click()
    page.get_by_role("heading", level=1, name=re.compile("^Add an objective")).wait_for()
    page.get_by_label("Objective", exact=True).fill(title)
    page.get_by_label("Success criteria").fill(f"Evidence that '{title}' is done.")
    page.get_by_label("Weighting (%)").fill(weighting)


def test_objectives_agreed_show_live_value(world, new_page):
    appraisal = world.appraisal

    # The appraiser sets two objectives.
    appraiser = new_page()
    log_in(appraiser, "academy.leader")
    appraiser.goto("/appraisal/appraisees/")
    appraiser.get_by_role("link", name="Teacher Persona").click()
    appraiser.get_by_role("heading", level=1, name=re.compile("^Appraisal: Teacher")).wait_for()

    add_objective(appraiser, "Raise maths attainment in 9Ma1", "60")
    assert appraiser.locator("#weighting-total").inner_text() == "Total 60% of 100%"
    academy = appraiser.get_by_label("Academy", exact=True)
    # With scripts on, the scope fields appear once a measure and scope are chosen.
    assert not academy.is_visible()
    measure = appraiser.get_by_label("Live measure")
    measure.focus()
    scopes = appraiser.get_by_label("Whose figures")
    # Attendance is not measured for a teacher's own classes, so that scope is off.
    measure.select_option(Measure.ATTENDANCE)
    assert scopes.locator('option[value="own_classes"]').is_disabled()
    assert not scopes.locator('option[value="tutor_group"]').is_disabled()
    measure.select_option(Measure.TMG_LATEST)
    assert not scopes.locator('option[value="own_classes"]').is_disabled()
    assert scopes.locator('option[value="tutor_group"]').is_disabled()
    scopes.select_option("own_classes")
    assert not academy.is_visible()
    target = appraiser.get_by_label("Target (%)")
    target.fill("80")
    assert is_focused(target)
    appraiser.get_by_label("TS2 Promote good progress and outcomes by pupils").check()
    appraiser.keyboard.press("Tab")
    appraiser.get_by_role("button", name="Save the objective").click()
    appraiser.get_by_text("Objective 'Raise maths attainment in 9Ma1' saved").wait_for()

    add_objective(appraiser, "Lead the Year 9 reading programme", "40")
    assert appraiser.locator("#weighting-total").inner_text() == "Total 100% of 100%"
    appraiser.get_by_label("Weighting (%)").press("Enter")
    appraiser.get_by_text("Objective 'Lead the Year 9 reading programme' saved").wait_for()
    assert (
        "2 objectives, weightings total 100% of 100%"
        in appraiser.locator("#weighting-summary").inner_text()
    )

    appraiser.get_by_role("link", name="Sign the objectives").click()
    appraiser.get_by_role("button", name="Sign").click()
    appraiser.get_by_text("You signed the objectives. Status: Draft.").wait_for()

    # The appraisee agrees and signs from their own page.
    appraisee = new_page()
    log_in(appraisee, "teacher")
    appraisee.goto("/my-appraisal/")
    appraisee.get_by_role("link", name="Sign the objectives").click()
    agree = appraisee.get_by_label("I agree")
    agree.focus()
    appraisee.keyboard.press("Space")
    assert agree.is_checked()
    appraisee.get_by_label("Comment").fill("Agreed at our meeting.")
    appraisee.get_by_role("button", name="Sign").click()
    appraisee.get_by_text("You signed the objectives. Status: Objectives agreed.").wait_for()

    appraisee.goto("/my-appraisal/")
    assert appraisee.locator("#appraisal-status").inner_text() == "Objectives agreed"
    linked = appraisal.objectives.get(measure=Measure.TMG_LATEST)
    expected = measure_values([linked], TODAY.date())[linked.pk]
    assert expected.value == 66.7
    assert appraisee.locator(f"#value-{linked.pk}").inner_text() == expected.display
    assert appraisee.locator(f"#target-{linked.pk}").inner_text() == "80.0%"

    appraisal.refresh_from_db()
    assert appraisal.status == Appraisal.Status.OBJECTIVES_AGREED
    assert appraisal.objectives_agreed_by == world.staff["teacher"]
    parties = set(
        Signature.objects.filter(appraisal=appraisal, document="objectives").values_list(
            "party", flat=True
        )
    )
    assert parties == {"appraisee", "appraiser"}
    assert [o.weighting for o in appraisal.objectives.order_by("position")] == [60, 40]
    assert linked.standards.get().code == "TS2"

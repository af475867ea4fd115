"""A headteacher adds a CPD event, a teacher from another academy books the
last place, and the headteacher marks attendance, in headless Chromium."""

import datetime
import os
from decimal import Decimal

import pytest
import time_machine

from appraisal.models import CpdBooking, CpdEvent, PortfolioEntry
from progress.models import Subject

from .browser_support import DEMO_PASSWORD, log_in
from .personas import TODAY, build_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEXT_WEEK = TODAY.date() + datetime.timedelta(days=7)
# Set to a folder to keep a screenshot of each page the test visits.
SCREENSHOTS = os.environ.get("CPD_SCREENSHOTS", "")


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    world = build_personas()
    for key in ("headteacher", "elm_teacher"):
        user = world.users[key]
        user.set_password(DEMO_PASSWORD)
        user.save()
    Subject.objects.create(trust=world.academies["oak"].trust, name="Mathematics", code="maths")
    return world


@pytest.fixture
def page(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def _snap(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_event_added_booked_and_attended(page, world, clock):
    log_in(page, "headteacher")
    page.goto("/appraisal/cpd/")
    _snap(page, "offer-empty")
    page.get_by_role("link", name="Add an event").click()
    page.get_by_label("Title").fill("Teaching fractions")
    page.get_by_label("Kind").select_option(label="Course")
    page.get_by_label("Subject").select_option(label="Mathematics")
    page.get_by_label("Host academy").select_option(label="Oak Academy")
    page.get_by_label("Start date").fill(f"{NEXT_WEEK:%d/%m/%Y}")
    page.get_by_label("End date").fill(f"{NEXT_WEEK:%d/%m/%Y}")
    page.get_by_label("Hours").fill("3")
    page.get_by_label("Cost per place (£)").fill("45")
    page.get_by_label("Places").fill("1")
    _snap(page, "event-form")
    page.get_by_label("Places").press("Enter")
    page.get_by_role("heading", level=1, name="Teaching fractions").wait_for()
    assert page.get_by_text("“Teaching fractions” added to the CPD offer.").is_visible()
    event = CpdEvent.objects.get()
    assert event.host_academy == world.academies["oak"]
    assert event.cost_per_place == Decimal("45.00")

    page.get_by_role("button", name="Log out").click()
    log_in(page, "elm.teacher")
    page.goto("/appraisal/cpd/")
    row = page.locator(f"#event-{event.pk}")
    assert "1 of 1 place left" in row.inner_text()
    _snap(page, "offer")
    book = page.get_by_role("button", name="Book a place on Teaching fractions")
    book.focus()
    page.keyboard.press("Enter")
    page.get_by_text("You have a place on “Teaching fractions”").wait_for()
    assert "Full (1 place)" in page.locator("dl").inner_text()
    _snap(page, "event-booked")
    booking = CpdBooking.objects.get()
    assert booking.staff == world.staff["elm_teacher"]

    page.get_by_role("button", name="Log out").click()
    clock.move_to(datetime.datetime.combine(NEXT_WEEK, datetime.time(16, 0)))
    log_in(page, "headteacher")
    page.goto(f"/appraisal/cpd/{event.pk}/")
    assert "ElmTeacher Persona" in page.get_by_role("table").inner_text()
    page.get_by_role("link", name="Mark attendance").click()
    page.get_by_label("Attended: ElmTeacher Persona").check()
    _snap(page, "attendance")
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_text("Attendance saved for 1 booking. 1 portfolio entry added.").wait_for()

    entry = PortfolioEntry.objects.get()
    assert entry.staff == world.staff["elm_teacher"]
    assert entry.hours == Decimal("3.0")
    assert entry.cost == Decimal("45.00")
    # The entry belongs to Elm, so the Oak headteacher's summary leaves it out.
    page.goto("/appraisal/cpd/summary/")
    page.get_by_role("heading", level=1, name="CPD summary").wait_for()
    assert "0.0 hours of CPD and £0.00" in page.content()
    assert "No portfolio entries started in this period." in page.content()
    _snap(page, "summary")

"""A head of year takes a register in headless Chromium with the keyboard."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from academies.models import TutorGroup
from attendance.access import registers_visible
from attendance.models import AttendanceMark, PupilYearSummary
from attendance.statistics import one_decimal
from attendance.summaries import counts_of
from pupils.selectors import on_roll_in, register_order, visible_pupils

from .browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = datetime.datetime(2026, 12, 4, 9, 0)


@pytest.fixture
def demo_trust():
    with time_machine.travel(TODAY, tick=True):
        call_command(
            "seed_demo",
            academies=2,
            pupils_per_academy=60,
            seed=7,
            today=TODAY.date(),
            verbosity=0,
        )
        yield


@pytest.fixture
def page(browser, live_server, demo_trust):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def year_rate(pupil_id: int) -> float | None:
    summary = (
        PupilYearSummary.objects.filter(pupil_id=pupil_id)
        .order_by("-academic_year__start_year")
        .first()
    )
    return counts_of(summary).attendance_rate if summary else None


def shown_rate(page, pupil_id: int) -> float:
    """Open the pupil's attendance page and return the attendance rate it shows."""
    page.goto(f"/attendance/pupils/{pupil_id}/")
    card = page.locator(".card", has_text="Attendance").first
    return float(card.locator(".figure").inner_text().rstrip("%"))


def test_head_of_year_takes_register_by_keyboard(page):
    day = TODAY.date()
    hoy = get_user_model().objects.get(username="hoy")
    group = registers_visible(hoy, day).filter(year_group__nc_year=9).order_by("name").first()
    assert isinstance(group, TutorGroup)
    pupils = list(
        register_order(
            visible_pupils(hoy, day).filter(on_roll_in("tutor_group_id", [group.pk], day))
        )
    )
    assert len(pupils) >= 2
    absent, late = pupils[0], pupils[1]
    assert not AttendanceMark.objects.filter(tutor_group=group, date=day).exists()
    rate_before = year_rate(absent.pk)
    assert rate_before is not None

    log_in(page, "hoy")
    shown_before = shown_rate(page, absent.pk)
    page.goto("/attendance/registers/")
    page.get_by_role("link", name=re.compile(rf"Not taken\W+{group.name} AM")).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"{group.name} register")

    page.get_by_role("button", name="All present").focus()
    page.keyboard.press("Enter")
    first = page.get_by_label(f"Code for {absent.forename} {absent.surname}")
    assert first.evaluate("el => el === document.activeElement")
    assert first.input_value() == "/"
    page.keyboard.type("N")
    page.keyboard.press("Enter")
    second = page.get_by_label(f"Code for {late.forename} {late.surname}")
    assert second.evaluate("el => el === document.activeElement")
    page.keyboard.type("L")
    page.keyboard.press("Tab")
    minutes = page.get_by_label(f"Minutes late for {late.forename} {late.surname}")
    assert minutes.evaluate("el => el === document.activeElement")
    page.keyboard.type("12")
    page.get_by_role("button", name="Save register").focus()
    page.keyboard.press("Enter")
    page.get_by_text(f"{len(pupils)} marks saved, 0 unchanged.").wait_for()

    absent_mark = AttendanceMark.objects.get(pupil=absent, date=day, session="AM")
    late_mark = AttendanceMark.objects.get(pupil=late, date=day, session="AM")
    assert absent_mark.code == "N"
    assert late_mark.code == "L"
    assert late_mark.minutes_late == 12
    assert AttendanceMark.objects.filter(tutor_group=group, date=day, code="/").count() == (
        len(pupils) - 2
    )
    rate_after = year_rate(absent.pk)
    assert rate_after is not None
    assert rate_after < rate_before
    # The pupil's attendance page shows the new, lower rate.
    shown_after = shown_rate(page, absent.pk)
    assert shown_after < shown_before
    assert shown_after == pytest.approx(one_decimal(rate_after))


def test_unsaved_register_warns_before_leaving(page):
    day = TODAY.date()
    hoy = get_user_model().objects.get(username="hoy")
    group = registers_visible(hoy, day).filter(year_group__nc_year=9).order_by("name").first()
    assert isinstance(group, TutorGroup)
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.type)
        dialog.accept()

    log_in(page, "hoy")
    page.goto(f"/attendance/registers/{group.pk}/{day.isoformat()}/AM/")
    page.locator(".code-input").first.fill("N")
    page.on("dialog", accept)
    page.get_by_role("link", name=re.compile(r"Registers on")).click()
    page.get_by_role("heading", level=1, name=re.compile(r"^Registers on")).wait_for()

    assert dialogs == ["beforeunload"]
    assert not AttendanceMark.objects.filter(tutor_group=group, date=day).exists()

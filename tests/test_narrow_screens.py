"""Pages fit a phone's width: wide tables scroll inside their own box, not the page."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from pupils.selectors import visible_pupils

from .browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The width of an iPhone 12, 13 or 14 in portrait, in CSS pixels.
PHONE_WIDTH = 390
TODAY = datetime.datetime(2026, 12, 4, 9, 0)


@pytest.fixture
def demo_trust():
    with time_machine.travel(TODAY, tick=True):
        call_command(
            "seed_demo",
            academies=2,
            pupils_per_academy=60,
            seed=1,
            today=datetime.date(2026, 12, 4),
            verbosity=0,
        )
        yield


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        viewport={"width": PHONE_WIDTH, "height": 844},
    )
    page = context.new_page()
    yield page
    context.close()


def page_width(page, path: str) -> int:
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, path
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("username", ["hoy", "trust.admin"])
def test_pages_fit_phone_width(phone, demo_trust, username):
    log_in(phone, username)
    user = get_user_model().objects.get(username=username)
    pupil = visible_pupils(user).order_by("pk").first()
    assert pupil is not None

    paths = ["/pupils/", f"/pupils/{pupil.pk}/"]
    if username == "hoy":
        paths.append("/my-year/")
    else:
        paths.append(f"/pupils/{pupil.pk}/audit/")

    for path in paths:
        assert page_width(phone, path) <= PHONE_WIDTH, path


def test_tables_scroll_on_screen_not_in_print(phone, demo_trust):
    log_in(phone, "hoy")
    page_width(phone, "/my-year/")
    table = phone.locator("main table").first

    assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"

    phone.emulate_media(media="print")
    assert table.evaluate("t => getComputedStyle(t).display") == "table"

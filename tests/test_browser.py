"""End-to-end checks in headless Chromium, driven by Playwright.

Debian's Chromium is used (`make test` installs it) because Playwright's
own browser download is not available on these machines.
"""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from pupils.models import Pupil
from pupils.selectors import visible_pupils

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
            today=datetime.date(2026, 12, 4),
            verbosity=0,
        )
        yield


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def test_head_of_year_finds_pupil(page, demo_trust):
    log_in(page, "hoy")
    assert page.get_by_role("heading", level=1).first.is_visible()

    hoy = get_user_model().objects.get(username="hoy")
    pupil = visible_pupils(hoy).order_by("pk").first()
    assert pupil is not None

    page.get_by_role("link", name="Pupils").first.click()
    search = page.get_by_label("Name or UPN")
    search.fill(pupil.surname)
    search.press("Enter")
    page.wait_for_load_state()
    page.get_by_role("link", name=re.compile(re.escape(pupil.surname))).first.click()
    page.wait_for_load_state()

    assert pupil.upn in page.content()
    assert page.get_by_role("heading", level=1).inner_text().strip() != ""


def test_trustee_finds_no_pupil_pages(page, demo_trust):
    log_in(page, "trustee")

    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Pupils").count() == 0

    pupil = Pupil.objects.first()
    response = page.goto(f"/pupils/{pupil.pk}/")
    assert response is not None
    assert response.status == 404
    assert pupil.legal_surname not in page.content()

    response = page.goto("/pupils/")
    assert response is not None
    assert pupil.legal_surname not in page.content()


def test_api_docs_load_only_local_assets(page, live_server, demo_trust):
    outside = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    log_in(page, "teacher")
    page.goto("/api/docs/")
    page.get_by_text("/api/v1/pupils/").first.wait_for()

    assert outside == []

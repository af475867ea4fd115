"""A head of year logs one incident for three pupils in headless Chromium."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from academies.models import Academy
from behaviour.access import loggable_pupils
from behaviour.models import Action, BehaviourCategory, Incident, Polarity
from pupils.models import Enrolment, active_on

from .browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = datetime.datetime(2026, 12, 4, 9, 0)
CATEGORY = "Persistent talking"


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
        trust = Academy.objects.first().trust
        BehaviourCategory.objects.get_or_create(
            trust=trust,
            academy=None,
            name=CATEGORY,
            defaults={
                "polarity": Polarity.NEGATIVE,
                "severity": 1,
                "default_points": -1,
                "min_points": -3,
                "max_points": 0,
            },
        )
        yield


@pytest.fixture
def page(browser, live_server, demo_trust):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def three_pupils(user, day):
    """Return the first three pupils the user may log for, with their group labels."""
    enrolments = (
        Enrolment.objects.filter(active_on(day), pupil__in=loggable_pupils(user, day))
        .select_related("pupil", "tutor_group", "year_group")
        .order_by("tutor_group__name", "pupil__legal_surname", "pupil__legal_forename")[:3]
    )
    return [
        (e.pupil, f"{e.tutor_group.name} ({e.year_group.name})" if e.tutor_group else "")
        for e in enrolments
    ]


def test_head_of_year_logs_incident_for_three(page):
    day = TODAY.date()
    hoy = get_user_model().objects.get(username="hoy")
    chosen = three_pupils(hoy, day)
    assert len(chosen) == 3

    log_in(page, "hoy")
    page.get_by_role("link", name="Log behaviour").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Log behaviour"

    page.get_by_label("Category").select_option(label=f"{CATEGORY} (-3 to 0 points)")
    page.get_by_label("What happened").fill("Talked through the register three times")
    for pupil, group in chosen:
        details = page.locator("details", has=page.locator("summary", has_text=group))
        if details.get_attribute("open") is None:
            details.locator("summary").focus()
            page.keyboard.press("Enter")
        checkbox = page.get_by_label(pupil.display_name, exact=True)
        checkbox.focus()
        page.keyboard.press("Space")
        assert checkbox.is_checked()
        page.get_by_label(f"Points for {pupil.display_name}").fill("-2")
    page.get_by_label("Detention date").fill("07/12/2026")
    page.get_by_label("Detention minutes").fill("30")
    page.get_by_role("button", name="Save incident").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name=f"Saved: {CATEGORY}").is_visible()
    incident = Incident.objects.get(description="Talked through the register three times")
    links = incident.pupil_links.all()
    assert sorted(link.pupil_id for link in links) == sorted(p.pk for p, _ in chosen)
    assert {link.points for link in links} == {-2}
    assert Action.objects.filter(incident=incident, kind="detention").count() == 3

    page.get_by_role("link", name="View the incident").click()
    page.wait_for_load_state()
    for pupil, _ in chosen:
        assert page.get_by_role("link", name=pupil.display_name).is_visible()

    detail_url = f"/behaviour/incidents/{incident.pk}/"
    for pupil, _ in chosen:
        page.goto(f"/behaviour/pupils/{pupil.pk}/")
        row = page.locator("tr", has=page.locator(f'a[href="{detail_url}"]'))
        assert row.count() == 1
        text = row.inner_text()
        assert "04/12/2026" in text
        assert CATEGORY in text
        assert "-2" in text
        assert "Detention" in text

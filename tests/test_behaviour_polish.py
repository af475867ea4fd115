"""The pupil count on the behaviour log form and the incident page's audit trail."""

import datetime
import re

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from behaviour.models import Action, BehaviourCategory, Incident
from behaviour.services import ActionInput, incident_update
from trust import clock
from trust.models import AuditEvent
from trust.selectors import summarised_audit_rows

from .browser_support import DEMO_PASSWORD, log_in
from .factories_behaviour import CategoryFactory
from .factories_incidents import build_categories, log_incident
from .personas import TODAY, build_personas

LOG_URL = "/behaviour/log/"
THREE = ["oak9a_obrien", "oak9a_smithjones", "oak9b_patel"]


@pytest.fixture
def world():
    return build_personas()


@pytest.fixture
def cats(world):
    return build_categories(world)


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def audit_section(html: str) -> str:
    """Return the page from the audit trail heading on."""
    return html[html.index("<h2>Audit trail</h2>") :]


def audit_body_rows(html: str) -> list[str]:
    section = audit_section(html)
    tbody = section[section.index("<tbody>") : section.index("</tbody>")]
    return [re.sub(r">\s+<", "><", row) for row in re.findall(r"<tr>.*?</tr>", tbody, flags=re.S)]


# The pupil count on the log form ------------------------------------------------


@pytest.mark.django_db
class TestPupilCount:
    @pytest.fixture(autouse=True)
    def frozen_clock(self):
        with time_machine.travel(TODAY.replace(tzinfo=clock.LONDON), tick=False):
            yield

    def test_count_kept_after_errors(self, world, cats):
        obrien, patel = world.pupils["oak9a_obrien"].pk, world.pupils["oak9b_patel"].pk
        data = {
            "academy": world.academies["oak"].pk,
            "occurred_date": "04/12/2026",
            "occurred_time": "09:15",
            "category": "",
            "reported_by": world.staff["head_of_year"].pk,
            "pupil": [obrien, patel],
        }

        response = client_for(world, "head_of_year").post(LOG_URL, data)

        html = response.content.decode()
        assert response.status_code == 200
        assert "The incident was not saved" in html
        assert "Pupils (2 selected)" in html
        assert f'id="pupil-{obrien}" checked' in html
        assert f'id="pupil-{patel}" checked' in html
        assert not Incident.objects.exists()

    def test_count_zero_without_ticks(self, world, cats):
        html = client_for(world, "head_of_year").get(LOG_URL).content.decode()

        assert "Pupils (0 selected)" in html

    def test_page_loads_count_script(self, world, cats):
        html = client_for(world, "head_of_year").get(LOG_URL).content.decode()

        assert 'src="/static/js/pupil_count.js"' in html
        assert 'id="pupils-status" aria-live="polite"' in html
        assert 'id="pupil-picker"' in html
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
        assert finders.find("js/pupil_count.js") is not None


# The incident page's audit trail -------------------------------------------------


@pytest.mark.django_db
class TestIncidentAudit:
    @pytest.fixture(autouse=True)
    def frozen_clock(self):
        with time_machine.travel(TODAY.replace(tzinfo=clock.LONDON), tick=False):
            yield

    def test_creation_is_one_row_per_record(self, world, cats):
        incident = log_incident(
            world,
            "head_of_year",
            cats.disruption,
            THREE,
            points=-2,
            actions=[
                ActionInput(kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=30)
            ],
        )
        records = 1 + 3 + Action.objects.filter(incident=incident).count()
        assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count() >= records

        html = client_for(world, "head_of_year").get(f"/behaviour/incidents/{incident.pk}/")
        rows = audit_body_rows(html.content.decode())

        assert len(rows) == records
        assert all("<td>Created</td>" in row for row in rows)

    def test_creation_row_reads_as_names_and_dates(self, world, cats):
        incident = log_incident(
            world,
            "head_of_year",
            cats.disruption,
            ["oak9b_patel"],
            points=-2,
            actions=[
                ActionInput(kind="detention", date=datetime.date(2026, 12, 7), duration_minutes=30)
            ],
        )
        head = world.staff["head_of_year"]

        response = client_for(world, "head_of_year").get(f"/behaviour/incidents/{incident.pk}/")
        section = audit_section(response.content.decode())

        assert "Category: Disruption" in section
        assert f"Reported by: {head.full_name}" in section
        assert "Occurred at: 04/12/2026 09:30" in section
        assert "Pupil: Isla Patel" in section
        assert "Date: 07/12/2026" in section
        assert "2026-12-07" not in section
        assert f"Created by: {world.users['head_of_year'].pk}" not in section
        assert f"ID: {incident.pk}" not in section
        assert "Version" not in section
        assert "Academic year" not in section
        assert "Tutor group" not in section
        assert "Year group" not in section
        assert "Trust category" not in section
        assert "Polarity" not in section

    def test_correction_rows_use_labels(self, world, cats):
        lateness = CategoryFactory(
            trust=world.academies["oak"].trust,
            name="Lateness",
            default_points=-1,
            min_points=-3,
            max_points=-1,
        )
        incident = log_incident(
            world, "head_of_year", cats.disruption, ["oak9b_patel"], location="classroom"
        )
        incident_update(
            actor=world.users["head_of_year"],
            incident=incident,
            seen_version=incident.version,
            reason="Wrong place recorded",
            location="corridor",
            category_id=lateness.pk,
        )

        response = client_for(world, "head_of_year").get(f"/behaviour/incidents/{incident.pk}/")
        all_rows = audit_body_rows(response.content.decode())
        rows = [row for row in all_rows if "<td>Changed</td>" in row]
        text = " ".join(rows)

        assert any("<td>Location</td><td>Classroom</td><td>Corridor</td>" in row for row in rows)
        assert any("<td>Category</td><td>Disruption</td><td>Lateness</td>" in row for row in rows)
        assert "Wrong place recorded" in text
        assert "Version" not in text
        assert "Polarity" not in text

    def test_queries_fixed_as_events_grow(self, world, cats):
        incident = log_incident(world, "head_of_year", cats.disruption, THREE, points=-1)
        client = client_for(world, "head_of_year")
        url = f"/behaviour/incidents/{incident.pk}/"
        client.get(url)

        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        events_before = AuditEvent.objects.count()
        for lesson in ["Period 1", "Period 2", "Period 3", "Period 4"]:
            incident_update(
                actor=world.users["head_of_year"],
                incident=incident,
                seen_version=incident.version,
                reason="Lesson corrected",
                lesson=lesson,
                description=f"Talked during {lesson}",
            )
            incident.refresh_from_db()
        assert AuditEvent.objects.count() > events_before
        with CaptureQueriesContext(connection) as many:
            response = client.get(url)

        assert "Period 4" in audit_section(response.content.decode())
        assert len(many) == len(few)


# summarised_audit_rows on events built by hand -------------------------------------


@pytest.mark.django_db
def test_summary_keeps_id_of_missing_row(world, cats):
    event = AuditEvent(
        action=AuditEvent.Action.UPDATE,
        model="behaviour.Incident",
        object_id="5",
        object_repr="Incident 5 on 04/12/2026",
        changes={"category_id": [cats.disruption.pk, 999999]},
    )

    [row] = summarised_audit_rows(
        [event], hidden_fields={}, namers={BehaviourCategory: lambda category: category.name}
    )

    assert row.field == "Category"
    assert (row.before, row.after) == ("Disruption", 999999)


def test_summary_shows_summer_time_in_london():
    event = AuditEvent(
        action=AuditEvent.Action.UPDATE,
        model="behaviour.Incident",
        object_id="5",
        object_repr="Incident 5 on 01/07/2026",
        changes={"occurred_at": ["2026-07-01T08:00:00+00:00", "2026-07-01T13:45:00+00:00"]},
    )

    [row] = summarised_audit_rows([event], hidden_fields={}, namers={})

    assert row.field == "Occurred at"
    assert (row.before, row.after) == ("01/07/2026 09:00", "01/07/2026 14:45")


def test_summary_drops_update_of_hidden_fields_only():
    event = AuditEvent(
        action=AuditEvent.Action.UPDATE,
        model="behaviour.IncidentPupil",
        object_id="8",
        object_repr="Isla Patel in incident 5",
        changes={"version": [1, 2], "date": ["2026-12-04", "2026-12-03"]},
    )

    rows = summarised_audit_rows(
        [event], hidden_fields={"behaviour.IncidentPupil": ["date"]}, namers={}
    )

    assert rows == []


def test_summary_of_delete_fills_before():
    event = AuditEvent(
        action=AuditEvent.Action.DELETE,
        model="behaviour.FollowUp",
        object_id="3",
        object_repr="Follow-up of incident 5 due 11/12/2026",
        changes={"due_on": ["2026-12-11", None], "note": ["", None], "id": [3, None]},
    )

    [row] = summarised_audit_rows([event], hidden_fields={}, namers={})

    assert row.before == "Due on: 11/12/2026"
    assert "ID" not in row.before
    assert row.after is None


# In the browser --------------------------------------------------------------------


@pytest.fixture
def live_world(transactional_db):
    with time_machine.travel(TODAY.replace(tzinfo=clock.LONDON), tick=True):
        world = build_personas()
        build_categories(world)
        user = world.users["head_of_year"]
        user.set_password(DEMO_PASSWORD)
        user.save()
        yield world


@pytest.mark.browser
def test_count_follows_ticks_in_browser(browser, live_server, live_world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, live_world.users["head_of_year"].username)
        page.goto(LOG_URL)
        legend = page.locator("#pupils-heading")
        status = page.locator("#pupils-status")
        assert legend.inner_text() == "Pupils (0 selected)"

        for count, key in enumerate(["oak9a_obrien", "oak9b_patel"], start=1):
            pupil = live_world.pupils[key]
            summary = page.locator("summary", has_text=pupil_group(live_world, key))
            if summary.locator("xpath=..").get_attribute("open") is None:
                summary.focus()
                page.keyboard.press("Enter")
            checkbox = page.get_by_label(pupil.display_name, exact=True)
            checkbox.focus()
            page.keyboard.press("Space")
            assert legend.inner_text() == f"Pupils ({count} selected)"
        assert status.inner_text() == "2 pupils selected"
        assert status.get_attribute("aria-live") == "polite"

        page.get_by_label(live_world.pupils["oak9b_patel"].display_name, exact=True).uncheck()
        assert legend.inner_text() == "Pupils (1 selected)"
        assert status.inner_text() == "1 pupil selected"
        assert page.locator("summary", has_text=": 1 selected").count() == 1
    finally:
        context.close()


def pupil_group(world, key: str) -> str:
    return world.tutor_groups["9A" if key.startswith("oak9a") else "9B"].name

"""The pupil behaviour timeline, its export, the follow-ups page, the
follow-ups box of My year and the behaviour box of the pupil profile."""

import csv
import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from behaviour.models import Action, FollowUp
from pupils.models import Enrolment
from trust.clock import LONDON

from .factories import AcademicYearFactory, YearGroupFactory
from .factories_behaviour import CategoryFactory, PositiveCategoryFactory
from .factories_timeline import at, make_detention, make_follow_up, make_incident, make_terms
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    make_terms(2026, world.academic_year.pk)
    trust = world.academies["oak"].trust
    world.merit = PositiveCategoryFactory(trust=trust, name="Merit")
    world.disruption = CategoryFactory(trust=trust, name="Low-level disruption")
    world.safeguarding = CategoryFactory(
        trust=trust, name="Safeguarding concern", sensitive=True, default_points=0
    )
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def timeline_url(pupil, query=""):
    return f"/behaviour/pupils/{pupil.pk}/" + (f"?{query}" if query else "")


def last_year_enrolment(world, pupil):
    """Enrol `pupil` at Oak in Year 8 for 2025/26, with the terms of that year."""
    trust = world.academies["oak"].trust
    year = AcademicYearFactory(trust=trust, start_year=2025)
    make_terms(2025, year.pk)
    Enrolment.objects.create(
        pupil=pupil,
        academy=world.academies["oak"],
        academic_year=year,
        year_group=YearGroupFactory(academy=world.academies["oak"], nc_year=8),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 7, 21),
    )


def totals_row(html, label):
    """Return the text of the totals table row starting with `label`."""
    start = html.index(f'<th scope="row">{label}')
    return html[start : html.index("</tr>", start)]


def cells(row_html):
    return [part.split("</td>")[0] for part in row_html.split('<td class="num">')[1:]]


# Totals ----------------------------------------------------------------------


def test_totals_split_at_term_boundary(world):
    obrien = world.pupils["oak9a_obrien"]
    teacher = world.staff["teacher"]
    make_incident(
        pupils=[obrien],
        category=world.merit,
        occurred_at=at(datetime.date(2026, 12, 3)),
        reported_by=teacher,
        points=3,
    )
    make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2027, 1, 6)),
        reported_by=teacher,
        points=-2,
    )

    with time_machine.travel(datetime.datetime(2027, 1, 8, 12, 0, tzinfo=LONDON), tick=False):
        html = body(client_for(world, "headteacher").get(timeline_url(obrien)))

    term = cells(totals_row(html, "This term"))
    year = cells(totals_row(html, "This academic year"))
    assert "Spring term 2026/27" in html
    assert term == ["0", "-2", "-2", "1"]
    assert year == ["3", "-2", "1", "2"]


def test_totals_split_at_year_boundary(world):
    obrien = world.pupils["oak9a_obrien"]
    last_year_enrolment(world, obrien)
    teacher = world.staff["teacher"]
    make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 7, 10)),
        reported_by=teacher,
        points=-3,
    )
    make_incident(
        pupils=[obrien],
        category=world.merit,
        occurred_at=at(datetime.date(2026, 9, 2)),
        reported_by=teacher,
        points=2,
    )

    with time_machine.travel(datetime.datetime(2026, 9, 3, 9, 0, tzinfo=LONDON), tick=False):
        html = body(client_for(world, "headteacher").get(timeline_url(obrien)))

    assert cells(totals_row(html, "This term")) == ["2", "0", "2", "1"]
    assert cells(totals_row(html, "This academic year")) == ["2", "0", "2", "1"]
    # The July incident is still on the timeline, dated in the old year.
    assert "10/07/2026" in html


def test_timeline_rows_newest_first_with_details(world):
    obrien = world.pupils["oak9a_obrien"]
    teacher = world.staff["teacher"]
    older = make_incident(
        pupils=[obrien],
        category=world.merit,
        occurred_at=at(datetime.date(2026, 11, 2), 9, 5),
        reported_by=teacher,
        points=2,
        location="library",
    )
    newer = make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 12, 1), 14, 30),
        reported_by=teacher,
        points=-1,
    )
    make_detention(newer, obrien, datetime.date(2026, 12, 2), attended=True)
    make_follow_up(newer, world.staff["head_of_year"], datetime.date(2026, 12, 3))

    html = body(client_for(world, "head_of_year").get(timeline_url(obrien)))

    assert html.index("01/12/2026 14:30") < html.index("02/11/2026 09:05")
    assert f"/behaviour/incidents/{newer.pk}/" in html
    assert f"/behaviour/incidents/{older.pk}/" in html
    assert "Low-level disruption" in html
    assert "Library" in html
    assert "Detention on 02/12/2026 for 30 minutes: attended" in html
    assert "Overdue, due 03/12/2026" in html
    assert f"/behaviour/log/?pupils={obrien.pk}" in html
    assert "Suspensions and exclusions" in html


def test_timeline_summer_time_shown_in_london(world):
    obrien = world.pupils["oak9a_obrien"]
    moment = datetime.datetime(2026, 9, 15, 8, 30, tzinfo=datetime.UTC)
    make_incident(
        pupils=[obrien],
        category=world.merit,
        occurred_at=moment,
        reported_by=world.staff["teacher"],
    )

    html = body(client_for(world, "headteacher").get(timeline_url(obrien)))

    assert "15/09/2026 09:30" in html


def test_timeline_empty_says_how_to_start(world):
    obrien = world.pupils["oak9a_obrien"]

    html = body(client_for(world, "tutor").get(timeline_url(obrien)))

    assert "No behaviour has been logged" in html
    assert "Log behaviour" in html


# Filters and export ------------------------------------------------------------


@pytest.fixture
def two_incidents(world):
    obrien = world.pupils["oak9a_obrien"]
    teacher = world.staff["teacher"]
    make_incident(
        pupils=[obrien],
        category=world.merit,
        occurred_at=at(datetime.date(2026, 10, 5)),
        reported_by=teacher,
        points=2,
    )
    make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 11, 20)),
        reported_by=teacher,
        points=-1,
    )
    return obrien


def test_timeline_filters_by_dates_and_polarity(world, two_incidents):
    client = client_for(world, "headteacher")

    by_date = body(client.get(timeline_url(two_incidents, "from=2026-11-01&to=04/12/2026")))
    by_polarity = body(client.get(timeline_url(two_incidents, "polarity=positive")))

    assert "20/11/2026" in by_date
    assert "05/10/2026" not in by_date
    assert "05/10/2026" in by_polarity
    assert "20/11/2026" not in by_polarity


@pytest.mark.parametrize(
    ("query", "expected_text"),
    [
        ("from=2026-02-30", "2026-02-30"),
        ("to=yesterday", "yesterday"),
        ("from=2026-12-01&to=2026-11-01", "01/12/2026"),
        ("polarity=neutral", "neutral"),
        ("format=docx", "docx"),
    ],
)
def test_timeline_bad_filter_is_400(world, two_incidents, query, expected_text):
    response = client_for(world, "headteacher").get(timeline_url(two_incidents, query))

    assert response.status_code == 400
    assert expected_text in body(response)


def test_timeline_csv_export_matches_rows(world, two_incidents):
    response = client_for(world, "headteacher").get(
        timeline_url(two_incidents, "polarity=negative&format=csv")
    )

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["Date", "Time", "Category", "Positive or negative", "Role", "Points"]
    assert len(rows) == 2
    assert rows[1][:6] == [
        "20/11/2026",
        "10:00",
        "Low-level disruption",
        "Negative",
        "Involved",
        "-1",
    ]


def test_timeline_xlsx_export_has_numbers(world, two_incidents):
    response = client_for(world, "headteacher").get(timeline_url(two_incidents, "format=xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 3
    assert values[1][5] == -1
    assert values[2][5] == 2


# Sensitive incidents -------------------------------------------------------------


@pytest.fixture
def sensitive_incident(world):
    obrien = world.pupils["oak9a_obrien"]
    return make_incident(
        pupils=[obrien],
        category=world.safeguarding,
        occurred_at=at(datetime.date(2026, 12, 2)),
        reported_by=world.staff["teacher"],
        points=-2,
        sensitive_kind="safeguarding",
        location="toilets",
    )


def test_sensitive_incident_restricted_on_timeline(world, sensitive_incident):
    obrien = world.pupils["oak9a_obrien"]

    html = body(client_for(world, "head_of_year").get(timeline_url(obrien)))

    assert "Restricted entry" in html
    assert "02/12/2026" in html
    assert "Safeguarding concern" not in html
    assert "Toilets" not in html
    assert f"/behaviour/incidents/{sensitive_incident.pk}/" not in html
    # The points still count.
    assert cells(totals_row(html, "This term")) == ["0", "-2", "-2", "1"]


def test_sensitive_incident_visible_to_safeguarding_lead(world, sensitive_incident):
    obrien = world.pupils["oak9a_obrien"]

    html = body(client_for(world, "safeguarding_lead").get(timeline_url(obrien)))

    assert "Restricted entry" not in html
    assert "Safeguarding concern" in html
    assert "Toilets" in html


def test_sensitive_incident_blank_in_export(world, sensitive_incident):
    obrien = world.pupils["oak9a_obrien"]

    hidden = client_for(world, "head_of_year").get(timeline_url(obrien, "format=csv"))
    permitted = client_for(world, "safeguarding_lead").get(timeline_url(obrien, "format=csv"))

    hidden_text = b"".join(hidden.streaming_content).decode("utf-8-sig")
    shown_text = b"".join(permitted.streaming_content).decode("utf-8-sig")
    hidden_rows = list(csv.reader(io.StringIO(hidden_text)))
    assert hidden_rows[1][:3] == ["02/12/2026", "10:00", "Restricted entry"]
    assert set(hidden_rows[1][3:]) == {""}
    assert "Safeguarding concern" not in hidden_text
    assert "Safeguarding concern" in shown_text


# Scope -------------------------------------------------------------------------


def test_head_of_year_gets_404_outside_year(world):
    taylor = world.pupils["oak10a_taylor"]
    make_incident(
        pupils=[taylor],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 12, 1)),
        reported_by=world.staff["teacher"],
    )

    response = client_for(world, "head_of_year").get(timeline_url(taylor))

    assert response.status_code == 404
    assert "Taylor" not in body(response)


@pytest.mark.parametrize("persona", ["trustee", "elm_teacher"])
def test_timeline_404_without_pupil_in_scope(world, two_incidents, persona):
    response = client_for(world, persona).get(timeline_url(two_incidents))

    assert response.status_code == 404
    assert "O&#x27;Brien" not in body(response)


# Query counts ------------------------------------------------------------------


def count_timeline_queries(world, client, pupil, incidents):
    teacher = world.staff["teacher"]
    for index in range(incidents):
        incident = make_incident(
            pupils=[pupil],
            category=world.disruption,
            occurred_at=at(datetime.date(2026, 11, 2) + datetime.timedelta(days=index % 30)),
            reported_by=teacher,
            points=-1,
        )
        make_detention(incident, pupil, datetime.date(2026, 12, 1))
        make_follow_up(incident, teacher, datetime.date(2026, 12, 10))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(timeline_url(pupil))
    assert response.status_code == 200
    return len(queries)


def test_timeline_queries_do_not_grow(world):
    client = client_for(world, "head_of_year")
    client.get(timeline_url(world.pupils["oak9a_obrien"]))

    few = count_timeline_queries(world, client, world.pupils["oak9a_obrien"], 3)
    many = count_timeline_queries(world, client, world.pupils["oak9a_smithjones"], 30)

    assert many == few


# Follow-ups --------------------------------------------------------------------


@pytest.fixture
def follow_ups(world):
    """Four follow-ups of the head of year and one of the teacher."""
    obrien = world.pupils["oak9a_obrien"]
    incident = make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 11, 16)),
        reported_by=world.staff["teacher"],
    )
    owner = world.staff["head_of_year"]
    due_later = make_follow_up(incident, owner, datetime.date(2026, 12, 10), "Call home")
    overdue_recent = make_follow_up(incident, owner, datetime.date(2026, 12, 1), "Check homework")
    overdue_oldest = make_follow_up(incident, owner, datetime.date(2026, 11, 20), "Seat plan")
    due_today = make_follow_up(incident, owner, datetime.date(2026, 12, 4), "Talk to tutor")
    resolved = make_follow_up(incident, owner, datetime.date(2026, 11, 25), "Meet parents")
    resolved.status = FollowUp.Status.RESOLVED
    resolved.resolution = "Met on Tuesday"
    resolved.resolved_at = at(datetime.date(2026, 11, 30))
    resolved.save()
    long_ago = make_follow_up(incident, owner, datetime.date(2026, 10, 1), "Old task")
    long_ago.status = FollowUp.Status.RESOLVED
    long_ago.resolution = "Done long ago"
    long_ago.resolved_at = at(datetime.date(2026, 10, 2))
    long_ago.save()
    teachers = make_follow_up(incident, world.staff["teacher"], datetime.date(2026, 12, 7), "Ask")
    return {
        "overdue_oldest": overdue_oldest,
        "overdue_recent": overdue_recent,
        "due_today": due_today,
        "due_later": due_later,
        "teachers": teachers,
    }


def test_follow_ups_overdue_first_in_words(world, follow_ups):
    html = body(client_for(world, "head_of_year").get("/behaviour/follow-ups/"))

    order = [
        html.index(note) for note in ("Seat plan", "Check homework", "Talk to tutor", "Call home")
    ]
    assert order == sorted(order)
    assert html.count("<strong>Overdue</strong>") == 2
    assert "Ask" not in html.split("Resolved in the last 30 days")[0]


def test_follow_ups_resolved_in_last_30_days(world, follow_ups):
    html = body(client_for(world, "head_of_year").get("/behaviour/follow-ups/"))

    resolved = html.split("Resolved in the last 30 days")[1]
    assert "Met on Tuesday" in resolved
    assert "Done long ago" not in html


def test_follow_ups_owner_all_for_head_of_year(world, follow_ups):
    html = body(client_for(world, "head_of_year").get("/behaviour/follow-ups/?owner=all"))

    assert "Ask" in html
    assert "Teacher Persona" in html


def test_follow_ups_owner_all_refused_for_tutor(world, follow_ups):
    response = client_for(world, "tutor").get("/behaviour/follow-ups/?owner=all")

    assert response.status_code == 400
    assert "owner" in body(response)


def test_follow_up_resolve_with_note(world, follow_ups):
    chosen = follow_ups["overdue_oldest"]

    response = client_for(world, "head_of_year").post(
        "/behaviour/follow-ups/",
        {"follow_up": chosen.pk, "resolution": "Moved seats; calmer since"},
    )

    assert response.status_code == 302
    chosen.refresh_from_db()
    assert chosen.status == FollowUp.Status.RESOLVED
    assert chosen.resolution == "Moved seats; calmer since"


def test_follow_up_resolve_without_note_is_400(world, follow_ups):
    chosen = follow_ups["overdue_oldest"]

    response = client_for(world, "head_of_year").post(
        "/behaviour/follow-ups/", {"follow_up": chosen.pk, "resolution": "  "}
    )

    assert response.status_code == 400
    assert "resolution is missing" in body(response)
    chosen.refresh_from_db()
    assert chosen.status == FollowUp.Status.OPEN


def test_follow_up_resolve_out_of_scope_is_404(world, follow_ups):
    response = client_for(world, "elm_teacher").post(
        "/behaviour/follow-ups/", {"follow_up": follow_ups["due_later"].pk, "resolution": "x"}
    )

    assert response.status_code == 404
    assert FollowUp.objects.get(pk=follow_ups["due_later"].pk).status == FollowUp.Status.OPEN


def test_my_year_lists_follow_ups_due(world, follow_ups):
    html = body(client_for(world, "head_of_year").get("/my-year/"))

    section = html.split("Follow-ups due")[1]
    assert "You have 4 open follow-ups" in section
    assert section.index("20/11/2026") < section.index("10/12/2026")
    assert section.count("<strong>Overdue:</strong>") == 2
    assert "/behaviour/follow-ups/" in section


# Profile box -------------------------------------------------------------------


def test_profile_shows_term_points_and_link(world, two_incidents):
    html = body(client_for(world, "head_of_year").get(f"/pupils/{two_incidents.pk}/"))

    section = html.split('id="behaviour-summary-heading"')[1].split("</section>")[0]
    assert "Positive points this term" in section
    assert '<span class="figure">2</span>' in section
    assert '<span class="figure">-1</span>' in section
    assert '<span class="figure">1</span>' in section
    assert f"/behaviour/pupils/{two_incidents.pk}/" in section


def test_action_kinds_described(world):
    obrien = world.pupils["oak9a_obrien"]
    incident = make_incident(
        pupils=[obrien],
        category=world.disruption,
        occurred_at=at(datetime.date(2026, 12, 1)),
        reported_by=world.staff["teacher"],
    )
    Action.objects.create(
        incident=incident,
        pupil=obrien,
        kind=Action.Kind.PARENT_CONTACT,
        contact_method=Action.ContactMethod.PHONE,
        contacted_at=at(datetime.date(2026, 12, 1), 15, 45),
    )
    Action.objects.create(
        incident=incident,
        pupil=obrien,
        kind=Action.Kind.REFERRAL,
        referred_to=world.staff["head_of_year"],
    )

    html = body(client_for(world, "headteacher").get(timeline_url(obrien)))

    assert "Parent contacted by phone call on 01/12/2026 at 15:45" in html
    assert "Referred to HeadOfYear Persona" in html


# Browser -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_follow_up_resolved_by_keyboard(browser, live_server):
    world = build_personas()
    make_terms(2026, world.academic_year.pk)
    category = CategoryFactory(trust=world.academies["oak"].trust, name="Low-level disruption")
    incident = make_incident(
        pupils=[world.pupils["oak9a_obrien"]],
        category=category,
        occurred_at=at(datetime.date(2026, 12, 1)),
        reported_by=world.staff["teacher"],
    )
    chosen = make_follow_up(
        incident, world.staff["head_of_year"], datetime.date(2026, 12, 2), "Call home"
    )
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("head.of.year")
    page.get_by_label("Password").fill("password")
    page.get_by_label("Password").press("Enter")
    page.wait_for_load_state()

    page.goto("/my-year/")
    page.get_by_role("link", name="All my follow-ups").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.get_by_label("What was done (resolution note)").focus()
    page.keyboard.type("Spoke to mum")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    assert "marked resolved" in page.locator(".messages").inner_text()
    chosen.refresh_from_db()
    assert chosen.status == FollowUp.Status.RESOLVED
    assert chosen.resolution == "Spoke to mum"
    context.close()

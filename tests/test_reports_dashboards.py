"""The trust, academy and year group dashboards: who opens which, figures
equal to the shared figure tables, targets and England's figures in words,
drill-down links, suppression without pupil names for trustees, and a
fixed number of queries."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academies.models import Phase
from reports.dashboard_context import HIDDEN_EXPLANATION, format_figure
from reports.figures import academy_table, year_group_table
from reports.models import Measure, Target
from trust.clock import LONDON

from .factories_attstats import mark_days, whole_year_term
from .factories_incidents import build_categories, log_incident
from .factories_pages import enrol_pupils
from .personas import PUPILS, TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
MONDAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def world():
    world = build_personas()
    whole_year_term(world.academic_year)
    mark_days(world.pupils["oak9a_obrien"], MONDAY, ["/", "\\", "/", "\\", "/", "G", "U", "O"])
    mark_days(world.pupils["oak9b_patel"], MONDAY, ["O"] * 6 + ["I"] * 3)
    mark_days(world.pupils["oak9a_smithjones"], MONDAY, ["/"] * 10)
    mark_days(world.pupils["elm9e_ashdown"], MONDAY, ["/"] * 8)
    mark_days(world.pupils["elm10e_birchwood"], MONDAY, ["/"] * 6 + ["O"] * 2)
    categories = build_categories(world)
    log_incident(world, "headteacher", categories.disruption, ["oak9b_patel"])
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def academy_url(academy):
    return f"{reverse('academy-dashboard')}?academy={academy.pk}"


def year_group_url(year_group):
    return reverse("year-group-dashboard", args=[year_group.pk])


def row_html(html, label):
    """Return the table row whose header cell contains `label`."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        header = re.search(r"<th scope=\"row\">(.*?)</th>", row, flags=re.S)
        if header and label in header.group(1):
            return row
    raise AssertionError(f"No row for {label!r}")


def pupil_words(world):
    words = []
    for _group, forename, surname in PUPILS.values():
        words += [forename, surname.replace("'", "&#x27;")]
    return words


# Who opens which page --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("trust_leader", 200),
        ("trustee", 200),
        ("headteacher", 404),
        ("head_of_year", 404),
        ("teacher", 404),
    ],
)
def test_trust_dashboard_by_role(world, persona, status):
    assert client_for(world, persona).get(reverse("trust-dashboard")).status_code == status


@pytest.mark.parametrize(
    ("persona", "academy_key", "status"),
    [
        ("trust_leader", "elm", 200),
        ("trustee", "elm", 200),
        ("headteacher", "oak", 200),
        ("headteacher", "elm", 404),
        ("head_of_year", "oak", 200),
        ("teacher", "oak", 200),
        ("teacher", "elm", 404),
    ],
)
def test_academy_dashboard_by_role(world, persona, academy_key, status):
    academy = world.academies[academy_key]

    response = client_for(world, persona).get(academy_url(academy))

    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "year_key", "status"),
    [
        ("trust_leader", "elm9", 200),
        ("trustee", "oak9", 200),
        ("headteacher", "oak10", 200),
        ("headteacher", "elm9", 404),
        ("head_of_year", "oak9", 200),
        ("head_of_year", "oak10", 404),
        ("teacher", "oak9", 404),
    ],
)
def test_year_group_dashboard_by_role(world, persona, year_key, status):
    url = year_group_url(world.year_groups[year_key])

    assert client_for(world, persona).get(url).status_code == status


def test_academy_dashboard_lands_on_own_academy(world):
    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    assert "Academy dashboard: Oak Academy" in html


def test_academy_dashboard_rejects_bad_id(world):
    response = client_for(world, "headteacher").get(reverse("academy-dashboard"), {"academy": "x"})

    assert response.status_code == 400
    assert "“x”" in body(response)


# Figures, targets and England ---------------------------------------------------------


def test_trust_figures_equal_academy_table(world):
    academies = [world.academies["elm"], world.academies["oak"]]
    table = academy_table(academies, DAY, suppress=False)

    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    for row in table.rows:
        cells = row_html(html, row.label)
        for measure in (Measure.ATTENDANCE, Measure.PERSISTENT_ABSENCE, Measure.NEGATIVE_PER_100):
            value = row.figures.value(measure)
            unit = "" if measure == Measure.NEGATIVE_PER_100 else "%"
            assert format_figure(value, unit) in cells, (row.label, measure)
    total = row_html(html, "Trust total")
    assert format_figure(table.total.figures.attendance_rate, "%") in total


def test_trust_attendance_band_in_words(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    # Oak: 15 of 27 sessions attended, 55.6%, between 50% and 90%.
    assert "55.6%" in row_html(html, "Oak Academy")
    assert "Persistent absence" in row_html(html, "Oak Academy")


def test_targets_shown_with_met_in_words(world):
    Target.objects.create(
        measure=Measure.ATTENDANCE, academic_year=world.academic_year, value="95.0"
    )
    Target.objects.create(
        measure=Measure.ATTENDANCE,
        academic_year=world.academic_year,
        academy=world.academies["oak"],
        value="50.0",
    )

    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    assert "Target 50.0%: met" in row_html(html, "Oak Academy")
    assert "Target 95.0%: not met" in row_html(html, "Elm Academy")


def test_academy_target_uses_override(world):
    Target.objects.create(
        measure=Measure.ATTENDANCE,
        academic_year=world.academic_year,
        academy=world.academies["oak"],
        value="97.0",
    )

    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    assert "Target 97.0%: not met" in html


def test_trust_shows_england_with_year(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    assert "England 2025/26 (latest published)" in html
    assert "93.1%" in html
    assert "pupils aged 5 to 15" in html


def test_trust_compares_each_academy(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    assert "Oak Academy: Secondary" in html
    assert "England 2025/26 (latest published): 91.5%" in row_html(html, "Oak Academy")


def test_academy_compares_its_phase(world):
    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    assert "Secondary, Academic year to date" in html
    assert "91.5%" in html
    assert "England 2025/26 (latest published)" in html


def test_all_through_compares_each_phase(world):
    from .factories import AcademyFactory

    trust = world.academies["oak"].trust
    academy = AcademyFactory(trust=trust, name="Rowan All-through", phase=Phase.ALL_THROUGH)

    html = body(client_for(world, "trust_leader").get(academy_url(academy)))

    assert "Primary phase (Years 1 to 6) against England" in html
    assert "Secondary phase (Years 7 to 11) against England" in html


def test_nursery_has_no_comparison(world):
    from .factories import AcademyFactory

    trust = world.academies["oak"].trust
    academy = AcademyFactory(trust=trust, name="Hazel Nursery", phase=Phase.NURSERY)

    html = body(client_for(world, "trust_leader").get(academy_url(academy)))

    assert "England publishes no attendance figures for this phase" in html
    assert "latest published" not in html


def test_year_group_figures_equal_table(world):
    oak = world.academies["oak"]
    table = year_group_table(oak, DAY, suppress=False)
    row = next(r for r in table.rows if r.year_group == world.year_groups["oak9"])

    html = body(client_for(world, "headteacher").get(year_group_url(world.year_groups["oak9"])))

    figures = html.split("Figures against targets")[1]
    assert format_figure(row.figures.attendance_rate, "%") in figures
    assert format_figure(row.figures.negative_per_100, "") in figures


def test_academy_year_groups_equal_table(world):
    oak = world.academies["oak"]
    table = year_group_table(oak, DAY, suppress=False)

    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    section = html.split("<h2>Year groups</h2>")[1]
    for row in table.rows:
        assert format_figure(row.figures.attendance_rate, "%") in row_html(section, row.label)


def test_breakdown_groups_shown(world):
    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    section = html.split("<h2>Pupil groups</h2>")[1]
    assert "Disadvantaged" in section
    assert "SEN support" in section
    assert "EHC plan" in section


def test_trend_charts_shown(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    assert "Attendance rate by month, the trust" in html
    assert "Negative incidents per 100 pupils by month, the trust" in html
    assert "Attendance rate by academy" in html
    assert "<svg" in html


def test_trend_per_academy(world):
    oak = world.academies["oak"]

    html = body(
        client_for(world, "trust_leader").get(reverse("trust-dashboard"), {"trend": oak.pk})
    )

    assert "Attendance rate by month, Oak Academy" in html


def test_trend_rejects_unknown_academy(world):
    response = client_for(world, "trust_leader").get(reverse("trust-dashboard"), {"trend": "99999"})

    assert response.status_code == 400
    assert "“99999”" in body(response)


# Drill-down --------------------------------------------------------------------------


def test_trust_drills_down_to_academies(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    for academy in world.academies.values():
        assert academy_url(academy) in html


def test_academy_drills_down_to_year_groups(world):
    html = body(client_for(world, "headteacher").get(reverse("academy-dashboard")))

    assert year_group_url(world.year_groups["oak9"]) in html
    assert year_group_url(world.year_groups["oak10"]) in html


def test_head_of_year_links_only_own_year(world):
    html = body(client_for(world, "head_of_year").get(reverse("academy-dashboard")))

    assert year_group_url(world.year_groups["oak9"]) in html
    assert year_group_url(world.year_groups["oak10"]) not in html


def test_year_group_links_pupils(world):
    obrien = world.pupils["oak9a_obrien"]

    html = body(client_for(world, "headteacher").get(year_group_url(world.year_groups["oak9"])))

    assert "The pupils behind these figures" in html
    assert reverse("pupil-overview", args=[obrien.pk]) in html
    assert "O&#x27;Brien, Aoife" in html


def test_my_year_links_year_group_dashboard(world):
    html = body(client_for(world, "head_of_year").get(reverse("my-year")))

    assert year_group_url(world.year_groups["oak9"]) in html


def test_trust_links_targets_page(world):
    html = body(client_for(world, "trust_leader").get(reverse("trust-dashboard")))

    assert reverse("report-targets") in html


def test_year_group_sort_by_attendance(world):
    url = year_group_url(world.year_groups["oak9"])

    html = body(client_for(world, "headteacher").get(url, {"sort": "attendance"}))

    table = html.split("The pupils behind these figures")[1]
    # Patel attended none of her sessions, O'Brien 5 of 8, Smith-Jones all.
    assert table.index("Patel") < table.index("O&#x27;Brien") < table.index("Smith-Jones")


def test_year_group_rejects_bad_sort(world):
    url = year_group_url(world.year_groups["oak9"])

    response = client_for(world, "headteacher").get(url, {"sort": "shoe-size"})

    assert response.status_code == 400
    html = body(response)
    assert "“shoe-size”" in html
    assert "attendance" in html


# Trustees and other aggregate-only users ----------------------------------------------


@pytest.mark.parametrize("page", ["trust", "academy", "oak9", "oak10"])
def test_trustee_sees_no_pupil_name(world, page):
    urls = {
        "trust": reverse("trust-dashboard"),
        "academy": academy_url(world.academies["oak"]),
        "oak9": year_group_url(world.year_groups["oak9"]),
        "oak10": year_group_url(world.year_groups["oak10"]),
    }

    response = client_for(world, "trustee").get(urls[page])

    assert response.status_code == 200
    html = body(response)
    for word in pupil_words(world):
        assert word not in html, word
    assert "/pupils/" not in html


def test_trustee_sees_dash_and_explanation(world):
    # Year 9 at Oak has three pupils, fewer than five.
    html = body(client_for(world, "trustee").get(year_group_url(world.year_groups["oak9"])))

    assert '–<span class="visually-hidden"> (hidden: fewer than 5 pupils)</span>' in html
    assert HIDDEN_EXPLANATION in html
    assert "The pupils behind these figures" not in html


def test_trustee_breakdown_hides_small_group(world):
    html = body(client_for(world, "trustee").get(academy_url(world.academies["oak"])))

    # O'Brien alone is on SEN support at Oak.
    row = row_html(html.split("<h2>Pupil groups</h2>")[1], "SEN support")
    assert "hidden: fewer than 5 pupils" in row
    assert '<td class="num">1</td>' not in row


def test_leader_breakdown_shows_small_group(world):
    html = body(client_for(world, "headteacher").get(academy_url(world.academies["oak"])))

    row = row_html(html.split("<h2>Pupil groups</h2>")[1], "SEN support")
    assert '<td class="num">1</td>' in row


def test_trustee_gets_counts_not_names(world):
    html = body(client_for(world, "trustee").get(academy_url(world.academies["oak"])))

    assert "Names are shown only to staff who see these pupils." in html


def test_teacher_academy_view_is_aggregate(world):
    html = body(client_for(world, "teacher").get(academy_url(world.academies["oak"])))

    for word in pupil_words(world):
        assert word not in html, word
    assert HIDDEN_EXPLANATION in html


def test_leader_sees_figures_unhidden(world):
    html = body(client_for(world, "trust_leader").get(year_group_url(world.year_groups["oak9"])))

    assert "hidden: fewer than 5 pupils" not in html


# Query counts ----------------------------------------------------------------------------


def queries_of(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def grow(world):
    """Add six pupils with a week of marks to every tutor group."""
    for group in world.tutor_groups.values():
        for pupil in enrol_pupils(group, 6):
            mark_days(pupil, MONDAY, ["/"] * 6 + ["O", "I"])


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("trust_leader", "trust"),
        ("trustee", "trust"),
        ("headteacher", "academy"),
        ("trustee", "academy"),
        ("headteacher", "year_group"),
        ("trustee", "year_group"),
    ],
)
def test_queries_do_not_grow(world, persona, page):
    from .factories import AcademyFactory, YearGroupFactory

    urls = {
        "trust": reverse("trust-dashboard"),
        "academy": academy_url(world.academies["oak"]),
        "year_group": year_group_url(world.year_groups["oak9"]),
    }
    client = client_for(world, persona)
    small = queries_of(client, urls[page])

    grow(world)
    trust = world.academies["oak"].trust
    extra = AcademyFactory(trust=trust, name="Ash Academy", phase="primary")
    YearGroupFactory(academy=extra, nc_year=5)
    large = queries_of(client, urls[page])

    assert large == small


def test_dashboards_link_to_the_intervention_report_form(client, world):
    year_group = world.year_groups["oak9"]
    client.force_login(world.users["trust_leader"])

    page = client.get(reverse("year-group-dashboard", args=[year_group.pk]))
    link = f"/reports/?kind=intervention&amp;target=year_group-{year_group.pk}"
    assert link in page.content.decode()

    form = client.get(f"/reports/?kind=intervention&target=year_group-{year_group.pk}")
    assert f'value="year_group-{year_group.pk}" selected' in form.content.decode()

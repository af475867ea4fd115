"""CSV and XLSX downloads of the dashboard tables: the same figures and scope
as the page, no names for trustees, formulas neutralised, and 400 for an
unknown table or format."""

import csv
import datetime
import io

import openpyxl
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pupils.models import Enrolment
from reports.figures import academy_table
from trust.clock import LONDON

from .factories import PupilFactory
from .factories_attstats import mark_days, whole_year_term
from .personas import PUPILS, TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
MONDAY = datetime.date(2026, 11, 30)
FORMULA = '=HYPERLINK("http://127.0.0.1/x")'


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
    group = world.tutor_groups["9A"]
    formula = PupilFactory(legal_forename="Formula", legal_surname=FORMULA)
    Enrolment.objects.create(
        pupil=formula,
        academy=group.academy,
        academic_year=group.academic_year,
        year_group=group.year_group,
        tutor_group=group,
        start_date=group.academic_year.start_date,
    )
    # Absent throughout, so the pupil also needs attention.
    mark_days(formula, MONDAY, ["O"] * 8)
    world.pupils["formula"] = formula
    return world


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def download(response):
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content).decode("utf-8-sig")


def csv_rows(response):
    return list(csv.reader(io.StringIO(download(response))))


def year_group_url(world, key):
    return reverse("year-group-dashboard", args=[world.year_groups[key].pk])


def export(client, url, table, fmt="csv", **params):
    return client.get(url, {**params, "export": table, "format": fmt})


def pupil_surnames():
    return [surname for _group, _forename, surname in PUPILS.values()] + [FORMULA]


# Figures equal the page's ------------------------------------------------------------------


def test_trust_csv_equals_table(world):
    academies = [world.academies["elm"], world.academies["oak"]]
    table = academy_table(academies, DAY, suppress=False)
    client = client_for(world, "trust_leader")

    rows = csv_rows(export(client, reverse("trust-dashboard"), "academies"))

    header, *body = rows
    assert header[:3] == ["Academy", "Pupils on roll", "Suspensions"]
    assert [row[0] for row in body] == ["Elm Academy", "Oak Academy", "Trust total"]
    attendance = header.index("Attendance (%)")
    for row, source in zip(body, table.rows, strict=False):
        assert row[1] == str(source.figures.on_roll)
        assert row[attendance] == str(source.figures.attendance_rate or "")


def test_trust_xlsx_opens(world):
    client = client_for(world, "trust_leader")

    response = export(client, reverse("trust-dashboard"), "academies", "xlsx")

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Academy"
    assert values[-1][0] == "Trust total"


@pytest.mark.parametrize("table", ["academies", "comparison", "trend"])
def test_every_trust_table_exports(world, table):
    client = client_for(world, "trust_leader")

    rows = csv_rows(export(client, reverse("trust-dashboard"), table))

    assert len(rows) >= 2


@pytest.mark.parametrize(
    "table", ["figures", "comparison", "year-groups", "breakdown", "trend", "attention"]
)
def test_every_academy_table_exports(world, table):
    client = client_for(world, "headteacher")
    url = reverse("academy-dashboard")

    response = export(client, url, table, academy=world.academies["oak"].pk)

    assert len(csv_rows(response)) >= 2


@pytest.mark.parametrize("table", ["figures", "breakdown", "trend", "attention", "pupils"])
def test_every_year_group_table_exports(world, table):
    client = client_for(world, "headteacher")

    response = export(client, year_group_url(world, "oak9"), table)

    assert len(csv_rows(response)) >= 2


# Formulas --------------------------------------------------------------------------------


def test_pupils_csv_neutralises_formula(world):
    client = client_for(world, "headteacher")

    rows = csv_rows(export(client, year_group_url(world, "oak9"), "pupils"))

    names = [row[0] for row in rows[1:]]
    assert f"'{FORMULA}, Formula" in names
    assert not any(name.startswith("=") for name in names)


def test_attention_csv_neutralises_formula(world):
    client = client_for(world, "headteacher")

    rows = csv_rows(export(client, year_group_url(world, "oak9"), "attention"))

    assert f"'{FORMULA}, Formula" in [row[0] for row in rows[1:]]


def test_pupils_xlsx_neutralises_formula(world):
    client = client_for(world, "headteacher")

    response = export(client, year_group_url(world, "oak9"), "pupils", "xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert f"'{FORMULA}, Formula" in names


# Scope --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "table"),
    [
        ("trust", "academies"),
        ("academy", "attention"),
        ("academy", "year-groups"),
        ("oak9", "attention"),
        ("oak9", "figures"),
        ("oak9", "breakdown"),
    ],
)
def test_trustee_export_has_no_names(world, page, table):
    urls = {
        "trust": (reverse("trust-dashboard"), {}),
        "academy": (reverse("academy-dashboard"), {"academy": world.academies["oak"].pk}),
        "oak9": (year_group_url(world, "oak9"), {}),
    }
    url, params = urls[page]

    text = download(export(client_for(world, "trustee"), url, table, **params))

    for surname in pupil_surnames():
        assert surname not in text, surname
    assert "Formula" not in text


def test_trustee_export_marks_hidden(world):
    client = client_for(world, "trustee")

    rows = csv_rows(export(client, year_group_url(world, "oak9"), "figures"))

    assert "Hidden" in rows[1]


def test_trustee_attention_counts_only(world):
    client = client_for(world, "trustee")

    rows = csv_rows(export(client, year_group_url(world, "oak9"), "attention"))

    assert rows[0] == ["Reason", "Pupils"]
    assert ["Persistent absence", "fewer than 5"] in rows[1:]


def test_trustee_cannot_export_pupils(world):
    client = client_for(world, "trustee")

    response = export(client, year_group_url(world, "oak9"), "pupils")

    assert response.status_code == 400
    html = response.content.decode()
    assert "“pupils”" in html
    assert "figures, breakdown, trend, attention" in html


def test_head_of_year_export_out_of_scope(world):
    client = client_for(world, "head_of_year")

    response = export(client, year_group_url(world, "oak10"), "pupils")

    assert response.status_code == 404


def test_head_of_year_exports_own_year(world):
    client = client_for(world, "head_of_year")

    rows = csv_rows(export(client, year_group_url(world, "oak9"), "pupils"))

    names = [row[0] for row in rows[1:]]
    assert "Patel, Isla" in names
    assert not any("Taylor" in name for name in names)


def test_academy_export_out_of_scope(world):
    client = client_for(world, "headteacher")
    url = reverse("academy-dashboard")

    response = export(client, url, "attention", academy=world.academies["elm"].pk)

    assert response.status_code == 404


# Invalid parameters --------------------------------------------------------------------------


def test_unknown_table_is_400(world):
    client = client_for(world, "trust_leader")

    response = export(client, reverse("trust-dashboard"), "salaries")

    assert response.status_code == 400
    html = response.content.decode()
    assert "“salaries”" in html
    assert "academies, comparison, trend" in html


def test_unknown_format_is_400(world):
    client = client_for(world, "trust_leader")

    response = export(client, reverse("trust-dashboard"), "academies", "pdf")

    assert response.status_code == 400
    html = response.content.decode()
    assert "“pdf”" in html
    assert "csv, xlsx" in html

"""CSV and XLSX export, and the pupil list export."""

import csv
import datetime
import decimal
import io

import openpyxl
import pytest
import time_machine

from pupils.models import SenStatus
from staff.models import Role
from trust import urls as trust_urls
from trust.exports import export_response, neutralise
from trust.models import AuditEvent

from .factories import grant
from .factories_output import (
    NOW,
    FsmPeriodFactory,
    head_of_year,
    safeguarding_lead,
    trustee,
    two_schools,
    user_with_role,
)

# The project's own URLs: the tests once ran before pupils/urls.py included
# these views, and the 404 page needs the layout's links.
urlpatterns = trust_urls.urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
HEADERS = [
    "UPN",
    "Forename",
    "Surname",
    "Date of birth",
    "Academy",
    "Year group",
    "Tutor group",
    "SEN status",
    "EAL",
    "Pupil premium",
]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def xlsx_sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return workbook.active


def xlsx_values(response) -> list[list[object]]:
    return [[cell.value for cell in row] for row in xlsx_sheet(response).iter_rows()]


# export_response -------------------------------------------------------------


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_csv_neutralises_formula_prefix(prefix):
    text = f'{prefix}HYPERLINK("http://127.0.0.1")'

    response = export_response(filename="x", fmt="csv", headers=["Name"], rows=[[text]])

    assert csv_rows(response)[1] == ["'" + text]


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_xlsx_neutralises_formula_prefix(prefix):
    text = f"{prefix}SUM(A1:A2)"

    response = export_response(filename="x", fmt="xlsx", headers=["Name"], rows=[[text]])

    cell = xlsx_sheet(response)["A2"]
    assert cell.data_type == "s"
    # XML parsers turn a stored carriage return into a line feed on reading.
    assert cell.value == ("'" + text).replace("\r", "\n")


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_header_neutralised(prefix):
    response = export_response(filename="x", fmt="csv", headers=[f"{prefix}1"], rows=[])

    assert csv_rows(response)[0] == [f"'{prefix}1"]


@pytest.mark.parametrize("text", ["Smith", "O'Brien", " =1", "a=b", "1-2", "", "Zoë"])
def test_plain_text_unchanged(text):
    assert neutralise(text) == text


def test_csv_numbers_stay_unquoted():
    rows = [[-3, 0, 2.5, decimal.Decimal("-1.25"), "-3"]]

    response = export_response(filename="x", fmt="csv", headers=list("ABCDE"), rows=rows)

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1] == "-3,0,2.5,-1.25,'-3"


def test_xlsx_numbers_stay_numbers():
    rows = [[-3, 0, 2.5, decimal.Decimal("-1.25"), "-3"]]

    response = export_response(filename="x", fmt="xlsx", headers=list("ABCDE"), rows=rows)

    sheet = xlsx_sheet(response)
    assert sheet["A2"].value == -3
    assert sheet["A2"].data_type == "n"
    assert isinstance(sheet["A2"].value, int)
    assert sheet["B2"].value == 0
    assert sheet["B2"].data_type == "n"
    assert sheet["C2"].value == 2.5
    assert sheet["D2"].value == -1.25
    assert sheet["D2"].data_type == "n"
    assert sheet["E2"].value == "'-3"
    assert sheet["E2"].data_type == "s"


def test_csv_dates_are_dd_mm_yyyy():
    rows = [[datetime.date(2014, 4, 3), datetime.datetime(2024, 7, 1, 12, 30, tzinfo=datetime.UTC)]]

    response = export_response(filename="x", fmt="csv", headers=["Date", "Time"], rows=rows)

    # 12:30 UTC on 1 July is 13:30 in London (BST).
    assert csv_rows(response)[1] == ["03/04/2014", "01/07/2024 13:30"]


def test_xlsx_dates_are_date_cells():
    rows = [[datetime.date(2014, 4, 3), datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.UTC)]]

    response = export_response(filename="x", fmt="xlsx", headers=["Date", "Time"], rows=rows)

    sheet = xlsx_sheet(response)
    assert sheet["A2"].is_date
    assert sheet["A2"].value.date() == datetime.date(2014, 4, 3)
    assert sheet["A2"].number_format == "dd/mm/yyyy"
    assert sheet["B2"].is_date
    assert sheet["B2"].value == datetime.datetime(2024, 1, 1, 9, 0)
    assert sheet["B2"].number_format == "dd/mm/yyyy hh:mm"


def test_csv_is_utf8_with_bom_and_streamed():
    response = export_response(
        filename="x", fmt="csv", headers=["Name"], rows=[["Zoë Ní Bhriain"], ["李明"]]
    )

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [["Name"], ["Zoë Ní Bhriain"], ["李明"]]


def test_booleans_and_blanks():
    rows = [[True, False, None]]

    csv_response = export_response(filename="x", fmt="csv", headers=list("ABC"), rows=rows)
    xlsx_response = export_response(filename="x", fmt="xlsx", headers=list("ABC"), rows=rows)

    assert csv_rows(csv_response)[1] == ["Yes", "No", ""]
    assert xlsx_values(xlsx_response)[1] == ["Yes", "No", None]


def test_xlsx_drops_control_characters():
    response = export_response(filename="x", fmt="xlsx", headers=["A"], rows=[["a\x01b\x1fc"]])

    assert xlsx_sheet(response)["A2"].value == "abc"


def test_xlsx_header_row_and_content_type():
    response = export_response(filename="pupils", fmt="xlsx", headers=["UPN", "Name"], rows=[])

    sheet = xlsx_sheet(response)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert [cell.value for cell in sheet[1]] == ["UPN", "Name"]
    assert sheet["A1"].font.bold
    assert sheet.title == "pupils"


@pytest.mark.parametrize(
    ("filename", "fmt", "expected"),
    [
        ("pupils-2026-11-10", "csv", "pupils-2026-11-10.csv"),
        ("pupils.xlsx", "xlsx", "pupils.xlsx"),
        ('a "quoted"\r\nname', "csv", "a-quoted-name.csv"),
        ("../../etc/passwd", "csv", "etc-passwd.csv"),
        ("", "xlsx", "export.xlsx"),
    ],
)
def test_filename_is_safe(filename, fmt, expected):
    response = export_response(filename=filename, fmt=fmt, headers=["A"], rows=[])

    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    assert response["Cache-Control"] == "private, no-store"


def test_unknown_format_rejected():
    with pytest.raises(ValueError, match=r"'pdf'.*'csv' or 'xlsx'"):
        export_response(filename="x", fmt="pdf", headers=["A"], rows=[])  # type: ignore[arg-type]


# The pupil list export ---------------------------------------------------------


@pytest.fixture
def oak_elm():
    with time_machine.travel(NOW, tick=False):
        yield two_schools()


def export(client, user, fmt="csv", **params):
    client.force_login(user)
    return client.get(f"/pupils/export.{fmt}", params)


def exported(response, fmt="csv") -> list[list[object]]:
    assert response.status_code == 200, response.content[:300]
    return csv_rows(response) if fmt == "csv" else xlsx_values(response)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_head_of_year_exports_own_year_only(client, oak_elm, fmt):
    oak, elm = oak_elm
    mine = [oak.enrol(legal_surname=f"Nine{i}") for i in range(3)]
    oak.enrol(year=10, legal_surname="OakTen")
    elm.enrol(legal_surname="ElmNine")

    rows = exported(export(client, head_of_year(oak.year9), fmt), fmt)

    assert rows[0] == HEADERS
    assert sorted(row[0] for row in rows[1:]) == sorted(p.upn for p in mine)
    assert {row[4] for row in rows[1:]} == {"Oak Academy"}
    assert {row[5] for row in rows[1:]} == {"Year 9"}


def test_export_columns(client, oak_elm):
    oak, _ = oak_elm
    pupil = oak.enrol(
        legal_forename="Zoë",
        legal_surname="Ní Bhriain",
        preferred_forename="Zoe",
        date_of_birth=datetime.date(2012, 3, 4),
        sen_status=SenStatus.EHC_PLAN,
        eal=True,
    )
    FsmPeriodFactory(pupil=pupil)
    plain = oak.enrol(legal_forename="Amara", legal_surname="Okafor")

    rows = exported(export(client, head_of_year(oak.year9)))

    by_upn = {row[0]: row for row in rows[1:]}
    assert by_upn[pupil.upn] == [
        pupil.upn,
        "Zoe",
        "Ní Bhriain",
        "04/03/2012",
        "Oak Academy",
        "Year 9",
        "9A",
        "Education, health and care plan",
        "Yes",
        "Yes",
    ]
    assert by_upn[plain.upn][1:3] == ["Amara", "Okafor"]
    assert by_upn[plain.upn][7:] == ["No special educational needs", "No", "No"]


def test_xlsx_export_date_is_a_date_cell(client, oak_elm):
    oak, _ = oak_elm
    oak.enrol(date_of_birth=datetime.date(2012, 3, 4))

    sheet = xlsx_sheet(export(client, head_of_year(oak.year9), "xlsx"))

    assert sheet["D2"].is_date
    assert sheet["D2"].number_format == "dd/mm/yyyy"
    assert sheet["D2"].value.date() == datetime.date(2012, 3, 4)


def test_export_neutralises_names(client, oak_elm):
    oak, _ = oak_elm
    pupil = oak.enrol(legal_forename='=HYPERLINK("x")', legal_surname="-Smith")

    rows = exported(export(client, head_of_year(oak.year9)))

    assert rows[1][:3] == [pupil.upn, '\'=HYPERLINK("x")', "'-Smith"]


def test_looked_after_column_needs_safeguarding(client, oak_elm):
    oak, _ = oak_elm
    oak.enrol(looked_after=True)

    rows = exported(export(client, head_of_year(oak.year9)))

    assert "Looked after" not in rows[0]
    assert "Yes" not in rows[1][10:]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE).exists()


def test_safeguarding_lead_gets_looked_after_and_is_logged(client, oak_elm):
    oak, _ = oak_elm
    cared_for = oak.enrol(looked_after=True)
    other = oak.enrol(year=10)
    lead = safeguarding_lead(oak.academy)

    rows = exported(export(client, lead))

    assert rows[0] == [*HEADERS, "Looked after"]
    by_upn = {row[0]: row for row in rows[1:]}
    assert by_upn[cared_for.upn][10] == "Yes"
    assert by_upn[cared_for.upn][9] == "Yes"
    assert by_upn[other.upn][10] == "No"
    events = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE)
    assert {event.pupil_ref for event in events} == {cared_for.pk, other.pk}
    assert all(event.actor == lead for event in events)
    assert all(event.changes == {"fields": ["looked_after"]} for event in events)


def test_looked_after_blank_outside_permission(client, oak_elm):
    oak, elm = oak_elm
    oak_pupil = oak.enrol(looked_after=True)
    elm_pupil = elm.enrol(looked_after=True)
    # A trust leader may open every pupil but has the safeguarding permission at Oak only.
    user = user_with_role(Role.TRUST_LEADER)
    grant(user.staff_member, Role.SAFEGUARDING_LEAD, oak.academy)

    rows = exported(export(client, user))

    by_upn = {row[0]: row for row in rows[1:]}
    assert by_upn[oak_pupil.upn][10] == "Yes"
    assert by_upn[elm_pupil.upn][10] == ""


def test_search_by_name_and_upn(client, oak_elm):
    oak, _ = oak_elm
    zoe = oak.enrol(legal_forename="Zoë", legal_surname="O’Brien")
    other = oak.enrol(legal_forename="Amara", legal_surname="Okafor")
    user = head_of_year(oak.year9)

    by_name = exported(export(client, user, q="zoe o'brien"))
    by_upn = exported(export(client, user, q=other.upn.lower()))

    assert [row[0] for row in by_name[1:]] == [zoe.upn]
    assert [row[0] for row in by_upn[1:]] == [other.upn]


def test_group_filters(client, oak_elm):
    oak, elm = oak_elm
    nine = oak.enrol()
    ten = oak.enrol(year=10)
    elm.enrol()
    leader = user_with_role(Role.ACADEMY_LEADER, oak.academy, academy=oak.academy)

    by_year = exported(export(client, leader, year_group=oak.year10.pk))
    by_group = exported(export(client, leader, tutor_group=oak.group9.pk))
    by_academy = exported(export(client, leader, academy=oak.academy.pk))

    assert [row[0] for row in by_year[1:]] == [ten.upn]
    assert [row[0] for row in by_group[1:]] == [nine.upn]
    assert sorted(row[0] for row in by_academy[1:]) == sorted([nine.upn, ten.upn])


@pytest.mark.parametrize("param", ["academy", "year_group", "tutor_group"])
def test_out_of_scope_filter_matches_nothing(client, oak_elm, param):
    oak, elm = oak_elm
    oak.enrol()
    elm.enrol()
    targets = {"academy": elm.academy, "year_group": elm.year9, "tutor_group": elm.group9}

    rows = exported(export(client, head_of_year(oak.year9), **{param: targets[param].pk}))

    assert rows == [HEADERS]


def test_other_year_filter_matches_nothing(client, oak_elm):
    oak, _ = oak_elm
    oak.enrol()
    oak.enrol(year=10)

    rows = exported(export(client, head_of_year(oak.year9), year_group=oak.year10.pk))

    assert rows == [HEADERS]


def test_trustee_gets_404(client, oak_elm):
    oak, _ = oak_elm
    pupil = oak.enrol(legal_surname="Hidden")

    response = export(client, trustee())

    assert response.status_code == 404
    assert pupil.upn.encode() not in response.content
    assert b"Hidden" not in response.content


def test_anonymous_is_redirected_to_login(client, oak_elm):
    response = client.get("/pupils/export.csv")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_unknown_format_is_400(client, oak_elm):
    oak, _ = oak_elm

    response = export(client, head_of_year(oak.year9), fmt="pdf")

    assert response.status_code == 400
    message = response.content.decode()
    assert "'pdf'" in message
    assert '"csv"' in message
    assert '"xlsx"' in message


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5", "١٢"])
def test_malformed_id_is_400(client, oak_elm, value):
    oak, _ = oak_elm

    response = export(client, head_of_year(oak.year9), academy=value)

    assert response.status_code == 400
    message = response.content.decode()
    assert "academy" in message
    assert repr(value) in message
    assert "whole number" in message


def test_overlong_search_is_400(client, oak_elm):
    oak, _ = oak_elm

    response = export(client, head_of_year(oak.year9), q="x" * 101)

    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_query_count_does_not_grow(client, oak_elm, django_assert_max_num_queries, fmt):
    oak, _ = oak_elm
    lead = safeguarding_lead(oak.academy)
    client.force_login(lead)
    counts = {}
    for total in (5, 50):
        while oak.academy.enrolments.count() < total:
            pupil = oak.enrol(year=9 if total % 2 else 10)
            FsmPeriodFactory(pupil=pupil)
        with django_assert_max_num_queries(12) as captured:
            response = client.get(f"/pupils/export.{fmt}")
            rows = exported(response, fmt)
        assert len(rows) == total + 1
        counts[total] = len(captured.captured_queries)

    assert counts[5] == counts[50], counts

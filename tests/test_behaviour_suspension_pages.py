"""Suspension pages: recording, the detail page with its forms, the
register with counts, exports and scope, and the register page writing E
marks for its day."""

import csv
import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attendance.models import AttendanceMark
from behaviour.models import Suspension
from pupils.models import Enrolment
from trust.clock import LONDON

from .factories import PupilFactory
from .factories_attendance import enrol
from .factories_suspensions import record, suspension_world
from .personas import TODAY

pytestmark = pytest.mark.django_db

D = datetime.date
NEW = reverse("behaviour:suspension-new")
REGISTER = reverse("behaviour:suspension-register")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    return suspension_world()


def client_for(world, persona):
    client = Client()
    client.force_login(world.users[persona])
    return client


def body(response):
    return response.content.decode()


def form_data(world, **overrides):
    data = {
        "kind": "suspension",
        "start_date": "03/12/2026",
        "start_session": "AM",
        "sessions": "4",
        "end_date": "",
        "reason_1": "PA",
        "reason_2": "VA",
        "reason_3": "",
        "decided_by": str(world.staff["headteacher"].pk),
        "decided_on": "02/12/2026",
        "details": "Pushed a member of staff",
        "alternative_provision_details": "",
        "parents_notified_on": "02/12/2026",
    }
    data.update(overrides)
    return data


def detail_url(suspension):
    return reverse("behaviour:suspension-detail", args=[suspension.pk])


# Recording ----------------------------------------------------------------------


def test_new_form_lists_headteachers(world):
    obrien = world.pupils["oak9a_obrien"]

    response = client_for(world, "attendance_officer").get(f"{NEW}?pupil={obrien.pk}")

    assert response.status_code == 200
    html = body(response)
    assert "Record a suspension or exclusion: Aoife O&#x27;Brien" in html
    assert "Headteacher Persona" in html
    assert "ElmHead" not in html
    assert 'name="reason_3"' in html
    assert '<label for="id_start_date">' in html


def test_new_records_and_redirects(world):
    obrien = world.pupils["oak9a_obrien"]
    client = client_for(world, "attendance_officer")

    response = client.post(f"{NEW}?pupil={obrien.pk}", form_data(world))

    suspension = Suspension.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(suspension)
    assert suspension.reasons == ["PA", "VA"]
    assert suspension.sessions == 4
    assert suspension.parents_notified_on == D(2026, 12, 2)
    page = client.get(detail_url(suspension))
    assert "4 of 4 sessions have an E mark written" in body(page)


def test_new_shows_service_errors(world):
    obrien = world.pupils["oak9a_obrien"]
    data = form_data(world, reason_2="PA")

    response = client_for(world, "headteacher").post(f"{NEW}?pupil={obrien.pk}", data)

    assert response.status_code == 400
    html = body(response)
    assert "The suspension was not recorded" in html
    assert "Reason PA is given twice" in html
    assert not Suspension.objects.exists()


def test_new_rejects_non_headteacher(world):
    obrien = world.pupils["oak9a_obrien"]
    data = form_data(world, decided_by=str(world.staff["academy_leader"].pk))

    response = client_for(world, "headteacher").post(f"{NEW}?pupil={obrien.pk}", data)

    assert response.status_code == 400
    assert "Select a valid choice" in body(response)


def test_new_reports_overlap(world):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 3), sessions=2)

    response = client_for(world, "headteacher").post(f"{NEW}?pupil={obrien.pk}", form_data(world))

    assert response.status_code == 400
    assert "may not overlap" in body(response)


def test_new_scope(world):
    obrien = world.pupils["oak9a_obrien"]
    taylor = world.pupils["oak10a_taylor"]

    assert client_for(world, "elm_teacher").get(f"{NEW}?pupil={obrien.pk}").status_code == 404
    assert client_for(world, "head_of_year").get(f"{NEW}?pupil={taylor.pk}").status_code == 404
    assert client_for(world, "head_of_year").get(f"{NEW}?pupil={obrien.pk}").status_code == 403
    assert client_for(world, "tutor").get(f"{NEW}?pupil={obrien.pk}").status_code == 403
    assert client_for(world, "trustee").get(f"{NEW}?pupil={obrien.pk}").status_code == 404


@pytest.mark.parametrize("query", ["", "?pupil=abc", "?pupil=0"])
def test_new_bad_pupil_parameter(world, query):
    response = client_for(world, "headteacher").get(f"{NEW}{query}")

    assert response.status_code == 400
    assert "pupil" in body(response)


# Detail -------------------------------------------------------------------------


def test_detail_shows_fields_sessions_and_marks(world):
    suspension = record(
        world, "oak9a_obrien", start_date=D(2026, 12, 4), start_session="PM", sessions=3
    )

    response = client_for(world, "headteacher").get(detail_url(suspension))

    html = body(response)
    assert response.status_code == 200
    assert "04/12/2026, afternoon" in html
    assert "3 sessions, 1.5 school days" in html
    assert "1 of 3 sessions have an E mark written" in html
    assert "Not yet written" in html
    assert "DB: Persistent or general disruptive behaviour" in html
    assert "Suspension register" in html
    assert "Withdraw" in html


def test_detail_saves_notifications(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=12)
    client = client_for(world, "headteacher")
    assert "Governing board: not recorded" in body(client.get(detail_url(suspension)))

    response = client.post(
        detail_url(suspension),
        {
            "action": "details",
            "governors_notified_on": "03/11/2026",
            "local_authority_notified_on": "2026-11-04",
            "reintegration_meeting_on": "18/11/2026",
            "reintegration_notes": "Agreed a report card",
        },
    )

    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.governors_notified_on == D(2026, 11, 3)
    assert suspension.local_authority_notified_on == D(2026, 11, 4)
    assert suspension.reintegration_notes == "Agreed a report card"
    assert "Governing board told on 03/11/2026" in body(client.get(detail_url(suspension)))


def test_detail_rejects_future_notification(world):
    suspension = record(world, "oak9a_obrien")

    response = client_for(world, "headteacher").post(
        detail_url(suspension), {"action": "details", "governors_notified_on": "25/12/2026"}
    )

    assert response.status_code == 400
    assert "25/12/2026 is in the future" in body(response)


def test_detail_rejects_invalid_date(world):
    suspension = record(world, "oak9a_obrien")

    response = client_for(world, "headteacher").post(
        detail_url(suspension), {"action": "details", "governors_notified_on": "31/02/2026"}
    )

    assert response.status_code == 400
    assert "“31/02/2026” is not a date" in body(response)


def test_detail_withdraw(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=4)

    response = client_for(world, "headteacher").post(
        detail_url(suspension), {"action": "withdraw", "withdrawn_reason": "Overturned"}
    )

    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.status == Suspension.Status.WITHDRAWN
    assert suspension.days.count() == 2


def test_detail_withdraw_forbidden_for_head_of_year(world):
    suspension = record(world, "oak9a_obrien")
    client = client_for(world, "head_of_year")

    assert "Reason for withdrawal" not in body(client.get(detail_url(suspension)))
    response = client.post(detail_url(suspension), {"action": "withdraw", "withdrawn_reason": "x"})
    assert response.status_code == 403


def test_detail_permanent_end_form(world):
    exclusion = record(
        world, "oak9a_obrien", kind="permanent", start_date=D(2026, 12, 3), sessions=None
    )

    response = client_for(world, "headteacher").post(
        detail_url(exclusion), {"action": "end", "end_date": "04/12/2026"}
    )

    assert response.status_code == 302
    enrolment = Enrolment.objects.get(pupil=world.pupils["oak9a_obrien"])
    assert enrolment.end_date == D(2026, 12, 4)
    assert enrolment.leaving_reason == "Permanently excluded"


def test_detail_scope(world):
    suspension = record(world, "oak9a_obrien")

    assert client_for(world, "elm_teacher").get(detail_url(suspension)).status_code == 404
    assert client_for(world, "elm_headteacher").get(detail_url(suspension)).status_code == 404
    assert client_for(world, "trustee").get(detail_url(suspension)).status_code == 404
    assert client_for(world, "tutor").get(detail_url(suspension)).status_code == 200


# Register ---------------------------------------------------------------------------


def test_register_lists_with_counts_and_flags(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=12, reasons=["PA", "VA"])
    record(world, "oak10a_taylor", kind="lunchtime", sessions=2, reasons=["PA"])
    record(world, "elm9e_ashdown", actor="elm_headteacher")

    response = client_for(world, "headteacher").get(REGISTER)

    html = body(response)
    assert response.status_code == 200
    assert "Aoife O&#x27;Brien" in html
    assert "Oliver Taylor" in html
    assert "Elowen Ashdown" not in html
    assert "PA: Physical assault against an adult" in html
    assert "tell the governing board and the local authority without delay" in html
    assert "from day 6 the school must arrange suitable full-time education" in html


def test_register_filters(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=2)
    record(world, "oak10a_taylor", kind="lunchtime", sessions=2)
    client = client_for(world, "trust_leader")

    lunch = body(client.get(f"{REGISTER}?kind=lunchtime"))
    assert "Oliver Taylor" in lunch
    assert "Aoife O&#x27;Brien" not in lunch
    november = body(client.get(f"{REGISTER}?from=01/11/2026&to=30/11/2026"))
    assert "Aoife O&#x27;Brien" in november
    assert "Oliver Taylor" not in november
    elm = body(client.get(f"{REGISTER}?academy={world.academies['elm'].pk}"))
    assert "Aoife O&#x27;Brien" not in elm


@pytest.mark.parametrize(
    "query",
    [
        "?from=31/02/2026",
        "?kind=expelled",
        "?academy=x",
        "?format=pdf",
        "?from=2026-12-01&to=2026-11-01",
    ],
)
def test_register_bad_parameters(world, query):
    response = client_for(world, "headteacher").get(f"{REGISTER}{query}")

    assert response.status_code == 400


def test_register_academy_outside_scope(world):
    elm = world.academies["elm"]

    assert client_for(world, "headteacher").get(f"{REGISTER}?academy={elm.pk}").status_code == 404


def test_register_head_of_year_sees_own_year(world):
    record(world, "oak9a_obrien")
    record(world, "oak10a_taylor")

    html = body(client_for(world, "head_of_year").get(REGISTER))

    assert "Aoife O&#x27;Brien" in html
    assert "Oliver Taylor" not in html


def test_register_trustee_counts_only(world):
    record(world, "oak9a_obrien")
    for key in ("oak9a_smithjones", "oak9b_patel", "oak10a_taylor"):
        record(world, key, reasons=["PA"])
    record(world, "elm9e_ashdown", actor="elm_headteacher", reasons=["PA"])
    extra = PupilFactory(legal_forename="Extra", legal_surname="Pupil")
    enrol(extra, world.tutor_groups["9A"], D(2026, 9, 1))
    world.pupils["extra"] = extra
    record(world, "extra", reasons=["PA"])

    response = client_for(world, "trustee").get(REGISTER)

    html = body(response)
    assert response.status_code == 200
    assert "Aoife" not in html
    assert "Extra Pupil" not in html
    assert "fewer than 5" in html
    oak_row = html.split("Oak Academy</th>")[1].split("</tr>")[0]
    assert '<td class="num">5</td>' in oak_row
    elm_row = html.split("Elm Academy</th>")[1].split("</tr>")[0]
    assert "fewer than 5" in elm_row
    pa_row = html.split("PA: Physical assault against an adult</th>")[1].split("</tr>")[0]
    assert '<td class="num">5</td>' in pa_row


def test_register_trustee_export_has_no_names(world):
    record(world, "oak9a_obrien")

    response = client_for(world, "trustee").get(f"{REGISTER}?format=csv")

    text = b"".join(response.streaming_content).decode()
    assert "O'Brien" not in text
    assert "fewer than 5" in text


def test_register_csv_export(world):
    record(world, "oak9a_obrien", start_date=D(2026, 12, 3), sessions=3)

    response = client_for(world, "headteacher").get(f"{REGISTER}?format=csv")

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Pupil"
    assert rows[1][0] == "Aoife O'Brien"
    assert rows[1][6] == "03/12/2026"
    assert rows[1][9] == "1.5"


def test_register_xlsx_export(world):
    record(world, "oak9a_obrien")

    response = client_for(world, "headteacher").get(f"{REGISTER}?format=xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def _register_queries(world, extra):
    for index in range(extra):
        pupil = PupilFactory()
        enrol(pupil, world.tutor_groups["9B"], D(2026, 9, 1))
        key = f"extra{index}"
        world.pupils[key] = pupil
        week, weekday = divmod(index, 5)
        start = D(2026, 11, 2) + datetime.timedelta(weeks=week, days=weekday)
        record(world, key, start_date=start, sessions=1)
    client = client_for(world, "trust_leader")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REGISTER)
    assert response.status_code == 200
    return len(queries)


def test_register_queries_do_not_grow(world):
    assert _register_queries(world, 1) == _register_queries(world, 6)


# Links and the register page -------------------------------------------------------


def test_pupil_section_links_pages(world):
    from django.template.loader import render_to_string

    from behaviour.suspensions import pupil_suspension_summary

    obrien = world.pupils["oak9a_obrien"]
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 11, 2), sessions=11)
    summary = pupil_suspension_summary(world.users["headteacher"], obrien, D(2026, 12, 4))

    html = render_to_string("behaviour/_pupil_suspensions.html", {"suspension_summary": summary})

    assert "<h2" in html
    assert f'href="{REGISTER}"' in html
    assert f"{NEW}?pupil={obrien.pk}" in html
    assert detail_url(suspension) in html
    assert "5.5" in html
    assert "tell the governing board and the local authority without delay" in html


def test_register_page_writes_day_marks(world, frozen_clock):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=4)
    frozen_clock.move_to(datetime.datetime(2026, 12, 7, 8, 30, tzinfo=LONDON))
    group = world.tutor_groups["9A"]

    response = client_for(world, "tutor").get(
        reverse("attendance:register", args=[group.pk, "2026-12-07", "AM"])
    )

    assert response.status_code == 200
    codes = set(
        AttendanceMark.objects.filter(pupil=obrien, date=D(2026, 12, 7)).values_list(
            "code", flat=True
        )
    )
    assert codes == {"E"}


# API -----------------------------------------------------------------------------------

API = "/api/v1/suspensions/"


def api_for(world, persona):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(world.users[persona])
    return client


def api_payload(world, **overrides):
    payload = {
        "pupil": world.pupils["oak9a_obrien"].pk,
        "kind": "suspension",
        "start_date": "2026-12-03",
        "sessions": 3,
        "reasons": ["PA"],
        "decided_by": world.staff["headteacher"].pk,
    }
    payload.update(overrides)
    return payload


def test_api_create_returns_numbers(world):
    response = api_for(world, "headteacher").post(API, api_payload(world), format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["school_days"] == 1.5
    assert data["sessions"] == 3
    assert data["end_date"] == "2026-12-04"
    assert data["reasons"] == [{"code": "PA", "label": "Physical assault against an adult"}]
    assert [s["mark_written"] for s in data["session_list"]] == [True, True, True]


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"reasons": ["PA", "VA", "DB", "BU"]}, "reasons", "4 reasons given"),
        ({"reasons": ["OT"]}, "reasons", "withdrawn on 01/09/2020"),
        ({"start_date": "03/12/2026"}, "start_date", "'03/12/2026' is not a valid date"),
        ({"kind": "expulsion"}, "kind", "expulsion"),
        ({"sessions": None, "end_date": "2026-12-01"}, "end_date", "before the start date"),
        ({"decided_by": "academy_leader"}, "decided_by", "only the headteacher"),
        ({"sessions": 91}, "sessions", "give 1 to 90"),
    ],
)
def test_api_create_400(world, overrides, field, expected):
    if overrides.get("decided_by") == "academy_leader":
        overrides = {"decided_by": world.staff["academy_leader"].pk}

    response = api_for(world, "headteacher").post(
        API, api_payload(world, **overrides), format="json"
    )

    assert response.status_code == 400
    assert expected in " ".join(response.json()[field])
    assert not Suspension.objects.exists()


def test_api_create_out_of_scope_404(world):
    payload = api_payload(world, decided_by=world.staff["elm_headteacher"].pk)

    response = api_for(world, "elm_headteacher").post(API, payload, format="json")

    assert response.status_code == 404


def test_api_list_and_retrieve_scoped(world):
    oak = record(world, "oak9a_obrien")
    elm = record(world, "elm9e_ashdown", actor="elm_headteacher")
    client = api_for(world, "headteacher")

    listed = client.get(API).json()
    assert [row["id"] for row in listed["results"]] == [oak.pk]
    assert client.get(f"{API}{elm.pk}/").status_code == 404
    assert client.get(f"{API}{oak.pk}/").json()["academy_name"] == "Oak Academy"
    assert api_for(world, "trustee").get(API).json()["results"] == []
    assert api_for(world, "elm_teacher").get(f"{API}{oak.pk}/").status_code == 404


def test_api_list_filters(world):
    record(world, "oak9a_obrien", start_date=D(2026, 11, 2))
    lunch = record(world, "oak10a_taylor", kind="lunchtime", sessions=2)
    client = api_for(world, "trust_leader")

    assert [r["id"] for r in client.get(f"{API}?kind=lunchtime").json()["results"]] == [lunch.pk]
    assert client.get(f"{API}?from=2026-12-01").json()["count"] == 1
    assert client.get(f"{API}?kind=expelled").status_code == 400
    assert "is not a valid date" in client.get(f"{API}?from=1/12/2026").json()["from"][0]
    assert client.get(f"{API}?pupil=abc").status_code == 400


def test_api_patch_notifications_and_withdraw(world):
    suspension = record(world, "oak9a_obrien", start_date=D(2026, 12, 4), sessions=4)
    client = api_for(world, "headteacher")

    response = client.patch(
        f"{API}{suspension.pk}/", {"governors_notified_on": "2026-12-04"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["governors_notified_on"] == "2026-12-04"

    response = client.patch(
        f"{API}{suspension.pk}/",
        {"status": "withdrawn", "withdrawn_reason": "Overturned"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert len(response.json()["session_list"]) == 2


def test_api_patch_400s(world):
    suspension = record(world, "oak9a_obrien")
    client = api_for(world, "headteacher")
    url = f"{API}{suspension.pk}/"

    unknown = client.patch(url, {"sessions": 9}, format="json")
    assert unknown.status_code == 400
    assert "cannot be changed" in unknown.json()["sessions"][0]
    future = client.patch(url, {"local_authority_notified_on": "2027-01-04"}, format="json")
    assert future.status_code == 400
    assert "in the future" in future.json()["local_authority_notified_on"][0]
    assert client.put(url, {}, format="json").status_code == 405
    forbidden = api_for(world, "head_of_year").patch(
        url, {"status": "withdrawn", "withdrawn_reason": "x"}, format="json"
    )
    assert forbidden.status_code == 403


def test_api_schema_lists_suspensions(world):
    response = api_for(world, "headteacher").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/suspensions/" in paths
    assert "patch" in paths["/api/v1/suspensions/{id}/"]


# Browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_record_by_keyboard_in_chromium(browser, live_server):
    from playwright.sync_api import expect

    from .browser_support import log_in

    with time_machine.travel(TODAY.replace(tzinfo=LONDON), tick=True):
        world = suspension_world()
        for user in world.users.values():
            user.set_password("trust-demo")
            user.save()
        obrien = world.pupils["oak9a_obrien"]
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        page = context.new_page()
        log_in(page, "headteacher")

        page.goto(f"{NEW}?pupil={obrien.pk}")
        page.get_by_label("First day", exact=True).focus()
        page.keyboard.type("03/12/2026")
        page.get_by_label("Length in sessions or lunchtimes").focus()
        page.keyboard.type("4")
        page.get_by_label("Reason 1").select_option("PA")
        page.get_by_label("Decided by").select_option(str(world.staff["headteacher"].pk))
        page.get_by_label("Details").focus()
        page.keyboard.type("Pushed a member of staff")
        page.get_by_role("button", name="Record").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")

        expect(page.get_by_role("heading", level=1)).to_have_text("Suspension of Aoife O'Brien")
        expect(page.get_by_text("4 of 4 sessions have an E mark written")).to_be_visible()
        with page.expect_navigation():
            page.get_by_role("link", name="Back to the suspension register").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Suspension register")
        context.close()
    assert AttendanceMark.objects.filter(pupil=obrien, code="E").count() == 4

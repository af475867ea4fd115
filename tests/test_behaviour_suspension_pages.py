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

    response = client_for(world, "head_of_year").get(f"{NEW}?pupil={obrien.pk}")

    assert response.status_code == 200
    html = body(response)
    assert "Record a suspension or exclusion: Aoife O&#x27;Brien" in html
    assert "Headteacher Persona" in html
    assert "ElmHead" not in html
    assert 'name="reason_3"' in html
    assert '<label for="id_start_date">' in html


def test_new_records_and_redirects(world):
    obrien = world.pupils["oak9a_obrien"]
    client = client_for(world, "head_of_year")

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


def test_pupil_timeline_links_register(world):
    obrien = world.pupils["oak9a_obrien"]
    record(world, "oak9a_obrien")

    response = client_for(world, "headteacher").get(
        reverse("behaviour:pupil-timeline", args=[obrien.pk])
    )

    html = body(response)
    assert response.status_code == 200
    assert f'href="{REGISTER}"' in html
    assert f"{NEW}?pupil={obrien.pk}" in html


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

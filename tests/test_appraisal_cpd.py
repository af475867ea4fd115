"""The trust's CPD offer: events, booking rules and places, attendance and the
portfolio entries it creates, pages and access per persona, exports."""

import csv
import datetime
import io
import queue
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisal.cpd import (
    OfferFilters,
    attendance_mark,
    booking_cancel,
    booking_make,
    event_cancel,
    event_save,
    offer_events,
    places_left_label,
)
from appraisal.models import CpdBooking, CpdEvent, CpdKind, EvidenceFile, PortfolioEntry
from progress.models import Subject
from trust.models import AuditEvent

from .factories import StaffFactory
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
NEXT_WEEK = DAY + datetime.timedelta(days=7)
LAST_WEEK = DAY - datetime.timedelta(days=7)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


class World:
    def __init__(self) -> None:
        self.p = build_personas()
        self.oak = self.p.academies["oak"]
        self.elm = self.p.academies["elm"]
        self.maths = Subject.objects.create(trust=self.oak.trust, name="Mathematics", code="maths")
        self.english = Subject.objects.create(trust=self.oak.trust, name="English", code="english")

    def user(self, key: str) -> Any:
        return self.p.users[key]

    def event(self, **fields: Any) -> CpdEvent:
        values: dict[str, Any] = {
            "title": "Teaching fractions",
            "kind": CpdKind.COURSE,
            "subject": self.maths,
            "host_academy": self.oak,
            "venue": "Oak library",
            "starts_on": NEXT_WEEK,
            "ends_on": NEXT_WEEK,
            "hours": Decimal("3.0"),
            "cost_per_place": Decimal("45.00"),
            "places": 20,
        }
        values.update(fields)
        return CpdEvent.objects.create(**values)


@pytest.fixture
def world() -> World:
    return World()


def _staff_user(academy: Any) -> Any:
    return StaffFactory(academy=academy).user


def _messages(error: ValidationError) -> str:
    return " ".join(m for messages in error.message_dict.values() for m in messages)


# Places and booking rules ------------------------------------------------------------


def test_places_left_label_wording():
    assert places_left_label(20, 17) == "3 of 20 places left"
    assert places_left_label(1, 0) == "1 of 1 place left"
    assert places_left_label(20, 20) == "Full (20 places)"


def test_booking_takes_a_place(world):
    event = world.event(places=2)
    booking = booking_make(world.user("teacher"), event)

    assert booking.staff == world.p.staff["teacher"]
    assert booking.status == CpdBooking.Status.BOOKED
    listed = offer_events(world.user("teacher"), OfferFilters()).get(pk=event.pk)
    assert listed.booked_count == 1
    assert listed.my_booking_id == booking.pk


def test_booking_full_event_rejected(world):
    event = world.event(places=1)
    booking_make(world.user("teacher"), event)

    with pytest.raises(ValidationError) as caught:
        booking_make(world.user("elm_teacher"), event)

    assert "is full: its one place is booked" in _messages(caught.value)
    assert CpdBooking.objects.filter(event=event).count() == 1


def test_booking_cancelled_event_rejected(world):
    event = world.event(cancelled=True)
    with pytest.raises(ValidationError) as caught:
        booking_make(world.user("teacher"), event)
    assert "is cancelled" in _messages(caught.value)
    assert not CpdBooking.objects.exists()


def test_booking_past_event_rejected(world):
    event = world.event(starts_on=LAST_WEEK, ends_on=LAST_WEEK)
    with pytest.raises(ValidationError) as caught:
        booking_make(world.user("teacher"), event)
    assert f"started on {LAST_WEEK:%d/%m/%Y}" in _messages(caught.value)
    assert not CpdBooking.objects.exists()


def test_booking_on_start_day_allowed(world):
    event = world.event(starts_on=DAY, ends_on=DAY)
    assert booking_make(world.user("teacher"), event).status == CpdBooking.Status.BOOKED


def test_booking_twice_rejected(world):
    event = world.event()
    booking_make(world.user("teacher"), event)
    with pytest.raises(ValidationError) as caught:
        booking_make(world.user("teacher"), event)
    assert "already have a place" in _messages(caught.value)


def test_booking_by_trustee_rejected(world):
    event = world.event()
    with pytest.raises(PermissionDenied):
        booking_make(world.user("trustee"), event)
    assert not CpdBooking.objects.exists()


def test_booking_open_to_other_academies(world):
    event = world.event(host_academy=world.oak)
    booking = booking_make(world.user("elm_teacher"), event)
    assert booking.staff.academy == world.elm


def test_cancel_frees_the_place(world):
    event = world.event(places=1)
    booking = booking_make(world.user("teacher"), event)
    booking_cancel(world.user("teacher"), booking)

    booking.refresh_from_db()
    assert booking.status == CpdBooking.Status.CANCELLED
    other = booking_make(world.user("elm_teacher"), event)
    assert other.status == CpdBooking.Status.BOOKED


def test_rebooking_reuses_the_row(world):
    event = world.event()
    first = booking_make(world.user("teacher"), event)
    booking_cancel(world.user("teacher"), first)
    again = booking_make(world.user("teacher"), event)
    assert again.pk == first.pk
    assert again.status == CpdBooking.Status.BOOKED


def test_cancel_someone_elses_place_rejected(world):
    event = world.event(host_academy=world.elm)
    booking = booking_make(world.user("elm_teacher"), event)
    with pytest.raises(PermissionDenied):
        booking_cancel(world.user("teacher"), booking)
    # The Oak headteacher does not run an event Elm hosts.
    with pytest.raises(PermissionDenied):
        booking_cancel(world.user("headteacher"), booking)
    booking_cancel(world.user("trust_hr"), booking)
    booking.refresh_from_db()
    assert booking.status == CpdBooking.Status.CANCELLED


def test_cancel_after_start_rejected(world, frozen):
    event = world.event(starts_on=NEXT_WEEK, ends_on=NEXT_WEEK)
    booking = booking_make(world.user("teacher"), event)
    frozen.move_to(datetime.datetime.combine(NEXT_WEEK + datetime.timedelta(days=1), TODAY.time()))
    with pytest.raises(ValidationError) as caught:
        booking_cancel(world.user("teacher"), booking)
    assert "places can be cancelled up to the day it starts" in _messages(caught.value)


def test_booking_locks_the_event_row(world):
    event = world.event()
    with CaptureQueriesContext(connection) as queries:
        booking_make(world.user("teacher"), event)
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert 'FROM "appraisal_cpdevent"' in locking[0]


@pytest.mark.django_db(transaction=True)
def test_last_place_booked_once_concurrently():
    """Two transactions book the last place. The second waits on the event's
    row lock and then raises ValidationError because the event is full."""
    with time_machine.travel(TODAY, tick=False):
        world = World()
        event = world.event(places=1)
        first_user, second_user = world.user("teacher"), world.user("elm_teacher")
        outcome: queue.Queue = queue.Queue()
        backend_pid: queue.Queue = queue.Queue()

        def second_booking() -> None:
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backend_pid.put(cursor.fetchone()[0])
                try:
                    booking_make(second_user, event)
                    outcome.put("booked")
                except ValidationError as error:
                    outcome.put(_messages(error))
            finally:
                connections.close_all()

        with transaction.atomic():
            booking_make(first_user, event)
            thread = threading.Thread(target=second_booking)
            thread.start()
            pid = backend_pid.get(timeout=30)
            # Wait, without sleeping, until the second booking waits on this
            # transaction's lock, or has finished (which the asserts then reject).
            with connection.cursor() as cursor:
                for _ in range(100_000):
                    cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
                    if cursor.fetchone()[0] or not thread.is_alive():
                        break
        thread.join(timeout=60)

        assert not thread.is_alive()
        assert "is full" in outcome.get_nowait()
        assert CpdBooking.objects.filter(event=event, status=CpdBooking.Status.BOOKED).count() == 1


# Events ------------------------------------------------------------------------------


def _event_fields(world: World, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Retrieval practice in science",
        "kind": CpdKind.INSET,
        "subject": world.english,
        "host_academy": world.oak,
        "venue": "Oak hall",
        "provider": "Oak research lead",
        "starts_on": NEXT_WEEK,
        "ends_on": NEXT_WEEK + datetime.timedelta(days=1),
        "hours": Decimal("6.5"),
        "cost_per_place": Decimal("0"),
        "places": 30,
    }
    fields.update(overrides)
    return fields


def test_event_save_creates_and_audits(world):
    event = event_save(world.user("trust_hr"), **_event_fields(world))
    assert event.created_by == world.p.staff["trust_hr"]
    assert event.hours == Decimal("6.5")
    audit = AuditEvent.objects.filter(
        model="appraisal.CpdEvent", object_id=str(event.pk)
    ).values_list("actor_id", flat=True)
    assert list(audit) == [world.user("trust_hr").pk]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"title": "  "}, "title", "title is missing"),
        ({"title": "x" * 201}, "title", "201 characters"),
        ({"kind": "party"}, "kind", "“party” is invalid"),
        ({"starts_on": LAST_WEEK, "ends_on": LAST_WEEK}, "starts_on", "is in the past"),
        ({"ends_on": NEXT_WEEK - datetime.timedelta(days=1)}, "ends_on", "before the start"),
        ({"hours": Decimal("0")}, "hours", "more than 0"),
        ({"hours": Decimal("1.25")}, "hours", "one decimal place"),
        ({"hours": "lots"}, "hours", "“lots” is not a number"),
        ({"cost_per_place": Decimal("-1")}, "cost_per_place", "£0 to"),
        ({"places": 0}, "places", "1 to 5000"),
        ({"places": "ten"}, "places", "not a whole number"),
        ({"starts_on": "31/02/2027"}, "starts_on", "is not a date"),
    ],
)
def test_event_save_bad_input(world, overrides, field, fragment):
    with pytest.raises(ValidationError) as caught:
        event_save(world.user("trust_hr"), **_event_fields(world, **overrides))
    assert field in caught.value.message_dict
    assert fragment in " ".join(caught.value.message_dict[field])
    assert not CpdEvent.objects.exists()


def test_event_save_unknown_field_rejected(world):
    with pytest.raises(ValidationError) as caught:
        event_save(world.user("trust_hr"), **_event_fields(world), cancelled=True)
    assert "cancelled" in caught.value.message_dict


def test_places_below_bookings_rejected(world):
    event = world.event(places=3)
    booking_make(world.user("teacher"), event)
    booking_make(world.user("elm_teacher"), event)

    with pytest.raises(ValidationError) as caught:
        event_save(world.user("trust_hr"), event=event, places=1)

    assert "fewer than the 2 places already booked" in caught.value.message_dict["places"][0]
    event.refresh_from_db()
    assert event.places == 3
    assert event_save(world.user("trust_hr"), event=event, places=2).places == 2


def test_headteacher_runs_own_academy_events(world):
    head = world.user("headteacher")
    event = event_save(head, **_event_fields(world, host_academy=world.oak))
    assert event.host_academy == world.oak

    with pytest.raises(ValidationError) as caught:
        event_save(head, **_event_fields(world, host_academy=world.elm))
    assert "host_academy" in caught.value.message_dict
    with pytest.raises(ValidationError):
        event_save(head, **_event_fields(world, host_academy=None))
    elm_event = world.event(host_academy=world.elm)
    with pytest.raises(PermissionDenied):
        event_save(head, event=elm_event, title="Renamed")


def test_teacher_cannot_add_events(world):
    with pytest.raises(PermissionDenied):
        event_save(world.user("teacher"), **_event_fields(world))
    assert not CpdEvent.objects.exists()


def test_cancel_event_rules(world):
    event = world.event()
    booking_make(world.user("teacher"), event)
    event_cancel(world.user("trust_leader"), event)
    event.refresh_from_db()
    assert event.cancelled
    assert CpdBooking.objects.get(event=event).status == CpdBooking.Status.BOOKED

    with pytest.raises(ValidationError):
        event_cancel(world.user("trust_leader"), event)
    with pytest.raises(ValidationError) as caught:
        event_save(world.user("trust_leader"), event=event, title="Again")
    assert "is cancelled" in _messages(caught.value)
    started = world.event(starts_on=DAY, ends_on=DAY)
    with pytest.raises(ValidationError) as caught:
        event_cancel(world.user("trust_leader"), started)
    assert "mark attendance instead" in _messages(caught.value)


# Attendance and the portfolio ---------------------------------------------------------


def _booking_today(world: World) -> CpdBooking:
    """Book the teacher on an event that starts today, so attendance can be marked."""
    event = world.event(provider="North maths hub", starts_on=DAY, ends_on=DAY)
    return booking_make(world.user("teacher"), event)


def test_attended_creates_portfolio_entry(world):
    booking = _booking_today(world)
    result = attendance_mark(world.user("headteacher"), booking, "attended")

    assert result.entry_created
    entry = PortfolioEntry.objects.get(booking=booking)
    assert entry.staff == world.p.staff["teacher"]
    assert entry.kind == CpdKind.COURSE
    assert entry.title == "Teaching fractions"
    assert entry.provider == "North maths hub"
    assert entry.started_on == DAY
    assert entry.ended_on == DAY
    assert entry.hours == Decimal("3.0")
    assert entry.cost == Decimal("45.00")


def test_attended_twice_creates_one_entry(world):
    booking = _booking_today(world)
    attendance_mark(world.user("headteacher"), booking, "attended")
    again = attendance_mark(world.user("headteacher"), booking, "attended")
    assert not again.entry_created
    assert PortfolioEntry.objects.filter(booking=booking).count() == 1


def test_unmarking_removes_untouched_entry(world):
    booking = _booking_today(world)
    attendance_mark(world.user("headteacher"), booking, "attended")
    result = attendance_mark(world.user("headteacher"), booking, "absent")
    assert result.entry_removed
    assert not PortfolioEntry.objects.filter(booking=booking).exists()
    booking.refresh_from_db()
    assert booking.attendance == "absent"


def test_unmarking_keeps_entry_with_reflection(world):
    booking = _booking_today(world)
    attendance_mark(world.user("headteacher"), booking, "attended")
    PortfolioEntry.objects.filter(booking=booking).update(reflection="Changed my starters.")

    result = attendance_mark(world.user("headteacher"), booking, "")

    assert not result.entry_removed
    assert "kept because it has a reflection" in result.entry_kept_reason
    assert PortfolioEntry.objects.filter(booking=booking).exists()


def test_unmarking_keeps_entry_with_evidence(world, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    booking = _booking_today(world)
    attendance_mark(world.user("headteacher"), booking, "attended")
    entry = PortfolioEntry.objects.get(booking=booking)
    evidence = EvidenceFile(
        entry=entry,
        token="a" * 32,
        extension=".pdf",
        original_name="certificate.pdf",
        content_type="application/pdf",
        size=9,
    )
    evidence.file.save("certificate.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    # bulk_create skips the audit signals, which are not under test here.
    EvidenceFile.objects.bulk_create([evidence])

    result = attendance_mark(world.user("headteacher"), booking, "absent")

    assert "evidence files" in result.entry_kept_reason
    assert PortfolioEntry.objects.filter(pk=entry.pk).exists()


def test_attendance_before_start_rejected(world):
    event = world.event()
    booking = booking_make(world.user("teacher"), event)
    with pytest.raises(ValidationError) as caught:
        attendance_mark(world.user("headteacher"), booking, "attended")
    assert f"starts on {NEXT_WEEK:%d/%m/%Y}" in _messages(caught.value)
    assert not PortfolioEntry.objects.exists()


def test_attendance_bad_value_rejected(world):
    booking = _booking_today(world)
    with pytest.raises(ValidationError) as caught:
        attendance_mark(world.user("headteacher"), booking, "present")
    assert "“present” is invalid" in _messages(caught.value)
    booking.refresh_from_db()
    assert booking.attendance == ""


def test_attendance_by_teacher_rejected(world):
    booking = _booking_today(world)
    with pytest.raises(PermissionDenied):
        attendance_mark(world.user("teacher"), booking, "attended")
    assert not PortfolioEntry.objects.exists()


# Pages ---------------------------------------------------------------------------------


def test_offer_page_lists_events(client, world):
    event = world.event(places=20)
    for _ in range(17):
        booking_make(_staff_user(world.oak), event)
    world.event(title="Last year's course", starts_on=LAST_WEEK, ends_on=LAST_WEEK)
    client.force_login(world.user("teacher"))

    body = client.get(reverse("appraisal:cpd-offer")).content.decode()

    assert "Teaching fractions" in body
    assert "3 of 20 places left" in body
    assert f"{NEXT_WEEK:%d/%m/%Y}" in body
    assert "£45.00" in body
    assert "Oak Academy" in body
    assert "Book a place" in body
    assert "Last year&#x27;s course" not in body
    past = client.get(reverse("appraisal:cpd-offer"), {"show": "past"}).content.decode()
    assert "Last year&#x27;s course" in past
    assert "Teaching fractions" not in past


def test_offer_page_filters(client, world):
    world.event(title="Fractions", subject=world.maths, kind=CpdKind.COURSE)
    world.event(title="Reading aloud", subject=world.english, kind=CpdKind.PEER_VISIT)
    client.force_login(world.user("staff"))

    by_subject = client.get(reverse("appraisal:cpd-offer"), {"subject": world.english.pk})
    by_kind = client.get(reverse("appraisal:cpd-offer"), {"kind": "course"})

    assert "Reading aloud" in by_subject.content.decode()
    assert "Fractions" not in by_subject.content.decode()
    assert "Fractions" in by_kind.content.decode()
    assert "Reading aloud" not in by_kind.content.decode()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"kind": "party"}, "“kind” has the value “party”"),
        ({"subject": "abc"}, "“subject” has the value “abc”"),
        ({"show": "soon"}, "“show” has the value “soon”"),
        ({"format": "pdf"}, "“format” has the value “pdf”"),
    ],
)
def test_offer_page_bad_filters(client, world, params, fragment):
    client.force_login(world.user("teacher"))
    response = client.get(reverse("appraisal:cpd-offer"), params)
    assert response.status_code == 400
    assert fragment in response.content.decode()


def test_offer_page_query_count(client, world, django_assert_max_num_queries):
    for index in range(30):
        event = world.event(title=f"Event {index}", subject=world.maths if index % 2 else None)
        booking_make(_staff_user(world.oak), event)
    client.force_login(world.user("teacher"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("appraisal:cpd-offer"))
    assert response.content.decode().count("Book a place<span") == 30


def test_event_page_query_count(client, world, django_assert_max_num_queries):
    event = world.event(places=40)
    for _ in range(25):
        booking_make(_staff_user(world.elm), event)
    client.force_login(world.user("trust_hr"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("appraisal:cpd-event", args=[event.pk]))
    assert "15 of 40 places left" in response.content.decode()
    assert response.content.decode().count("Elm Academy</td>") == 25


def test_offer_page_closed_states(client, world):
    started = world.event(title="Started course", starts_on=LAST_WEEK, ends_on=NEXT_WEEK)
    full = world.event(title="Full course", places=1)
    cancelled = world.event(title="Cancelled course", cancelled=True)
    booking_make(world.user("elm_teacher"), full)
    client.force_login(world.user("teacher"))
    response = client.get(reverse("appraisal:cpd-offer"))
    rows = {
        event.pk: response.content.decode().split(f'id="event-{event.pk}"')[1].split("</tr>")[0]
        for event in (started, full, cancelled)
    }
    assert "Booking closed" in rows[started.pk]
    assert "Full (1 place)" in rows[full.pk]
    assert "Cancelled" in rows[cancelled.pk]
    assert "Book a place" not in "".join(rows.values())


def test_book_and_cancel_through_pages(client, world):
    event = world.event(places=5)
    client.force_login(world.user("teacher"))

    booked = client.post(reverse("appraisal:cpd-book", args=[event.pk]), follow=True)
    assert "You have a place on “Teaching fractions”" in booked.content.decode()
    assert "4 of 5 places left" in booked.content.decode()

    cancelled = client.post(reverse("appraisal:cpd-place-cancel", args=[event.pk]), follow=True)
    assert "Your place on “Teaching fractions” is cancelled." in cancelled.content.decode()
    assert CpdBooking.objects.get(event=event).status == CpdBooking.Status.CANCELLED


def test_organiser_cancels_a_place(client, world):
    event = world.event(places=1)
    booking = booking_make(world.user("elm_teacher"), event)
    url = reverse("appraisal:cpd-booking-cancel", args=[event.pk, booking.pk])

    client.force_login(world.user("teacher"))
    assert client.post(url).status_code == 403
    client.force_login(world.user("academy_leader"))
    response = client.post(url, follow=True)

    assert "ElmTeacher Persona&#x27;s place on “Teaching fractions” is cancelled." in (
        response.content.decode()
    )
    booking.refresh_from_db()
    assert booking.status == CpdBooking.Status.CANCELLED
    assert client.post(url).status_code == 400
    other = world.event(title="Other")
    wrong_event = reverse("appraisal:cpd-booking-cancel", args=[other.pk, booking.pk])
    assert client.post(wrong_event).status_code == 404


def test_booking_full_event_page_400(client, world):
    event = world.event(places=1)
    booking_make(world.user("elm_teacher"), event)
    client.force_login(world.user("teacher"))
    response = client.post(reverse("appraisal:cpd-book", args=[event.pk]))
    assert response.status_code == 400
    assert "is full: its one place is booked" in response.content.decode()


def test_booking_needs_post(client, world):
    event = world.event()
    client.force_login(world.user("teacher"))
    assert client.get(reverse("appraisal:cpd-book", args=[event.pk])).status_code == 405


@pytest.mark.parametrize(
    ("persona", "offer", "detail", "add"),
    [
        ("trust_leader", 200, 200, 200),
        ("trust_admin", 200, 200, 200),
        ("trust_hr", 200, 200, 200),
        ("headteacher", 200, 200, 200),
        ("academy_leader", 200, 200, 200),
        ("teacher", 200, 200, 403),
        ("elm_teacher", 200, 200, 403),
        ("staff", 200, 200, 403),
        ("trustee", 200, 404, 403),
    ],
)
def test_pages_per_persona(client, world, persona, offer, detail, add):
    event = world.event()
    client.force_login(world.user(persona))
    assert client.get(reverse("appraisal:cpd-offer")).status_code == offer
    assert client.get(reverse("appraisal:cpd-event", args=[event.pk])).status_code == detail
    assert client.get(reverse("appraisal:cpd-event-add")).status_code == add


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("trust_leader", 200),
        ("trust_admin", 200),
        ("trust_hr", 200),
        ("headteacher", 200),
        ("academy_leader", 200),
        ("teacher", 403),
        ("elm_teacher", 403),
        ("head_of_year", 403),
        ("staff", 403),
        ("trustee", 404),
    ],
)
def test_organiser_pages_per_persona(client, world, persona, status):
    upcoming = world.event()
    started = world.event(title="Started", starts_on=DAY, ends_on=DAY)
    client.force_login(world.user(persona))
    assert client.get(reverse("appraisal:cpd-event-edit", args=[upcoming.pk])).status_code == (
        status
    )
    assert client.get(reverse("appraisal:cpd-event-cancel", args=[upcoming.pk])).status_code == (
        status
    )
    assert client.get(reverse("appraisal:cpd-attendance", args=[started.pk])).status_code == (
        status
    )


def test_bookings_shown_only_to_organisers(client, world):
    event = world.event()
    booking_make(world.user("elm_teacher"), event)
    url = reverse("appraisal:cpd-event", args=[event.pk])

    client.force_login(world.user("teacher"))
    assert "ElmTeacher Persona" not in client.get(url).content.decode()
    client.force_login(world.user("headteacher"))
    assert "ElmTeacher Persona" in client.get(url).content.decode()


def test_edit_page_by_host_only(client, world):
    elm_event = world.event(host_academy=world.elm)
    client.force_login(world.user("headteacher"))
    assert client.get(reverse("appraisal:cpd-event-edit", args=[elm_event.pk])).status_code == 403
    client.force_login(world.user("trust_hr"))
    assert client.get(reverse("appraisal:cpd-event-edit", args=[elm_event.pk])).status_code == 200


def _form_data(world: World, **overrides: str) -> dict[str, str]:
    data = {
        "title": "Adaptive teaching",
        "kind": "course",
        "subject": str(world.maths.pk),
        "host_academy": str(world.oak.pk),
        "provider": "",
        "venue": "Oak hall",
        "starts_on": f"{NEXT_WEEK:%d/%m/%Y}",
        "ends_on": f"{NEXT_WEEK:%d/%m/%Y}",
        "hours": "2.5",
        "cost_per_place": "12.50",
        "places": "15",
        "description": "",
    }
    data.update(overrides)
    return data


def test_add_event_through_page(client, world):
    client.force_login(world.user("headteacher"))
    response = client.post(reverse("appraisal:cpd-event-add"), _form_data(world))
    event = CpdEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisal:cpd-event", args=[event.pk])
    assert event.cost_per_place == Decimal("12.50")
    assert event.places == 15


def test_add_event_bad_input_page(client, world):
    client.force_login(world.user("trust_hr"))
    response = client.post(
        reverse("appraisal:cpd-event-add"),
        _form_data(world, starts_on="35/01/2027", places="-2", title="=cmd"),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Date “35/01/2027” is not a date" in body
    assert 'value="=cmd"' in body
    assert not CpdEvent.objects.exists()


def test_add_event_number_errors_name_values(client, world):
    client.force_login(world.user("trust_hr"))
    response = client.post(
        reverse("appraisal:cpd-event-add"),
        _form_data(world, hours="NaN", cost_per_place="-0.5", places="ten"),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Hours “NaN” is not a number; enter digits" in body
    assert "Cost per place -0.5 is too small; the minimum is 0." in body
    assert "“ten” is not a whole number. Places offered, 1 to 5000." in body


def test_edit_places_below_bookings_page(client, world):
    event = world.event(places=3)
    booking_make(world.user("teacher"), event)
    booking_make(world.user("elm_teacher"), event)
    client.force_login(world.user("trust_hr"))
    response = client.post(
        reverse("appraisal:cpd-event-edit", args=[event.pk]), _form_data(world, places="1")
    )
    assert response.status_code == 400
    assert "fewer than the 2 places already booked" in response.content.decode()


def test_cancel_event_page(client, world):
    event = world.event()
    client.force_login(world.user("trust_leader"))
    assert client.get(reverse("appraisal:cpd-event-cancel", args=[event.pk])).status_code == 200
    response = client.post(reverse("appraisal:cpd-event-cancel", args=[event.pk]), follow=True)
    assert "is cancelled. Nobody can book it now." in response.content.decode()
    client.force_login(world.user("teacher"))
    refused = client.post(reverse("appraisal:cpd-book", args=[event.pk]))
    assert refused.status_code == 400
    assert "is cancelled, so it cannot be booked" in refused.content.decode()


def test_attendance_page_marks_and_adds_entries(client, world):
    event = world.event(starts_on=DAY, ends_on=DAY)
    present = booking_make(world.user("teacher"), event)
    missing = booking_make(world.user("elm_teacher"), event)
    client.force_login(world.user("academy_leader"))
    url = reverse("appraisal:cpd-attendance", args=[event.pk])

    response = client.post(
        url, {f"attendance-{present.pk}": "attended", f"attendance-{missing.pk}": "absent"}
    )

    assert response.status_code == 302
    present.refresh_from_db()
    missing.refresh_from_db()
    assert present.attendance == "attended"
    assert missing.attendance == "absent"
    assert list(PortfolioEntry.objects.values_list("staff_id", flat=True)) == [present.staff_id]
    page = client.get(url).content.decode()
    assert "Attendance saved for 2 bookings. 1 portfolio entry added." in page


def test_attendance_page_all_or_nothing(client, world):
    event = world.event(starts_on=DAY, ends_on=DAY)
    good = booking_make(world.user("teacher"), event)
    client.force_login(world.user("trust_hr"))
    response = client.post(
        reverse("appraisal:cpd-attendance", args=[event.pk]),
        {f"attendance-{good.pk}": "attended", "attendance-999999": "attended"},
    )
    assert response.status_code == 400
    assert "Booking 999999 is not a live booking on this event." in response.content.decode()
    good.refresh_from_db()
    assert good.attendance == ""
    assert not PortfolioEntry.objects.exists()


def test_attendance_page_before_start(client, world):
    event = world.event()
    booking = booking_make(world.user("teacher"), event)
    client.force_login(world.user("trust_hr"))
    url = reverse("appraisal:cpd-attendance", args=[event.pk])
    assert "Attendance can be marked from" in client.get(url).content.decode()
    response = client.post(url, {f"attendance-{booking.pk}": "attended"})
    assert response.status_code == 400
    assert not PortfolioEntry.objects.exists()


def test_attendance_page_forbidden_to_teacher(client, world):
    event = world.event(starts_on=DAY, ends_on=DAY)
    client.force_login(world.user("teacher"))
    assert client.get(reverse("appraisal:cpd-attendance", args=[event.pk])).status_code == 403


def test_attendance_page_query_count(client, world, django_assert_max_num_queries):
    event = world.event(starts_on=DAY, ends_on=DAY, places=40)
    for _ in range(25):
        booking_make(_staff_user(world.oak), event)
    client.force_login(world.user("trust_hr"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("appraisal:cpd-attendance", args=[event.pk]))
    assert response.content.decode().count('type="radio"') == 75


# Exports -------------------------------------------------------------------------------


def test_offer_csv_neutralises_formulas(client, world):
    world.event(title='=HYPERLINK("http://example.invalid","click")', places=12)
    client.force_login(world.user("teacher"))
    response = client.get(reverse("appraisal:cpd-offer"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Title"
    assert rows[1][0] == '\'=HYPERLINK("http://example.invalid","click")'
    assert rows[1][9] == "12"
    assert rows[1][5] == f"{NEXT_WEEK:%d/%m/%Y}"


def test_offer_xlsx_download(client, world):
    world.event()
    client.force_login(world.user("teacher"))
    response = client.get(reverse("appraisal:cpd-offer"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")

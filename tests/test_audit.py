import datetime

import pytest
from django.http import HttpResponse

from pupils.models import Contact, Pupil
from trust import audit
from trust.audit import AuditActorMiddleware
from trust.models import AuditEvent

from .factories import EnrolmentFactory, PupilFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pupil_create_audited_with_actor():
    user = UserFactory()
    with audit.acting_as(user):
        pupil = PupilFactory(legal_surname="Okafor")

    event = AuditEvent.objects.get(model="pupils.Pupil", action="create")
    assert event.actor == user
    assert event.pupil_ref == pupil.pk
    assert event.changes["legal_surname"] == [None, "Okafor"]


def test_pupil_change_records_before_and_after():
    pupil = PupilFactory(legal_surname="Smith")
    user = UserFactory()
    with audit.acting_as(user, reason="Name change by deed poll"):
        pupil.legal_surname = "Smith-Jones"
        pupil.save()

    event = AuditEvent.objects.get(model="pupils.Pupil", action="update")
    assert event.changes == {"legal_surname": ["Smith", "Smith-Jones"]}
    assert event.actor == user
    assert event.reason == "Name change by deed poll"


def test_save_without_change_writes_no_update():
    pupil = PupilFactory()
    pupil.save()
    assert not AuditEvent.objects.filter(action="update").exists()


def test_delete_keeps_trail_after_pupil_gone():
    pupil = PupilFactory()
    pupil_id = pupil.pk
    Contact.objects.create(pupil=pupil, name="A Parent", relationship="Mother")
    pupil.delete()

    deletes = AuditEvent.objects.filter(action="delete", pupil_ref=pupil_id)
    assert set(deletes.values_list("model", flat=True)) == {"pupils.Pupil", "pupils.Contact"}
    assert not Pupil.objects.filter(pk=pupil_id).exists()


def test_enrolment_change_joins_pupil_trail():
    enrolment = EnrolmentFactory()
    enrolment.end_date = datetime.date(2026, 12, 18)
    enrolment.save()

    event = AuditEvent.objects.get(model="pupils.Enrolment", action="update")
    assert event.pupil_ref == enrolment.pupil_id
    assert event.changes == {"end_date": [None, "2026-12-18"]}


def test_staff_change_audited():
    staff = StaffFactory(job_title="Teacher of English")
    staff.job_title = "Head of English"
    staff.save()

    event = AuditEvent.objects.get(model="staff.StaffMember", action="update")
    assert event.staff_ref == staff.pk
    assert event.changes == {"job_title": ["Teacher of English", "Head of English"]}


def test_record_bulk_writes_only_changed_rows():
    first, second = PupilFactory(eal=False), PupilFactory(eal=False)
    before = {p.pk: audit.snapshot(p) for p in (first, second)}
    AuditEvent.objects.all().delete()
    first.eal = True
    Pupil.objects.bulk_update([first, second], ["eal"])
    audit.record_bulk([first, second], AuditEvent.Action.UPDATE, before=before)

    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    assert events[0].pupil_ref == first.pk
    assert events[0].changes == {"eal": [False, True]}


def test_sensitive_view_logged():
    user = UserFactory()
    pupil = PupilFactory()
    audit.record_sensitive_view(user, pupil, ["medical_notes"])

    event = AuditEvent.objects.get(action="view_sensitive")
    assert event.actor == user
    assert event.pupil_ref == pupil.pk
    assert event.changes == {"fields": ["medical_notes"]}


def test_request_user_becomes_actor(rf):
    staff = StaffFactory()

    def view(request):
        PupilFactory(legal_surname="Adeyemi")
        return HttpResponse("ok")

    request = rf.get("/")
    request.user = staff.user
    AuditActorMiddleware(view)(request)

    event = AuditEvent.objects.get(model="pupils.Pupil", action="create")
    assert event.actor == staff.user


def test_snapshot_stores_file_name():
    from appraisal.models import EvidenceFile

    evidence = EvidenceFile(original_name="Course certificate.pdf")
    evidence.file.name = "evidence/7/abc123.pdf"

    data = audit.snapshot(evidence)

    assert data["file"] == "evidence/7/abc123.pdf"


@pytest.mark.django_db
def test_many_to_many_change_recorded():
    from appraisal.models import Objective, Standard
    from tests.factories_appraisal import cycle_2026, make_appraisal, make_objective
    from tests.personas import build_personas

    world = build_personas()
    appraisal = make_appraisal(
        cycle_2026(world), world.staff["teacher"], world.staff["headteacher"], objectives=()
    )
    objective = make_objective(appraisal)
    first, second = Standard.objects.order_by("position")[:2]
    user = world.users["headteacher"]

    with audit.acting_as(user):
        objective.standards.set([first, second])
        objective.standards.remove(first)

    events = AuditEvent.objects.filter(
        model=Objective._meta.label, object_id=str(objective.pk), action="update"
    ).order_by("pk")
    assert [e.changes for e in events] == [
        {"standards": [[], sorted([first.pk, second.pk])]},
        {"standards": [sorted([first.pk, second.pk]), [second.pk]]},
    ]
    assert all(e.actor == user for e in events)

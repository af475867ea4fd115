"""seed_demo's option to limit register marks to recent weeks."""

import datetime

import pytest
from django.core.management import call_command

from attendance.models import AttendanceMark


@pytest.mark.django_db
def test_seed_command_limits_attendance_weeks():
    call_command(
        "seed_demo",
        academies=1,
        pupils_per_academy=20,
        seed=5,
        today=datetime.date(2026, 12, 4),
        attendance_weeks=2,
        verbosity=0,
    )

    first = AttendanceMark.objects.order_by("date").values_list("date", flat=True).first()
    assert first is not None
    assert first >= datetime.date(2026, 11, 20)

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "Attendance"

    def ready(self) -> None:
        from trust import audit

        from . import models

        # Staff absence is staff data, so every change is audited. Marks are
        # not registered here: a mark's first entry is recorded on the mark,
        # and marks_save audits corrections itself, in bulk.
        audit.register(models.StaffAbsence, staff_field="staff_id")
        audit.register(models.FirstDayCall, pupil_field="pupil_id")

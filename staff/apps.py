from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from trust import audit

        from . import models

        audit.register(models.StaffMember, staff_field="pk")
        audit.register(models.RoleAssignment, staff_field="staff_id")

from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "pupils"
    verbose_name = "Pupils"

    def ready(self) -> None:
        from trust import audit

        from . import models

        audit.register(models.Pupil, pupil_field="pk")
        audit.register(models.Enrolment, pupil_field="pupil_id")
        audit.register(models.Contact, pupil_field="pupil_id")
        audit.register(models.FsmPeriod, pupil_field="pupil_id")
        audit.register(models.SenNeed, pupil_field="pupil_id")

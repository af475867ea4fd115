from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Dashboards and reports"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from trust import audit

        from . import models, seeding

        post_migrate.connect(seeding.reseed, sender=self)
        audit.register(models.Target)
        audit.register(models.NationalFigure)

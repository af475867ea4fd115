from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Dashboards and reports"

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.models.signals import post_migrate

        from trust import audit

        from . import models, schedule, seeding

        post_migrate.connect(seeding.reseed, sender=self)
        post_migrate.connect(schedule.seed_schedule, sender=self)
        audit.register(models.Target)
        audit.register(models.NationalFigure)
        # The admin site has registered every app's models by now, because
        # the admin's config comes first in INSTALLED_APPS.
        schedule.open_schedule_admin(admin.site)

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _standards_ensure(sender: Any, **kwargs: Any) -> None:
    """Recreate the Teachers' Standards after a database flush.

    Migration 0002 seeds them. A flush (a transactional test's teardown, or
    `manage.py flush`) deletes every row and then sends post_migrate, which
    is also how Django recreates content types.
    """
    from django.db import connections

    from .models import Standard, StandardSet
    from .standards import teachers_standards_ensure

    using = kwargs.get("using", "default")
    # After `migrate appraisal zero` the tables are gone and there is nothing to seed.
    if StandardSet._meta.db_table not in connections[using].introspection.table_names():
        return
    teachers_standards_ensure(StandardSet, Standard)


class AppraisalConfig(AppConfig):
    name = "appraisal"
    verbose_name = "Appraisal and CPD"

    def ready(self) -> None:
        from trust import audit

        from . import models

        post_migrate.connect(_standards_ensure, sender=self, dispatch_uid="appraisal-standards")

        audit.register(models.StandardSet)
        audit.register(models.Standard)
        audit.register(models.AppraisalCycle)
        audit.register(models.Deadline)
        audit.register(models.Appraisal, staff_field="appraisee_id")
        audit.register(models.Signature)
        audit.register(models.Objective)
        audit.register(models.ObjectiveReview)
        audit.register(models.DevelopmentNeed)
        audit.register(models.Annotation)
        audit.register(models.PortfolioEntry, staff_field="staff_id")
        audit.register(models.EvidenceFile)
        audit.register(models.CpdEvent)
        audit.register(models.CpdBooking, staff_field="staff_id")

from django.apps import AppConfig


class AppraisalConfig(AppConfig):
    name = "appraisal"
    verbose_name = "Appraisal and CPD"

    def ready(self) -> None:
        from trust import audit

        from . import models

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

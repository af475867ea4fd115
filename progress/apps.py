from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "progress"
    verbose_name = "Progress"

    def ready(self) -> None:
        from trust import audit

        from . import models

        # Grade entries are not registered: like register marks, an entry's
        # first save is recorded on the row and the grid's service audits
        # corrections in bulk.
        audit.register(models.TargetGrade, pupil_field="pupil_id")
        audit.register(models.ClassMembership, pupil_field="pupil_id")
        audit.register(models.TeachingGroup)
        audit.register(models.ProgressSettings)
        audit.register(models.EstimateTable)
        audit.register(models.GradeScale)
        audit.register(models.Grade)
        audit.register(models.GradeEquivalent)
        audit.register(models.Intervention)
        audit.register(models.InterventionPupil, pupil_field="pupil_id")
        audit.register(models.ParentContact, pupil_field="pupil_id")

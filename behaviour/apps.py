from django.apps import AppConfig


class BehaviourConfig(AppConfig):
    name = "behaviour"
    verbose_name = "Behaviour"

    def ready(self) -> None:
        from trust import audit

        from . import models

        # Incidents are pupil data: every correction and delete is audited.
        # An incident's own fields join the trail of the incident; the pupil
        # links, actions and suspensions join each pupil's trail.
        audit.register(models.BehaviourCategory)
        audit.register(models.Incident)
        audit.register(models.IncidentPupil, pupil_field="pupil_id")
        audit.register(models.Action, pupil_field="pupil_id")
        audit.register(models.FollowUp, staff_field="owner_id")
        audit.register(models.Suspension, pupil_field="pupil_id")

"""Cross-cutting records: the audit trail."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One create, change, delete or sensitive view of pupil or staff data."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        VIEW_SENSITIVE = "view_sensitive", "Opened sensitive fields"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    model = models.CharField(max_length=60, help_text="app_label.ModelName")
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    # The pupil or staff member the change belongs to, for their trail. Plain
    # ids, not foreign keys, so the trail outlives a deleted record.
    pupil_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    staff_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, help_text="field: [before, after]")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.model} {self.object_id}"

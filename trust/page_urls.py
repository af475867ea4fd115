"""Cross-cutting pages: role landing pages and the audit trail."""

urlpatterns: list = []

"""Pupil import pages: upload, preview, confirm, and the review list."""

urlpatterns: list = []

"""URL patterns filled in by the attendance pages."""

urlpatterns: list = []

"""Staff import pages: upload, preview and confirm."""

urlpatterns: list = []

app_name = "academies"

urlpatterns: list = []

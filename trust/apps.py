from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TrustConfig(AppConfig):
    # This module also defines the admin's config, so name the default one.
    default = True
    name = "trust"
    verbose_name = "Trust-wide services"


class TrustAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "trust.admin_access.TrustAdminSite"

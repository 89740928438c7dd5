from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "closeloop.org"
    label = "org"

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "closeloop.reports"
    label = "reports"

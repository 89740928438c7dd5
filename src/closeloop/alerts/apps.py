from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "closeloop.alerts"
    label = "alerts"

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "closeloop.cases"
    label = "cases"

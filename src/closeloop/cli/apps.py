from django.apps import AppConfig


class CliConfig(AppConfig):
    """The `closeloop` command line: every management command lives in this one app."""

    name = "closeloop.cli"
    label = "cli"
    verbose_name = "Command line"

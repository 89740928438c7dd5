from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "closeloop.notify"
    label = "notify"

    def ready(self) -> None:
        # Registers the channels and the worker's deliveries step.
        import closeloop.worker  # noqa: F401

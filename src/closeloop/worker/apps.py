from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """The background worker: its steps, its loop and the heartbeat each running worker keeps."""

    name = "closeloop.worker"
    label = "worker"
    verbose_name = "Worker"

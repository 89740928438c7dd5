from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "closeloop.loop"
    label = "loop"
    verbose_name = "Closing the loop: follow-ups, activity, spikes"

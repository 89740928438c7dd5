from django.apps import AppConfig

from closeloop.org.stamp import stamp_on_change


class FeedbackConfig(AppConfig):
    name = "closeloop.feedback"
    label = "feedback"

    def ready(self) -> None:
        # A change to any of these rows makes every process's configuration views stale.
        stamp_on_change(self, ["Survey", "Question"])

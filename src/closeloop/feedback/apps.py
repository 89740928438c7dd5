from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "closeloop.feedback"
    label = "feedback"

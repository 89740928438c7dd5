from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "closeloop.loop"
    label = "loop"
    verbose_name = "Closing the loop: follow-ups, activity, spikes"

    def ready(self) -> None:
        # The worker (and `closeloop tick`) sends due follow-up surveys and looks for spikes with the other steps.
        from closeloop.loop.services import send_due_follow_ups
        from closeloop.loop.spikes import check_spikes
        from closeloop.worker import register_step

        register_step("follow-ups", send_due_follow_ups)
        register_step("spikes", check_spikes)

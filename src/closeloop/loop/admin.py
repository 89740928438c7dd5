from django.contrib import admin

from closeloop.loop.models import Activity, FollowUp, SpikeAlert, ThemeSpike


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "due_at", "sent_at", "answered_at", "answer", "expires_at"]
    list_filter = ["answer"]
    raw_id_fields = ["case", "response"]
    # The nonce is half of every link's secret; the admin has no business showing it.
    exclude = ["nonce"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "date", "kind", "amount"]
    list_filter = ["kind"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(SpikeAlert)
class SpikeAlertAdmin(admin.ModelAdmin):
    list_display = ["id", "day", "unit", "category", "count", "baseline", "cleared_on"]
    list_filter = ["cleared_on"]
    list_select_related = ["unit"]


@admin.register(ThemeSpike)
class ThemeSpikeAdmin(admin.ModelAdmin):
    list_display = ["id", "day", "label", "count", "previous", "cleared_on"]
    list_filter = ["cleared_on"]

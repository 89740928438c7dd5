from django.contrib import admin

from closeloop.reports.models import Digest


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["key", "at", "window", "sms", "email_pdf", "weekend_sms", "when_empty"]

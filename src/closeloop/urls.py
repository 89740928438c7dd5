from django.contrib import admin
from django.urls import include, path

from closeloop.reports.views import service_recovery_pdf

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("closeloop.api.urls")),
    path("reports/service-recovery.pdf", service_recovery_pdf, name="service-recovery-pdf"),
    path("", include("closeloop.loop.urls")),
    path("", include("closeloop.web.urls")),
]

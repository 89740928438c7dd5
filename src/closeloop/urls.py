from django.contrib import admin
from django.urls import include, path

from closeloop.api.hooks import hook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("closeloop.api.urls")),
    # Survey and helpdesk tools post here, each to its source's key (docs/connectors.md).
    path("hooks/<str:key>", hook, name="hook"),
    path("", include("closeloop.web.urls")),
]

handler500 = "closeloop.web.views.errors.server_error"

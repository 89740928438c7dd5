from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("closeloop.api.urls")),
    path("", include("closeloop.web.urls")),
]

handler500 = "closeloop.web.views.errors.server_error"

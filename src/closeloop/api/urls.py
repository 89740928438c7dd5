from django.urls import path

from closeloop.api.app import api

urlpatterns = [path("", api.urls)]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("voiceflow.urls")),
    path("", include("transactions.urls")),
    path("", include("reports.urls")),
]

# The simulator exists only while no real Twilio account is configured.
if settings.SIMULATION:
    urlpatterns.append(path(settings.SIMULATOR_PREFIX, include("simulator.urls")))

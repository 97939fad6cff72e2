"""Mounted at /simulator/ only while settings.SIMULATION (ivr_project/urls.py)."""

from simulator.views import api, events, softphone

app_name = "simulator"
urlpatterns = api.urlpatterns + softphone.urlpatterns + events.urlpatterns

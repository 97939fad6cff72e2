"""Each view module lists its own routes."""

from .views import bulk, placing, status, voice

app_name = "voiceflow"
urlpatterns = placing.urlpatterns + voice.urlpatterns + status.urlpatterns + bulk.urlpatterns

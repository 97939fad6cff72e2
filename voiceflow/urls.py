"""Each view module lists its own routes."""

from .views import bulk, status, voice

app_name = "voiceflow"
urlpatterns = voice.urlpatterns + status.urlpatterns + bulk.urlpatterns

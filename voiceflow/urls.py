app_name = "voiceflow"
urlpatterns = []

app_name = "simulator"
urlpatterns = []

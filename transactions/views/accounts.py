from django.contrib.auth import views as auth_views
from django.urls import path

from ivr_project.ratelimit import limit_login_failures

_login = auth_views.LoginView.as_view(redirect_authenticated_user=True)

urlpatterns = [
    path("login/", limit_login_failures(_login), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

# Failed sign-ins here and in admin are limited by django-axes (ivr_project/ratelimit.py):
# its authentication backend refuses a limited name or address before the password is checked.
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

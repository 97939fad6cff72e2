"""The URLs the OpenAPI description describes (SPECTACULAR_SETTINGS["SERVE_URLCONF"]).

urls.py routes to the views through lazy wrappers, which drf-spectacular cannot
see into; `manage.py spectacular --urlconf transactions.api.described` prints it.
"""

from django.urls import path

from .views import alert, alerts

urlpatterns = [
    path("api/v1/alerts", alerts),
    path("api/v1/alerts/<str:public_id>", alert),
]

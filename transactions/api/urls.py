from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/alerts", views.alerts, name="api-alerts"),
    path("api/v1/alerts/<str:public_id>", views.alert, name="api-alert"),
    path("api/v1/openapi.json", views.OpenApiView.as_view(), name="api-openapi"),
    path("api/v1/docs", views.docs, name="api-docs"),
]

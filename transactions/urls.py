"""Each view module lists its own routes, so a feature's URLs live beside its views."""

from .api import urls as alerts_api
from .views import accounts, api, calls, dashboard, health

urlpatterns = (
    health.urlpatterns
    + accounts.urlpatterns
    + api.urlpatterns
    + dashboard.urlpatterns
    + calls.urlpatterns
    + alerts_api.urlpatterns
)

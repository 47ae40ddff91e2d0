"""The URL conf only assembles the apps' own URL lists."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from lookback.api.main import api
from lookback.registry import views as registry_views

# Unknown URLs under /api/ answer in JSON like the rest of the API.
handler404 = "lookback.core.views.page_not_found"

admin.site.site_header = _("回头看 · 系统管理")
admin.site.site_title = _("回头看")
admin.site.index_title = _("系统管理")

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("", include("lookback.accounts.urls")),
    path("", include("lookback.registry.urls")),
    path("imports/", include("lookback.registry.import_urls")),
    path("checks/", include("lookback.checks.urls")),
    path("ledger/", include("lookback.ledger.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

from django.urls import path

from lookback.checks import views

app_name = "checks"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("rules/<str:code>/", views.rule_detail, name="rule_detail"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/export/", views.finding_export, name="finding_export"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("waivers/", views.waiver_list, name="waiver_list"),
    path("waivers/<int:pk>/decide/", views.waiver_decide, name="waiver_decide"),
    path("waivers/<int:pk>/evidence/", views.waiver_evidence, name="waiver_evidence"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
]

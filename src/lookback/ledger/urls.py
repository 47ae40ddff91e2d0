from django.urls import path

from lookback.ledger import views

app_name = "ledger"

urlpatterns = [
    path("", views.problem_list, name="problem_list"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("new/", views.problem_create, name="problem_create"),
    path("household-lookup/", views.household_lookup, name="household_lookup"),
    path("upload/", views.upload, name="upload"),
    path("upload/template.xlsx", views.upload_template, name="upload_template"),
    path("<int:pk>/", views.problem_detail, name="problem_detail"),
    path("<int:pk>/plan/", views.plan, name="plan"),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("<int:pk>/rectify/", views.rectify, name="rectify"),
    path("<int:pk>/return/", views.return_view, name="return"),
    path("<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("<int:pk>/note/", views.note, name="note"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence_delete"),
    path("digest/", views.digest, name="digest"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/start/", views.report_start, name="report_start"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/<str:action>/", views.report_action, name="report_action"),
    path("reports/<int:pk>/file/<str:kind>/", views.report_file, name="report_file"),
    path("self-check/", views.self_check, name="self_check"),
    path("accountability/", views.accountability_list, name="accountability_list"),
    path("accountability/new/", views.accountability_create, name="accountability_create"),
    path("accountability/<int:pk>/", views.accountability_detail, name="accountability_detail"),
]

from django.urls import path

from lookback.registry import import_views as views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_upload, name="upload"),
    path("uploads/<str:token>/", views.upload_detail, name="upload_detail"),
    path("uploads/<str:token>/start/", views.upload_start, name="upload_start"),
    path("uploads/<str:token>/discard/", views.upload_discard, name="upload_discard"),
    path("<int:pk>/", views.batch_detail, name="detail"),
    path("<int:pk>/progress/", views.batch_progress, name="progress"),
    path("<int:pk>/report.xlsx", views.batch_report, name="report"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<str:code>.xlsx", views.template_download, name="template"),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("snapshots/<int:pk>/export.xlsx", views.snapshot_export, name="snapshot_export"),
]

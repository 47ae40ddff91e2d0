from django.urls import path

from lookback.registry import views

app_name = "registry"

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/archive-checks/", views.archive_check_create, name="archive_check_create"),
    path("households/archive-sheet/", views.archive_sheet_download, name="archive_sheet_download"),
    path("households/archive-sheet/upload/", views.archive_sheet_upload, name="archive_sheet_upload"),
    path("divisions/options/", views.division_options, name="division_options"),
]

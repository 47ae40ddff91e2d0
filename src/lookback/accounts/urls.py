from django.urls import path

from lookback.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    path("profile/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
]

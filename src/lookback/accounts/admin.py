from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from lookback.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "role", "scope", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", "scope__level"]
    search_fields = ["username", "first_name", "last_name", "unit", "scope__name"]
    autocomplete_fields = ["scope"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("last_name", "first_name", "unit", "phone", "email", "language")}),
        (_("角色与管辖范围"), {"fields": ("role", "scope")}),
        (_("状态"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "scope")}),)

    @admin.display(description=_("姓名"))
    def display_name(self, obj: User) -> str:
        return (obj.last_name + obj.first_name).strip()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]

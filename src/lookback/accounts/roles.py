"""The roles of DESIGN.md "Who uses it", the division level each is scoped to, and what each may do.

Capabilities are checked with `user.can("...")`; keeping them here, not in per-user Django
permissions, means a role means the same thing everywhere and a new capability is one line.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY = "city", _("市扶贫办")
    COUNTY = "county", _("县扶贫办")
    TOWNSHIP = "township", _("乡镇扶贫专干")
    VILLAGE = "village", _("驻村工作队")
    HELPER = "helper", _("帮扶责任人")
    REVIEWER = "reviewer", _("复核/抽查组")
    SUPERVISOR = "supervisor", _("纪检/督查")
    ADMIN = "admin", _("系统管理员")


# The division level a role's scope must be at (None: any level, or none for the administrator).
SCOPE_LEVEL: dict[str, str | None] = {
    Role.CITY: "city",
    Role.COUNTY: "county",
    Role.TOWNSHIP: "township",
    Role.VILLAGE: "village",
    Role.HELPER: None,
    Role.REVIEWER: None,
    Role.SUPERVISOR: None,
    Role.ADMIN: None,
}

VIEW_PII = "view_pii"  # see ID and phone numbers unmasked
EDIT_REGISTRY = "edit_registry"  # change households, members, measures
IMPORT_DATA = "import_data"  # import spreadsheets
RUN_CHECKS = "run_checks"  # run the rule catalogue
MANAGE_USERS = "manage_users"  # the user admin
RECORD_VISITS = "record_visits"  # record visits and check-ins

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.CITY: frozenset({VIEW_PII, IMPORT_DATA, RUN_CHECKS, EDIT_REGISTRY}),
    Role.COUNTY: frozenset({VIEW_PII, IMPORT_DATA, RUN_CHECKS, EDIT_REGISTRY}),
    Role.TOWNSHIP: frozenset({VIEW_PII, IMPORT_DATA, RUN_CHECKS, EDIT_REGISTRY}),
    Role.VILLAGE: frozenset({VIEW_PII, EDIT_REGISTRY, RECORD_VISITS}),
    Role.HELPER: frozenset({VIEW_PII, RECORD_VISITS}),
    # Review teams and supervisors read; they see no personal numbers unless a later plan grants it.
    Role.REVIEWER: frozenset(),
    Role.SUPERVISOR: frozenset(),
    Role.ADMIN: frozenset({VIEW_PII, IMPORT_DATA, RUN_CHECKS, EDIT_REGISTRY, MANAGE_USERS}),
}

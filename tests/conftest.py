"""Shared fixtures: one user per role with real scopes, and households inside and outside them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lookback.accounts.models import User
from lookback.accounts.roles import Role
from lookback.registry.models import Household
from tests import factories as f


@dataclass
class World:
    users: dict[str, User]
    songkou: Household  # in 嵩口镇 (永泰县), assigned to the helper
    yongtai_other: Household  # in 永泰县 but another township
    minqing: Household  # in 闽清县
    village_other: Household  # in 嵩口镇 but another village


@pytest.fixture
def world(db) -> World:
    songkou_village = f.division(f.SONGKOU_VILLAGE)
    other_village = f.division(f.SONGKOU).children.exclude(code=f.SONGKOU_VILLAGE).order_by("code").first()
    other_township = f.division(f.YONGTAI).children.exclude(code=f.SONGKOU).order_by("code").first()
    users = {
        Role.CITY: f.make_user(Role.CITY, f.CITY, "t-city"),
        Role.COUNTY: f.make_user(Role.COUNTY, f.YONGTAI, "t-county"),
        Role.TOWNSHIP: f.make_user(Role.TOWNSHIP, f.SONGKOU, "t-township"),
        Role.VILLAGE: f.make_user(Role.VILLAGE, f.SONGKOU_VILLAGE, "t-village"),
        Role.HELPER: f.make_user(Role.HELPER, f.SONGKOU, "t-helper"),
        Role.REVIEWER: f.make_user(Role.REVIEWER, f.YONGTAI, "t-reviewer"),
        Role.SUPERVISOR: f.make_user(Role.SUPERVISOR, f.CITY, "t-supervisor"),
        Role.ADMIN: f.make_user(Role.ADMIN, None, "t-admin"),
    }
    songkou = f.make_household(songkou_village.code, head_name="王建华")
    f.make_member(songkou)
    village_other = f.make_household(other_village.code, head_name="陈秀英")
    f.make_member(village_other, name="陈秀英", sex="女")
    yongtai_other = f.make_household(f.first_village(other_township.code).code, head_name="李明")
    f.make_member(yongtai_other, name="李明")
    minqing = f.make_household(f.first_village(f.MINQING).code, head_name="张伟")
    f.make_member(minqing, name="张伟")
    helper = f.make_helper(users[Role.HELPER])
    f.assign(helper, songkou)
    return World(
        users=users, songkou=songkou, yongtai_other=yongtai_other, minqing=minqing, village_other=village_other
    )

"""make build and the profile example: tzdata and the profile modules only where its code imports them."""

from __future__ import annotations

from tests.test_build import AUTHORIZER, MODULES, PROFILE_MODULES, names_in, top_level
from tools.checks import imports


def test_only_the_function_that_checks_time_zones_holds_tzdata(built):
    for function, module in MODULES.items():
        holds = "tzdata" in top_level(built, function)
        assert holds == ("profiles.schema" in imports.closure(module).modules), function
    assert "tzdata" in top_level(built, "MeFunction")


def test_the_profile_modules_are_only_in_the_functions_that_use_them(built):
    for function, module in MODULES.items():
        used = {str(path.relative_to(imports.ROOT)) for path in imports.closure(module).modules.values()}
        assert names_in(built, function) & PROFILE_MODULES == used & PROFILE_MODULES, function
    assert not names_in(built, "HealthFunction") & PROFILE_MODULES
    assert not names_in(built, AUTHORIZER) & PROFILE_MODULES
    assert "profiles/schema.py" not in names_in(built, "UsersFunction")  # it reads profiles, never checks a body

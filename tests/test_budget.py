"""The connection budget: the fleet's worst case against the database's limit, before every deploy."""

import copy

import pytest

from tools import samtemplate
from tools.checks import budget, sam

# The fixture's API functions: three that reach the database, beside the template's authorizer.
DATABASE_FUNCTIONS = ("OneFunction", "TwoFunction", "ThreeFunction")


def database_function(name: str) -> dict:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": f"build/{name}.zip",
            "Handler": f"handlers.{name.lower()}.lambda_handler",
            "Environment": {"Variables": {"MONGODB_URI": {"Ref": "MongoDbUriSecretArn"}}},
        },
    }


def template_with(reserved: dict[str, int] | None = None, pool: dict[str, str] | None = None) -> dict:
    """template.yaml's authorizer and three database functions on an Atlas M10, with the given reservations
    and pool sizes per function (none else)."""
    template = copy.deepcopy(samtemplate.load())
    authorizer, _ = samtemplate.authorizer_function(template)
    for name in samtemplate.functions(template):
        if name != authorizer:
            del template["Resources"][name]
            template["Parameters"].pop(f"{name}Revision", None)
    template["Resources"].update({name: database_function(name) for name in DATABASE_FUNCTIONS})
    template["Parameters"][budget.LIMIT_PARAMETER] = {"Type": "Number", "Default": 1500}
    template["Parameters"][budget.ACCOUNT_PARAMETER] = {"Type": "Number", "Default": 1000}
    for name, properties in samtemplate.functions(template).items():
        properties["Properties"].pop("ReservedConcurrentExecutions", None)
        if name in (reserved or {}):
            properties["Properties"]["ReservedConcurrentExecutions"] = reserved[name]
        if name in (pool or {}):
            variables = properties["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
            variables["MONGODB_MAX_POOL_SIZE"] = pool[name]
    return template


def computed(template: dict, **values: str) -> budget.Budget:
    return budget.budget(template, {**sam.parameter_values(template, {}), **values})


def test_without_reservations_the_unreserved_account_fills_an_m10():
    found = computed(template_with())
    [share] = found.shares
    assert set(share.functions) == set(DATABASE_FUNCTIONS)
    assert (share.containers, share.per_container, found.worst_case) == (1000, 3, 3000)
    assert found.allowed == int(0.8 * (1500 - 10)) and found.worst_case > found.allowed


def test_the_refusal_prints_the_arithmetic_and_the_ways_out():
    [problem] = budget.problems(computed(template_with()), "prod")
    assert "1000 containers (unreserved: AccountConcurrency 1000) x (1 monitor + 2 pool) = 3000" in problem
    assert "worst case 3000 connections per database node, OVER the budget of 1192" in problem
    assert "ReservedConcurrentExecutions" in problem and "MONGODB_MAX_POOL_SIZE" in problem


def test_reservations_bound_each_function_and_fit_the_budget():
    found = computed(template_with({"OneFunction": 20, "TwoFunction": 200, "ThreeFunction": 150}))
    assert {share.functions: share.connections for share in found.shares} == {
        ("OneFunction",): 60,
        ("TwoFunction",): 600,
        ("ThreeFunction",): 450,
    }
    assert found.worst_case == 1110 and budget.problems(found, "prod") == []


def test_unreserved_functions_share_what_the_reservations_leave_counted_once():
    found = computed(template_with({"AuthorizerFunction": 100, "TwoFunction": 300}))
    unreserved = next(share for share in found.shares if len(share.functions) > 1)
    assert set(unreserved.functions) == {"OneFunction", "ThreeFunction"}
    assert unreserved.containers == 1000 - 400


def test_a_function_without_the_database_address_opens_no_connections():
    found = computed(template_with({"AuthorizerFunction": 500, "OneFunction": 1, "TwoFunction": 1, "ThreeFunction": 1}))
    assert all("AuthorizerFunction" not in share.functions for share in found.shares)
    assert found.worst_case == 9


def test_a_larger_pool_raises_the_per_container_count():
    found = computed(
        template_with({"OneFunction": 10, "TwoFunction": 10, "ThreeFunction": 10}, pool={"ThreeFunction": "5"})
    )
    assert {share.functions[0]: share.per_container for share in found.shares} == {
        "OneFunction": 3,
        "TwoFunction": 3,
        "ThreeFunction": 6,
    }


def test_a_larger_database_admits_the_same_fleet():
    template = template_with()
    assert budget.problems(computed(template, DatabaseConnectionLimit="6000"), "prod") == []


def test_a_reservation_read_from_a_parameter_is_evaluated():
    template = template_with()
    template["Parameters"]["TwoConcurrency"] = {"Type": "Number", "Default": 40}
    samtemplate.functions(template)["TwoFunction"]["Properties"]["ReservedConcurrentExecutions"] = {
        "Ref": "TwoConcurrency"
    }
    two = next(share for share in computed(template).shares if share.functions == ("TwoFunction",))
    assert two.containers == 40


def test_a_template_without_the_budget_parameters_is_a_problem_that_names_them():
    template = copy.deepcopy(samtemplate.load())
    template["Parameters"].pop(budget.LIMIT_PARAMETER, None)
    with pytest.raises(ValueError, match="DatabaseConnectionLimit"):
        budget.budget(template, sam.parameter_values(template, {}))


def test_a_deploy_over_the_budget_stops_before_anything_is_built(capsys):
    from tools import deploy

    template = template_with()
    with pytest.raises(deploy.DeployError, match="OVER the budget of 1192"):
        deploy.check_budget("prod", sam.parameter_values(template, {}), template)
    assert "connection budget: worst case 3000 connections per database node" in capsys.readouterr().out


def test_a_deploy_within_the_budget_prints_its_arithmetic_and_goes_on(capsys):
    from tools import deploy

    template = template_with()
    deploy.check_budget("prod", sam.parameter_values(template, {"DatabaseConnectionLimit": "6000"}), template)
    assert "within the budget of 4792" in capsys.readouterr().out


def test_an_undeclared_limit_refuses_nothing_and_names_the_smallest_tier_that_fits():
    found = computed(template_with(), DatabaseConnectionLimit="0")
    assert budget.problems(found, "prod") == []
    assert found.arithmetic()[-1].startswith(
        "worst case 3000 connections per database node, which fits an Atlas M40 (6000) or larger at 80%"
    )


def test_the_template_as_it_is_passes_the_budget_check_and_prints_its_arithmetic():
    arithmetic, problems = budget.check(samtemplate.load())
    assert problems == [] and any(line.startswith("connection budget [prod]: worst case") for line in arithmetic)


def test_the_template_reserved_concurrency_bounds_every_database_function():
    template = samtemplate.load()
    values = sam.parameter_values(template, {"FunctionReservedConcurrency": "100", "DatabaseConnectionLimit": "1500"})
    found = budget.budget(template, values)
    reaching = [
        name
        for name, function in samtemplate.functions(template).items()
        if "MONGODB_URI" in function["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert {share.functions: share.containers for share in found.shares} == {(name,): 100 for name in reaching}
    assert found.worst_case == 3 * 100 * len(reaching)

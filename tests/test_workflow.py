"""The GitHub Actions workflow: one environment selection, run for each kind of push; OIDC; one deploy at a time."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tools.checks import actionlint, workflow

FIXTURE = Path(__file__).parent / "fixtures" / "workflow-environment-decided-twice.yml"


@pytest.fixture(scope="module")
def ci() -> dict:
    return workflow.load()


@pytest.mark.parametrize(
    ("ref", "event", "expected"),
    [
        ("refs/heads/main", "push", {"name": "prod", "deploy": "true"}),
        ("refs/heads/master", "push", {"name": "prod", "deploy": "true"}),
        ("refs/heads/feature/login", "push", {"name": "dev", "deploy": "true"}),
        ("refs/pull/42/merge", "pull_request", {"name": "dev", "deploy": "false"}),
        ("refs/heads/main", "workflow_dispatch", {"name": "prod", "deploy": "true"}),
        ("refs/heads/maintenance", "push", {"name": "dev", "deploy": "true"}),
    ],
)
def test_the_selection_step_picks_the_environment(ci, ref, event, expected):
    assert workflow.select(ci, ref, event) == expected


def test_the_workflow_passes_its_checks(ci):
    assert workflow.check(ci) == []
    assert workflow.check_selection(ci) == []


def test_actionlint_finds_nothing():
    assert actionlint.lint([workflow.WORKFLOW]) == []


def test_only_the_selection_step_reads_the_branch(ci):
    assert workflow.selection_steps(ci) == ["job environment: step select"]


def test_every_deploy_setting_uses_the_one_selected_environment(ci):
    deploy = ci["jobs"]["deploy"]
    selected = "${{ needs.environment.outputs.name }}"
    assert deploy["environment"] == selected
    assert deploy["concurrency"] == {"group": f"deploy-{selected}", "cancel-in-progress": False}
    assert deploy["env"]["DEPLOY_ENV"] == selected
    assert deploy["if"] == "needs.environment.outputs.deploy == 'true'"
    assert 'make deploy ENV="$DEPLOY_ENV"' in [step.get("run") for step in deploy["steps"]]


def test_deploy_waits_for_the_tests_and_uses_oidc(ci):
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] == ["test", "environment"]
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    credentials = [step for step in deploy["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert list(credentials[0]["with"]) == ["role-to-assume", "aws-region"]


def test_the_test_job_runs_make_test_against_a_mongodb_service(ci):
    test = ci["jobs"]["test"]
    assert test["services"]["mongodb"]["image"].startswith("mongo:")
    assert test["env"]["TEST_MONGODB_URI"] == "mongodb://127.0.0.1:27017/"
    assert {"run": "make test"} in test["steps"]


def test_indexes_before_the_deploy_then_the_smoke_test_after_it(ci):
    runs = [step.get("run", "") for step in ci["jobs"]["deploy"]["steps"]]
    deploy_at = runs.index('make deploy ENV="$DEPLOY_ENV"')
    assert runs[deploy_at - 1] == "make indexes"
    assert "tools.deploy smoke" in runs[deploy_at + 1]
    assert any("tools.delete_failed_stack" in run for run in runs[: deploy_at - 1])


def test_the_smoke_test_gets_the_environments_smoke_token(ci):
    (smoke,) = [step for step in ci["jobs"]["deploy"]["steps"] if "tools.deploy smoke" in step.get("run", "")]
    assert smoke["env"] == {"SMOKE_TOKEN": "${{ secrets.SMOKE_TOKEN }}"}


def test_the_environment_decided_twice_is_rejected_with_the_fix():
    problems = workflow.check(workflow.load(FIXTURE), FIXTURE.name)
    assert problems[0] == (
        "workflow-environment-decided-twice.yml: the deployment environment is decided in 2 places (job deploy: "
        "environment; job deploy: step #3), which can disagree: compute it once, in one step that writes it to "
        "$GITHUB_OUTPUT, and use needs.<job>.outputs.<name> everywhere else"
    )


def test_a_deploy_job_without_concurrency_is_rejected(ci):
    broken = copy.deepcopy(ci)
    del broken["jobs"]["deploy"]["concurrency"]
    assert workflow.check(broken) == [
        "workflow: job deploy lets two deploys to one environment run at once: set concurrency: "
        "{group: deploy-${{ needs.environment.outputs.name }}, cancel-in-progress: false}"
    ]


def test_long_lived_keys_are_rejected(ci):
    broken = copy.deepcopy(ci)
    step = next(step for step in broken["jobs"]["deploy"]["steps"] if "configure-aws" in step.get("uses", ""))
    step["with"] = {"aws-access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}", "aws-region": "eu-west-1"}
    problems = workflow.check(broken)
    assert "gets AWS credentials without role-to-assume: use OpenID Connect" in problems[0]
    assert any("uses long-lived AWS keys" in problem for problem in problems)


def test_a_selection_that_sends_main_to_dev_is_rejected(ci):
    broken = copy.deepcopy(ci)
    step = broken["jobs"]["environment"]["steps"][0]
    step["run"] = step["run"].replace("refs/heads/main | refs/heads/master", "refs/heads/master")
    assert workflow.check_selection(broken) == [
        "workflow: a push of refs/heads/main selects ('dev', 'true'), expected ('prod', 'true'): production is for "
        "main and master only, and pull requests never deploy"
    ]


def test_the_command_line_exits_1_and_prints_the_fix(capsys):
    from tools.checks.__main__ import main

    assert main(["--workflow", str(FIXTURE)]) == 1
    assert "is decided in 2 places" in capsys.readouterr().out


def deploy_step(workflow_document: dict) -> dict:
    return next(
        step
        for step in workflow_document["jobs"]["deploy"]["steps"]
        if step.get("run") == 'make deploy ENV="$DEPLOY_ENV"'
    )


def test_the_deploy_step_passes_every_setting_make_deploy_reads(ci):
    from tools.deploy import BOOTSTRAP_VARIABLES, PARAMETER_VARIABLES

    passed = deploy_step(ci)["env"]
    assert {name: passed.get(name) for name in [*PARAMETER_VARIABLES.values(), *BOOTSTRAP_VARIABLES]} == {
        name: f"${{{{ vars.{name} }}}}" for name in [*PARAMETER_VARIABLES.values(), *BOOTSTRAP_VARIABLES]
    }


def test_a_setting_the_deploy_step_leaves_out_is_rejected(ci):
    broken = copy.deepcopy(ci)
    del deploy_step(broken)["env"]["ENABLE_SNAPSTART"]
    assert workflow.check(broken) == [
        "workflow: job deploy's make deploy step does not pass ENABLE_SNAPSTART: add ENABLE_SNAPSTART: "
        "${{ vars.ENABLE_SNAPSTART }} to its env"
    ]


def test_the_deploy_job_installs_the_sam_cli_the_tests_parse_with(ci):
    runs = [step.get("run", "") for step in ci["jobs"]["deploy"]["steps"]]
    assert "python -m pip install --quiet -r tools/checks/samcli-requirements.txt" in runs


def test_a_role_that_is_not_the_environments_is_rejected(ci):
    broken = copy.deepcopy(ci)
    step = next(step for step in broken["jobs"]["deploy"]["steps"] if "configure-aws" in step.get("uses", ""))
    step["with"]["role-to-assume"] = "arn:aws:iam::123456789012:role/deploy"
    assert workflow.check(broken) == [
        "workflow: job deploy assumes a role that is not its environment's: run it in the selected environment and "
        "use role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}, defined per environment"
    ]


INDEXES_AFTER_DEPLOY = Path(__file__).parent / "fixtures" / "workflow-indexes-after-deploy.yml"


def test_indexes_created_after_the_deploy_are_rejected_with_the_fix():
    problems = workflow.check(workflow.load(INDEXES_AFTER_DEPLOY), INDEXES_AFTER_DEPLOY.name)
    assert problems == [
        "workflow-indexes-after-deploy.yml: job deploy creates the indexes after make deploy, so the new code can run "
        "before an index it relies on (possibly unique) exists: run make indexes in a step before make deploy"
    ]


def test_a_deploy_job_that_never_creates_the_indexes_is_rejected(ci):
    broken = copy.deepcopy(ci)
    broken["jobs"]["deploy"]["steps"] = [
        step for step in broken["jobs"]["deploy"]["steps"] if step.get("run") != "make indexes"
    ]
    assert workflow.check(broken) == [
        "workflow: job deploy creates the indexes nowhere, so the new code can run before an index it relies on "
        "(possibly unique) exists: run make indexes in a step before make deploy"
    ]

"""The pre-deploy clean-up: a stack left in ROLLBACK_COMPLETE is deleted, any other is kept (CloudFormation on moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends
from moto.core import DEFAULT_ACCOUNT_ID

from tools import delete_failed_stack

REGION = "eu-west-1"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def cloudformation(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def stack_in(client, name: str, status: str) -> None:
    """A stack named ``name`` whose last operation left it in ``status``."""
    client.create_stack(StackName=name, TemplateBody=TEMPLATE)
    cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].get_stack(name).status = status


def test_a_stack_left_by_a_failed_first_deploy_is_deleted(cloudformation):
    stack_in(cloudformation, "bare-api-dev", "ROLLBACK_COMPLETE")
    outcome = delete_failed_stack.clean(cloudformation, "bare-api-dev", poll_seconds=1)
    assert outcome == "bare-api-dev: was ROLLBACK_COMPLETE (a failed first deploy), deleted"
    assert delete_failed_stack.stack_status(cloudformation, "bare-api-dev") in (None, "DELETE_COMPLETE")


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])
def test_a_healthy_or_recovered_stack_is_kept(cloudformation, status):
    stack_in(cloudformation, "bare-api-prod", status)
    assert delete_failed_stack.clean(cloudformation, "bare-api-prod") == f"bare-api-prod: {status}, kept"
    assert delete_failed_stack.stack_status(cloudformation, "bare-api-prod") == status


def test_no_stack_yet_is_nothing_to_clean(cloudformation):
    assert delete_failed_stack.clean(cloudformation, "bare-api-dev") == "bare-api-dev: no such stack, nothing to clean"


def test_a_failed_rollback_stops_the_deploy_with_the_repair_command(cloudformation):
    stack_in(cloudformation, "bare-api-prod", "UPDATE_ROLLBACK_FAILED")
    with pytest.raises(delete_failed_stack.StackError) as stopped:
        delete_failed_stack.clean(cloudformation, "bare-api-prod")
    assert str(stopped.value) == (
        "bare-api-prod is in UPDATE_ROLLBACK_FAILED, which a deploy cannot start from: run "
        "aws cloudformation continue-update-rollback --stack-name bare-api-prod"
    )
    assert delete_failed_stack.stack_status(cloudformation, "bare-api-prod") == "UPDATE_ROLLBACK_FAILED"


def test_the_command_line_reads_the_stack_name_from_samconfig(cloudformation, capsys):
    stack_in(cloudformation, "bare-api-dev", "ROLLBACK_COMPLETE")
    assert delete_failed_stack.main(["--env", "dev", "--region", REGION]) == 0
    assert "bare-api-dev: was ROLLBACK_COMPLETE" in capsys.readouterr().out


def test_an_unknown_environment_is_refused(cloudformation, capsys):
    assert delete_failed_stack.main(["--env", "staging"]) == 1
    assert "unknown environment 'staging': use one of dev, prod" in capsys.readouterr().err


def run_clean_up(*arguments: str, environ: dict | None = None):
    import os
    import subprocess

    from tools.checks.imports import ROOT

    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
        **(environ or {}),
    )
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "tools.delete_failed_stack", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def test_without_credentials_it_says_how_to_log_in():
    assert run_clean_up("--env", "dev", "--region", REGION).startswith(
        "delete_failed_stack: no AWS credentials: run `aws sso login` or `aws configure`"
    )


def test_without_a_region_it_says_how_to_set_it():
    assert run_clean_up(
        "--env", "dev", environ={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"}
    ).startswith("delete_failed_stack: no AWS region: export AWS_DEFAULT_REGION")


def test_a_refused_call_is_one_line_with_what_aws_said(cloudformation, capsys, monkeypatch):
    from botocore.stub import Stubber

    refusing = Stubber(cloudformation)
    refusing.add_client_error("describe_stacks", service_error_code="AccessDenied", service_message="not authorized")
    refusing.activate()
    monkeypatch.setattr(boto3, "client", lambda *arguments, **options: cloudformation)
    assert delete_failed_stack.main(["--env", "dev", "--region", REGION]) == 1
    assert capsys.readouterr().err == (
        "delete_failed_stack: AWS refused DescribeStacks (AccessDenied: not "
        "authorized): check the role's permissions and the region\n"
    )


def test_a_stack_still_updating_is_waited_for_then_deployed_on(cloudformation):
    stack_in(cloudformation, "bare-api-prod", "UPDATE_IN_PROGRESS")
    stack = cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].get_stack("bare-api-prod")
    waited = []

    def cloudformation_finishes(seconds):
        waited.append(seconds)
        stack.status = "UPDATE_COMPLETE"

    outcome = delete_failed_stack.clean(cloudformation, "bare-api-prod", poll_seconds=7, sleep=cloudformation_finishes)
    assert (outcome, waited) == ("bare-api-prod: UPDATE_COMPLETE, kept", [7])


def test_a_stack_updating_for_too_long_stops_the_deploy_with_the_commands(cloudformation):
    stack_in(cloudformation, "bare-api-prod", "UPDATE_IN_PROGRESS")
    with pytest.raises(delete_failed_stack.StackError) as stopped:
        delete_failed_stack.clean(cloudformation, "bare-api-prod", poll_seconds=1, max_polls=3, sleep=lambda _: None)
    assert str(stopped.value) == (
        "bare-api-prod is still UPDATE_IN_PROGRESS after 3 s, so a deploy would fail: wait for it: aws cloudformation "
        "describe-stacks --stack-name bare-api-prod --query 'Stacks[0].StackStatus'; or stop it: aws cloudformation "
        "cancel-update-stack --stack-name bare-api-prod"
    )

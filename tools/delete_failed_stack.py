"""Settle the stack before a deploy: wait for an operation still in progress, delete a failed first deploy.

    python -m tools.delete_failed_stack --env dev          # the stack named in samconfig.toml
    python -m tools.delete_failed_stack --stack-name NAME

A stack still in an ``*_IN_PROGRESS`` state (a cancelled job leaves CloudFormation
updating, or rolling back, on its own) is waited for, a bounded time, then
reported with the commands that wait for or stop it ("DescribeStacks", "Stack
status codes", AWS CloudFormation User Guide). A stack whose creation failed and
rolled back can be neither updated nor deployed again ("is in ROLLBACK_COMPLETE state and can not be updated"); it
holds no resources, so deleting it loses nothing. Any other state is left
alone; a state only a person can repair (a failed rollback or delete) stops
the deploy with the command that repairs it.
"""

from __future__ import annotations

import sys
import time

from tools import cli

FAILED_FIRST_DEPLOY = "ROLLBACK_COMPLETE"
NEEDS_A_PERSON = {
    "UPDATE_ROLLBACK_FAILED": "aws cloudformation continue-update-rollback --stack-name {stack}",
    "ROLLBACK_FAILED": "aws cloudformation delete-stack --stack-name {stack} (after removing what blocks it)",
    "DELETE_FAILED": "aws cloudformation delete-stack --stack-name {stack} (after removing what blocks it)",
}


class StackError(RuntimeError):
    """The stack is in a state a deploy cannot start from, and deleting it is not safe."""


def stack_status(client, stack: str) -> str | None:
    """The stack's status, or None when there is no such stack."""
    from botocore.exceptions import ClientError

    try:
        return client.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def settled_status(client, stack: str, poll_seconds: float = 10, max_polls: int = 180, sleep=time.sleep) -> str | None:
    """The stack's status once no operation is in progress; StackError, with the commands, if one still is."""
    status = stack_status(client, stack)
    for _ in range(max_polls):
        if status is None or not status.endswith("_IN_PROGRESS"):
            return status
        sleep(poll_seconds)
        status = stack_status(client, stack)
    if status is None or not status.endswith("_IN_PROGRESS"):
        return status
    stop = (
        f"; or stop it: aws cloudformation cancel-update-stack --stack-name {stack}"
        if status == "UPDATE_IN_PROGRESS"
        else ""
    )
    raise StackError(
        f"{stack} is still {status} after {poll_seconds * max_polls:.0f} s, so a deploy would fail: wait "
        f"for it: aws cloudformation describe-stacks --stack-name {stack} --query "
        f"'Stacks[0].StackStatus'{stop}"
    )


def clean(client, stack: str, poll_seconds: int = 5, max_polls: int = 120, sleep=time.sleep) -> str:
    """Wait for an operation in progress, then delete ``stack`` if it is in ROLLBACK_COMPLETE; return what was done.

    Raises :class:`StackError` for states that need a person (see :data:`NEEDS_A_PERSON`)
    and for an operation still in progress after ``max_polls`` polls.
    """
    status = settled_status(client, stack, poll_seconds, max_polls, sleep)
    if status is None:
        return f"{stack}: no such stack, nothing to clean"
    if status in NEEDS_A_PERSON:
        command = NEEDS_A_PERSON[status].format(stack=stack)
        raise StackError(f"{stack} is in {status}, which a deploy cannot start from: run {command}")
    if status != FAILED_FIRST_DEPLOY:
        return f"{stack}: {status}, kept"
    client.delete_stack(StackName=stack)
    waiter = client.get_waiter("stack_delete_complete")
    waiter.wait(StackName=stack, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": max_polls})
    return f"{stack}: was {FAILED_FIRST_DEPLOY} (a failed first deploy), deleted"


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m tools.delete_failed_stack", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--env", help="a samconfig.toml environment (dev or prod)")
    target.add_argument("--stack-name")
    parser.add_argument("--region", help="default: the AWS SDK's (AWS_REGION, profile)")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from tools import deploy
    from tools.checks import sam

    try:
        stack = args.stack_name or sam.deploy_settings(args.env)["stack_name"]
        region = deploy.require_credentials(boto3.session.Session(region_name=args.region))
        print(clean(boto3.client("cloudformation", region_name=region), stack))
        return 0
    except (StackError, sam.ParameterError, deploy.DeployError) as exc:
        message = str(exc)
    except (BotoCoreError, ClientError) as exc:  # a refused call, or a delete that failed (WaiterError)
        message = deploy.aws_failure(exc)
    print(f"delete_failed_stack: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

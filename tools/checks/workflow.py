"""Checks on the GitHub Actions workflow, and its environment selection run for given branches and events.

The deployment environment must be decided in exactly one step (the only place
that reads the branch), written to ``$GITHUB_OUTPUT``, and used from that one
output everywhere else: two places testing the branch differently is how a
production deploy once got development settings.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
BRANCH_REFERENCE = re.compile(
    r"github\.(ref|ref_name|head_ref|base_ref)\b|GITHUB_(REF|REF_NAME|HEAD_REF|BASE_REF)\b"
    r"|refs/heads/"
)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
OUTPUT_REFERENCE = re.compile(r"needs\.([\w-]+)\.outputs\.([\w-]+)")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
SAM_CLI_REQUIREMENTS = "tools/checks/samcli-requirements.txt"
LONG_LIVED_KEYS = re.compile(r"AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id")


class WorkflowError(ValueError):
    """The workflow has no single environment selection to run."""


def load(path: Path = WORKFLOW) -> dict:
    with open(path) as file:
        workflow = yaml.safe_load(file)
    if True in workflow:  # YAML 1.1 reads the key `on` as true
        workflow["on"] = workflow.pop(True)
    return workflow


def places(workflow: dict):
    """``(where, text)`` for every value of every job, triggers excluded."""
    for job_name, job in workflow.get("jobs", {}).items():
        for key, value in job.items():
            if key == "steps":
                continue
            yield from _texts(f"job {job_name}: {key}", value)
        for index, step in enumerate(job.get("steps", [])):
            label = step.get("id") or step.get("name") or f"#{index + 1}"
            yield from _texts(f"job {job_name}: step {label}", step)


def _texts(where: str, value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(where, item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(where, item)
    elif value is not None:
        yield where, str(value)


def selection_steps(workflow: dict) -> list[str]:
    """Every place (a job setting or a step) that reads the branch or ref."""
    return list(dict.fromkeys(where for where, text in places(workflow) if BRANCH_REFERENCE.search(text)))


def deploy_jobs(workflow: dict) -> dict[str, dict]:
    return {name: job for name, job in workflow.get("jobs", {}).items() if "environment" in job}


def check(workflow: dict, name: str = "workflow") -> list[str]:
    """Every problem of ``workflow``; each message names its fix."""
    found = []
    deciders = selection_steps(workflow)
    if len(deciders) > 1:
        found.append(
            f"{name}: the deployment environment is decided in {len(deciders)} places "
            f"({'; '.join(deciders)}), which can disagree: compute it once, in one step that writes it to "
            f"$GITHUB_OUTPUT, and use needs.<job>.outputs.<name> everywhere else"
        )
    for job_name, job in deploy_jobs(workflow).items():
        found += _check_deploy_job(name, job_name, job)
    for job_name, job in workflow.get("jobs", {}).items():
        found += _check_credentials(name, job_name, job)
    for where, text in places(workflow):
        if LONG_LIVED_KEYS.search(text):
            found.append(
                f"{name}: {where} uses long-lived AWS keys: assume a role with OpenID Connect "
                f"(aws-actions/configure-aws-credentials with role-to-assume) instead"
            )
    found += _check_test_job(name, workflow)
    return list(dict.fromkeys(found))


def _check_deploy_job(name: str, job_name: str, job: dict) -> list[str]:
    found = []
    environment = job.get("environment")
    environment = environment.get("name") if isinstance(environment, dict) else environment
    selected = OUTPUT_REFERENCE.search(str(environment))
    if selected is None:
        found.append(
            f"{name}: job {job_name} sets environment {environment!r} itself: use the one selected "
            f"environment, ${{{{ needs.<job>.outputs.<name> }}}}"
        )
        return found
    output = selected.group(0)
    concurrency = job.get("concurrency")
    group = concurrency.get("group") if isinstance(concurrency, dict) else concurrency
    if not group or output not in str(group):
        found.append(
            f"{name}: job {job_name} lets two deploys to one environment run at once: set concurrency: "
            f"{{group: deploy-${{{{ {output} }}}}, cancel-in-progress: false}}"
        )
    elif isinstance(concurrency, dict) and concurrency.get("cancel-in-progress"):
        found.append(f"{name}: job {job_name} cancels a running deploy: set cancel-in-progress: false")
    if selected.group(1) not in _needs(job):
        found.append(f"{name}: job {job_name} reads {output} without needing job {selected.group(1)}: add it to needs")
    if "test" not in _needs(job):
        found.append(f"{name}: job {job_name} does not wait for the tests: add test to its needs")
    return found + _check_deploy_settings(name, job_name, job)


def _check_deploy_settings(name: str, job_name: str, job: dict) -> list[str]:
    """The deploy step gets every setting make deploy reads, from the environment's variables; the pinned SAM CLI."""
    from tools.deploy import BOOTSTRAP_VARIABLES, PARAMETER_VARIABLES

    found = []
    steps = job.get("steps", [])
    for step in (step for step in steps if "make deploy" in str(step.get("run", ""))):
        passed = step.get("env") or {}
        for variable in [*PARAMETER_VARIABLES.values(), *BOOTSTRAP_VARIABLES]:
            if str(passed.get(variable, "")).replace(" ", "") != f"${{{{vars.{variable}}}}}":
                found.append(
                    f"{name}: job {job_name}'s make deploy step does not pass {variable}: add "
                    f"{variable}: ${{{{ vars.{variable} }}}} to its env"
                )
    runs = [str(step.get("run", "")) for step in steps]
    deploy_at = next((index for index, run in enumerate(runs) if "make deploy" in run), None)
    indexes_at = next((index for index, run in enumerate(runs) if "make indexes" in run), None)
    if deploy_at is not None and (indexes_at is None or indexes_at > deploy_at):
        when = "after make deploy" if indexes_at is not None else "nowhere"
        found.append(
            f"{name}: job {job_name} creates the indexes {when}, so the new code can run before an index "
            f"it relies on (possibly unique) exists: run make indexes in a step before make deploy"
        )
    installs = " ".join(runs)
    if "make deploy" in installs and SAM_CLI_REQUIREMENTS not in installs:
        found.append(
            f"{name}: job {job_name} does not install the SAM CLI the tests parse with: run "
            f"python -m pip install -r {SAM_CLI_REQUIREMENTS}"
        )
    return found


def _needs(job: dict) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _check_credentials(name: str, job_name: str, job: dict) -> list[str]:
    found = []
    for step in job.get("steps", []):
        if not str(step.get("uses", "")).startswith(CREDENTIALS_ACTION):
            continue
        if "role-to-assume" not in step.get("with", {}):
            found.append(f"{name}: job {job_name} gets AWS credentials without role-to-assume: use OpenID Connect")
        elif "environment" not in job or "vars.AWS_DEPLOY_ROLE_ARN" not in str(step["with"]["role-to-assume"]):
            found.append(
                f"{name}: job {job_name} assumes a role that is not its environment's: run it in the "
                f"selected environment and use role-to-assume: ${{{{ vars.AWS_DEPLOY_ROLE_ARN }}}}, "
                f"defined per environment"
            )
        if job.get("permissions", {}).get("id-token") != "write":
            found.append(
                f"{name}: job {job_name} assumes a role without the OIDC token: set permissions: "
                f"{{id-token: write, contents: read}}"
            )
    return found


def _check_test_job(name: str, workflow: dict) -> list[str]:
    job = workflow.get("jobs", {}).get("test")
    if job is None:
        return [f"{name}: there is no job named test: add one that runs make test"]
    scripts = " ".join(str(step.get("run", "")) for step in job.get("steps", []))
    found = []
    if "make test" not in scripts:
        found.append(f"{name}: job test does not run make test: add a step `run: make test`")
    images = " ".join(str(service.get("image", "")) for service in (job.get("services") or {}).values())
    if "mongo" not in images or "TEST_MONGODB_URI" not in str(job.get("env", {})):
        found.append(
            f"{name}: job test has no MongoDB service container: add services.mongodb (image mongo) and "
            f"env TEST_MONGODB_URI"
        )
    return found


def selection_step(workflow: dict) -> tuple[str, dict]:
    """The job and step that decide the environment; WorkflowError unless exactly one step does."""
    found = []
    for job_name, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            text = " ".join(str(value) for value in (step.get("run", ""), step.get("env", {})))
            if BRANCH_REFERENCE.search(text) and "GITHUB_OUTPUT" in str(step.get("run", "")):
                found.append((job_name, step))
    if len(found) != 1:
        raise WorkflowError(f"expected one step that selects the environment, found {len(found)}")
    return found[0]


def _substitute(text: str, context: dict[str, str]) -> str:
    def replace(found: re.Match) -> str:
        expression = found.group(1)
        if expression not in context:
            raise WorkflowError(f"the selection step uses ${{{{ {expression} }}}}, which the test does not provide")
        return context[expression]

    return EXPRESSION.sub(replace, text)


def select(workflow: dict, ref: str, event: str) -> dict[str, str]:
    """Run the selection step's script as GitHub would for ``ref`` and ``event``; return its outputs."""
    context = {
        "github.ref": ref,
        "github.event_name": event,
        "github.ref_name": ref.removeprefix("refs/heads/").removeprefix("refs/tags/"),
    }
    _, step = selection_step(workflow)
    environment = {name: _substitute(str(value), context) for name, value in (step.get("env") or {}).items()}
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "output"
        output.touch()
        environment.update(
            PATH=os.environ.get("PATH", ""),
            GITHUB_OUTPUT=str(output),
            GITHUB_REF=ref,
            GITHUB_EVENT_NAME=event,
            GITHUB_REF_NAME=context["github.ref_name"],
        )
        script = _substitute(str(step["run"]), context)
        subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=environment,
            check=True,
            capture_output=True,
            timeout=30,
        )
        lines = output.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


# (ref, event) -> (environment, deploys?): production for main and master, development otherwise.
EXPECTED_SELECTION = {
    ("refs/heads/main", "push"): ("prod", "true"),
    ("refs/heads/master", "push"): ("prod", "true"),
    ("refs/heads/feature/login", "push"): ("dev", "true"),
    ("refs/pull/42/merge", "pull_request"): ("dev", "false"),
}


def check_selection(workflow: dict, name: str = "workflow") -> list[str]:
    """Run the selection step for main, master, a feature branch and a pull request; compare with the policy."""
    found = []
    for (ref, event), (environment, deploys) in EXPECTED_SELECTION.items():
        try:
            outputs = select(workflow, ref, event)
        except (WorkflowError, subprocess.CalledProcessError) as exc:
            return [
                f"{name}: the environment selection cannot be run ({exc}): keep one step that reads the "
                f"branch from env and writes name=<dev|prod> and deploy=<true|false> to $GITHUB_OUTPUT"
            ]
        got = (outputs.get("name"), outputs.get("deploy"))
        if got != (environment, deploys):
            found.append(
                f"{name}: a {event} of {ref} selects {got}, expected {(environment, deploys)}: production "
                f"is for main and master only, and pull requests never deploy"
            )
    return found

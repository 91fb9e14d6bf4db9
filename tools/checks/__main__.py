"""Every offline deploy check: ``python -m tools.checks`` (``make lint`` runs it).

- the SAM template: no key twice (YAML would keep the last), cfn-lint with the project's rules, then SAM's transform for
  each samconfig.toml environment and the assertions of :mod:`tools.checks.template`;
- the connection budget per environment (:mod:`tools.checks.budget`, its arithmetic on stderr) and the
  dashboard's widgets against the metrics AWS and the functions' EMF lines publish (:mod:`tools.checks.dashboard`);
- the HTTP API templates derived from it (template-http*.yaml): up to date,
  then the assertions of :mod:`tools.checks.httpapi`;
- for every template, the canaries (:mod:`tools.checks.canary`): the PreTraffic hook on every function,
  rollback alarms that start afresh per version and tolerate one blip, parameters as strict as the functions;
- the bootstrap template (tools/bootstrap.yaml): cfn-lint, then the assertions of
  :mod:`tools.checks.bootstrap` (artifact bucket, least privilege per environment);
- the GitHub Actions workflows: actionlint, the checks of :mod:`tools.checks.workflow`
  and the environment selection run for main, master, a feature branch and a pull request.

Exits 1 and lists the problems (each with its fix) when any check fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools import cli
from tools.checks import (
    actionlint,
    bootstrap,
    budget,
    canary,
    cfnlint,
    dashboard,
    emitted,
    httpapi,
    sam,
    template,
    workflow,
    yamlkeys,
)
from tools.checks.imports import ROOT
from tools.samtemplate import Evaluator

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BOOTSTRAP = bootstrap.BOOTSTRAP  # a plain CloudFormation template, deployed once by a person


def check_template(path: Path) -> list[str]:
    """No key twice, cfn-lint on the template and on SAM's output, then the project's assertions."""
    problems = yamlkeys.check_file(path) + cfnlint.lint_file(path)
    source = template.samtemplate.load(path)
    # SAM resolves each revision into its function's version name and Description, leaving the parameter unused.
    resolved = [f"W2001 Parameter {name} not used" for name in sam.revision_parameters(source).values()]
    for environment, settings in sorted(sam.environments().items()):
        try:
            values = sam.parameter_values(source, sam.parse_overrides(settings.get("parameter_overrides", "")))
            transformed = sam.translate(source, values)
        except Exception:
            continue  # template.check reports why the template cannot be transformed
        problems += [
            line
            for line in cfnlint.lint_document(transformed, f"{path.name} [{environment}, transformed]")
            if not any(finding in line for finding in resolved)
        ]
    return problems + template.check(path) + check_operations(source)


def check_operations(source: dict) -> list[str]:
    """The connection budget of every environment (its arithmetic on stderr), then the dashboard's metrics."""
    arithmetic, problems = budget.check(source)
    for line in arithmetic:
        print(line, file=sys.stderr)
    namespace = str(
        Evaluator(source, sam.parameter_values(source, {})).value(
            source.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}).get("APP_NAME")
        )
    )
    return problems + dashboard.check(source, emitted.run_functions(source, namespace))


# A region of each partition: SAM names some managed policies per partition (samtranslator's xray_utils.py).
PARTITION_REGIONS = ("us-east-1", "cn-north-1", "us-gov-west-1")


def check_bootstrap(
    path: Path = BOOTSTRAP, app_templates: tuple[Path, ...] = (template.samtemplate.TEMPLATE, *httpapi.TEMPLATES)
) -> list[str]:
    """cfn-lint, then the bootstrap assertions against every stack each flavour makes, per environment and partition."""
    apps = {}
    for app_template in app_templates:
        source = template.samtemplate.load(app_template)
        for environment, settings in sorted(sam.environments().items()):
            overrides = {**httpapi.EXAMPLE_VALUES, **sam.parse_overrides(settings.get("parameter_overrides", ""))}
            values = sam.parameter_values(source, overrides)
            for region in PARTITION_REGIONS:
                label = f"{app_template.name} [{environment}, {region}]"
                apps[(label, environment)] = sam.translate(source, values, region=region)
    return cfnlint.lint_file(path) + bootstrap.check(template.samtemplate.load(path), apps=apps)


def check_workflows(paths: list[Path]) -> list[str]:
    """actionlint, then the deploy rules and the environment selection of each workflow."""
    problems = actionlint.lint(paths)
    for path in paths:
        loaded = workflow.load(path)
        problems += workflow.check(loaded, path.name)
        if workflow.deploy_jobs(loaded):
            problems += workflow.check_selection(loaded, path.name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="make lint", description="Offline checks of the SAM template and the deploy workflow.")
    parser.add_argument("--template", type=Path, action="append", help="template(s) to check (default: template.yaml)")
    parser.add_argument("--workflow", type=Path, action="append", help="workflow(s) to check (default: all)")
    args = parser.parse_args(argv)
    only_workflows = args.workflow and not args.template
    templates = [] if only_workflows else (args.template or [template.samtemplate.TEMPLATE, *httpapi.TEMPLATES])
    workflows = args.workflow or ([] if args.template else WORKFLOWS)
    problems = []
    for path in templates:
        is_http = httpapi.API_TYPE in path.read_text()
        problems += httpapi.check(path) if is_http else check_template(path)
        problems += [f"{path.name}: {problem}" for problem in canary.check(template.samtemplate.load(path))]
    if not args.template and not args.workflow:
        problems += check_bootstrap()
        templates.append(BOOTSTRAP)
    if workflows:
        problems += check_workflows(workflows)
    for problem in problems:
        print(problem)
    checked = ", ".join(path.name for path in [*templates, *workflows])
    print(f"deploy checks: {len(problems)} problem(s) in {checked}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

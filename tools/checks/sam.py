"""The template as it will be deployed: parameters per environment, then SAM's own transform, offline.

``samconfig.toml`` names the environments (``dev``, ``prod``) and their
parameter overrides; parameters that each user supplies at deploy time (secret
ARNs, issuer) get the example values below. Every value is checked against
the parameter's constraints, as CloudFormation would at deploy time.

Each function's revision parameter (the ``!Ref`` in its ``AutoPublishCodeSha256``)
is computed, never supplied: see :func:`function_revisions`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import shlex
import tomllib
from pathlib import Path

from tools import samtemplate
from tools.samtemplate import PSEUDO, SUB_VARIABLE

ROOT = Path(__file__).resolve().parent.parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
ARTIFACT_BUCKET = "bare-api-artifacts"
# Values a user supplies at deploy time (see README, "Deploy"), as examples that fit the constraints.
EXAMPLE_VALUES = {
    "MongoDbUriSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/mongodb-uri-AbCdEf",
    "JwtSecretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/bare-api/dev/jwt-secret",
    "JwtIssuer": "https://issuer.example.com/",
    "JwtAudience": "bare-api",
}


# Properties of a SAM function that are not part of a Lambda version: triggers, rollout, the role's policies,
# and reserved concurrency (set on the function, for all its versions).
FUNCTION_LEVEL = ("ReservedConcurrentExecutions",)
NOT_VERSIONED = (
    "Events",
    "DeploymentPreference",
    "Policies",
    "PermissionsBoundary",
    "AutoPublishCodeSha256",
    *FUNCTION_LEVEL,
)


class ParameterError(ValueError):
    """A parameter value CloudFormation would refuse, or one that no environment provides."""


def environments(path: Path = SAMCONFIG) -> dict[str, dict]:
    """``{env: deploy parameters}`` for every ``[<env>.deploy.parameters]`` table of samconfig.toml."""
    with open(path, "rb") as file:
        config = tomllib.load(file)
    return {
        name: section["deploy"]["parameters"]
        for name, section in config.items()
        if isinstance(section, dict) and "parameters" in section.get("deploy", {})
    }


def project_settings(environment: str, path: Path = SAMCONFIG) -> dict:
    """The project's own ``[<environment>.bare_api]`` table of samconfig.toml (the SAM CLI reads no such table)."""
    with open(path, "rb") as file:
        section = tomllib.load(file).get(environment, {})
    return section.get("bare_api", {}) if isinstance(section, dict) else {}


def function_properties(template: dict, with_hooks: bool = False) -> dict[str, dict]:
    """Each function's properties with ``Globals.Function`` applied as SAM does (variables merged, rest replaced).

    ``with_hooks`` adds the deployment hooks (``samtemplate.hooks``), which are built like the functions.
    """
    defaults = template.get("Globals", {}).get("Function", {})
    merged = {}
    chosen = samtemplate.all_functions(template) if with_hooks else samtemplate.functions(template)
    for name, resource in chosen.items():
        properties = {**defaults, **resource.get("Properties", {})}
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        if variables:
            properties["Environment"] = {"Variables": variables}
        merged[name] = properties
    return merged


def deploy_settings(environment: str, path: Path = SAMCONFIG) -> dict:
    """The ``[<environment>.deploy.parameters]`` of samconfig.toml; ParameterError naming the choices."""
    declared = environments(path)
    if not environment:
        raise ParameterError(f"no environment given: use one of {', '.join(sorted(declared))} (make deploy ENV=dev)")
    if environment not in declared:
        raise ParameterError(f"unknown environment {environment!r}: use one of {', '.join(sorted(declared))}")
    return declared[environment]


def boundary_policy_name(stack: str, region: str) -> str:
    """The permissions boundary tools/bootstrap.yaml makes for the app stack named ``stack`` in ``region``.

    IAM names are unique per account, and the bootstrap is deployed once per account and region.
    """
    return f"{stack}-{region}-boundary"


def parse_overrides(overrides) -> dict[str, str]:
    """``"A=1 B='x y'"`` (or a list of ``A=1`` strings) -> ``{"A": "1", "B": "x y"}``."""
    items = shlex.split(overrides) if isinstance(overrides, str) else list(overrides or [])
    pairs = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator:
            raise ParameterError(f"parameter override {item!r} is not Name=Value")
        pairs[name] = value
    return pairs


def check_value(name: str, declaration: dict, value: str) -> None:
    """Raise ParameterError when CloudFormation would refuse ``value`` for parameter ``name``."""
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        raise ParameterError(f"parameter {name}={value!r} is not one of {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ParameterError(f"parameter {name}={value!r} does not match its AllowedPattern {pattern}")
    if len(value) < int(declaration.get("MinLength", 0)):
        raise ParameterError(f"parameter {name} must not be empty")
    if declaration.get("Type") == "Number":
        _check_number(name, declaration, value)


def _check_number(name: str, declaration: dict, value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(f"parameter {name}={value!r} is not a number") from None
    low, high = declaration.get("MinValue"), declaration.get("MaxValue")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise ParameterError(
            f"parameter {name}={value!r} is outside {low if low is not None else '-inf'}.."
            f"{high if high is not None else 'inf'}"
        )


def parameter_values(template: dict, overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value: override, else example, else default; each checked like CloudFormation.

    Revision parameters not overridden get the revision of example code (see :func:`example_code`).
    """
    values = {}
    computed = set(revision_parameters(template).values()) - set(overrides)
    for name, declaration in template.get("Parameters", {}).items():
        if name in computed:
            continue
        if name in overrides:
            value = overrides[name]
        elif name in EXAMPLE_VALUES:
            value = EXAMPLE_VALUES[name]
        elif "Default" in declaration:
            value = str(declaration["Default"])
        else:
            raise ParameterError(f"parameter {name} has no default: give it a value in samconfig.toml")
        check_value(name, declaration, value)
        values[name] = value
    for name, revision in function_revisions(template, values, example_code(template)).items():
        if name in computed:
            check_value(name, template["Parameters"][name], revision)
            values[name] = revision
    unknown = set(overrides) - set(values)
    if unknown:
        raise ParameterError(f"samconfig.toml overrides parameters the template does not declare: {sorted(unknown)}")
    return values


def revision_parameters(template: dict) -> dict[str, str]:
    """``{function: parameter}`` for every function whose ``AutoPublishCodeSha256`` is ``!Ref <parameter>``."""
    found = {}
    for name, properties in function_properties(template).items():
        reference = properties.get("AutoPublishCodeSha256")
        if isinstance(reference, dict) and isinstance(reference.get("Ref"), str):
            found[name] = reference["Ref"]
    return found


def function_revisions(template: dict, values: dict[str, str], code: dict[str, str]) -> dict[str, str]:
    """``{revision parameter: sha256}`` of each function's code digest, properties and the parameters they use.

    SAM names a function's version after the first characters of ``AutoPublishCodeSha256``
    (and appends it to the function's Description, so Lambda really publishes), but
    otherwise after the code location and a few literal properties: without it, a
    parameter-only change (``LogLevel``, ``JwtIssuer``...) would update ``$LATEST`` and
    leave the alias on the old version. ``code`` maps each function to its zip's digest.
    """
    revisions = revision_parameters(template)
    result = {}
    for function, parameter in revisions.items():
        properties = {
            key: value for key, value in function_properties(template)[function].items() if key not in NOT_VERSIONED
        }
        used = sorted(referenced_parameters(template, properties) - set(revisions.values()))
        document = {
            "code": code[function],
            "properties": properties,
            "parameters": {name: values[name] for name in used},
        }
        result[parameter] = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return result


def referenced_parameters(template: dict, value) -> set[str]:
    """The template parameters ``value`` refers to: by Ref, in Fn::Sub, or through a condition."""
    declared = template.get("Parameters", {})
    found = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_parameters(template, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item in declared:
                found.add(item)
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name for name in SUB_VARIABLE.findall(text) if name in declared}
            if key in ("Fn::If", "Condition"):
                condition = item[0] if key == "Fn::If" else item
                found |= referenced_parameters(template, template.get("Conditions", {}).get(condition))
            found |= referenced_parameters(template, item)
    return found


def example_code(template: dict) -> dict[str, str]:
    """A stand-in zip digest per function, for checks that run without ``make build``."""
    return {name: hashlib.sha256(f"code of {name}".encode()).hexdigest() for name in samtemplate.functions(template)}


def translate(
    template: dict, parameters: dict[str, str], code: dict[str, str] | None = None, region: str = PSEUDO["AWS::Region"]
) -> dict:
    """The CloudFormation template SAM makes of ``template``, offline, as in ``region`` (its partition too).

    Code URIs stand for uploaded zips; with ``code`` (``{function: zip digest}``) each
    key is named after its digest, as ``sam deploy`` names what it uploads.
    """
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    document = copy.deepcopy(template)
    for name in samtemplate.all_functions(document):
        key = f"{name}/{code[name]}.zip" if code and name in code else f"{name}.zip"
        document["Resources"][name]["Properties"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{key}"
    translator = Translator(None, Parser(), boto_session=_offline_session(region))
    return translator.translate(
        document, parameter_values={**PSEUDO, "AWS::Region": region, **parameters}, get_managed_policy_map=lambda: {}
    )


def _offline_session(region: str):
    import boto3

    return boto3.session.Session(region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline")

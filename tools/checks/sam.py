"""The template as it will be deployed: parameters per environment, then SAM's own transform, offline.

``samconfig.toml`` names the environments (``dev``, ``prod``) and their
parameter overrides; parameters that each user supplies at deploy time (secret
ARNs, issuer) get the example values below. Every value is checked against
the parameter's constraints, as CloudFormation would at deploy time.
"""

from __future__ import annotations

import copy
import logging
import re
import shlex
import tomllib
from pathlib import Path

from tools import samtemplate
from tools.checks.intrinsics import PSEUDO

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


def function_properties(template: dict) -> dict[str, dict]:
    """Each function's properties with ``Globals.Function`` applied as SAM does (variables merged, rest replaced)."""
    defaults = template.get("Globals", {}).get("Function", {})
    merged = {}
    for name, resource in samtemplate.functions(template).items():
        properties = {**defaults, **resource.get("Properties", {})}
        variables = {**defaults.get("Environment", {}).get("Variables", {}),
                     **resource.get("Properties", {}).get("Environment", {}).get("Variables", {})}
        if variables:
            properties["Environment"] = {"Variables": variables}
        merged[name] = properties
    return merged


def deploy_settings(environment: str, path: Path = SAMCONFIG) -> dict:
    """The ``[<environment>.deploy.parameters]`` of samconfig.toml; ParameterError naming the choices."""
    declared = environments(path)
    if environment not in declared:
        raise ParameterError(f"unknown environment {environment!r}: use one of {', '.join(sorted(declared))}")
    return declared[environment]


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


def parameter_values(template: dict, overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value: override, else example, else default; each checked like CloudFormation."""
    values = {}
    for name, declaration in template.get("Parameters", {}).items():
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
    unknown = set(overrides) - set(values)
    if unknown:
        raise ParameterError(f"samconfig.toml overrides parameters the template does not declare: {sorted(unknown)}")
    return values


def translate(template: dict, parameters: dict[str, str]) -> dict:
    """The CloudFormation template SAM makes of ``template``, offline (code URIs stand for uploaded zips)."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    document = copy.deepcopy(template)
    for name in samtemplate.functions(document):
        document["Resources"][name]["Properties"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{name}.zip"
    translator = Translator(None, Parser(), boto_session=_offline_session())
    return translator.translate(document, parameter_values={**PSEUDO, **parameters},
                                get_managed_policy_map=lambda: {})


def _offline_session():
    import boto3

    return boto3.session.Session(region_name=PSEUDO["AWS::Region"], aws_access_key_id="offline",
                                 aws_secret_access_key="offline")

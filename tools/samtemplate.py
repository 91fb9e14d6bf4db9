"""Read ``template.yaml``: its functions, their API routes and the authorizer.

CloudFormation's short tags (``!Ref``, ``!GetAtt``, ``!Sub``...) load as their
long forms (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"  # the two long forms without Fn::
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict:
    """The template as plain data, short tags expanded."""
    with open(path) as file:
        return yaml.load(file, Loader=_Loader)


def loads(text: str):
    """A piece of template text as plain data, short tags expanded, as :func:`load` reads a file."""
    return yaml.load(text, Loader=_Loader)


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    function: str
    handler: str
    authorized: bool
    authorizer: str = ""  # the authorizer's name in the Api's Auth.Authorizers; "" for the default or NONE


def functions(template: dict) -> dict[str, dict]:
    """Every ``AWS::Serverless::Function`` by logical id, but the deployment hooks (see :func:`hooks`)."""
    hooked = hooks(template)
    return {name: resource for name, resource in all_functions(template).items() if name not in hooked}


def all_functions(template: dict) -> dict[str, dict]:
    """Every ``AWS::Serverless::Function`` by logical id, the deployment hooks too: what is built and uploaded."""
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def hooks(template: dict) -> dict[str, dict]:
    """The functions CodeDeploy runs around a deployment (``DeploymentPreference.Hooks``): no API function."""
    preferences = [resource.get("Properties", {}).get("DeploymentPreference") or {}
                   for resource in all_functions(template).values()]
    named = {hook.get("Ref") for preference in preferences for hook in (preference.get("Hooks") or {}).values()
             if isinstance(hook, dict)}
    return {name: resource for name, resource in all_functions(template).items() if name in named}


def events(template: dict, kind: str) -> list[tuple[str, dict]]:
    """``(function, event properties)`` for every event of type ``kind`` (``Api``, ``HttpApi``) of every function."""
    return [(name, event.get("Properties", {}))
            for name, function in functions(template).items()
            for event in (function.get("Properties", {}).get("Events") or {}).values() if event.get("Type") == kind]


def api_routes(template: dict) -> list[ApiRoute]:
    """Every ``Api`` event of every function, with whether the authorizer guards it."""
    routes = []
    for name, event_properties in events(template, "Api"):
        authorizer = event_properties.get("Auth", {}).get("Authorizer")
        routes.append(
            ApiRoute(
                method=event_properties["Method"].upper(),
                path=event_properties["Path"],
                function=name,
                handler=template["Resources"][name]["Properties"]["Handler"],
                authorized=authorizer != "NONE",
                authorizer=authorizer if authorizer and authorizer != "NONE" else "",
            )
        )
    return routes


def authorizer_function(template: dict) -> tuple[str, str]:
    """The logical id and handler of the API's default Lambda authorizer."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        auth = resource.get("Properties", {}).get("Auth", {})
        declared = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer"), {})
        name = function_of_arn(declared.get("FunctionArn"))
        if name in functions(template):
            return name, functions(template)[name]["Properties"]["Handler"]
    raise LookupError("template.yaml declares no default Lambda authorizer")


def function_of_arn(value) -> str:
    """The logical id in ``!GetAtt Fn.Arn``, ``!Ref Fn.Alias`` or ``!Ref Fn``; "" for anything else."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"].split(".", 1)[0]
    return ""


def path_matches(template_path: str, path: str) -> bool:
    """Whether ``path`` fits an API path such as ``/users/{user_id}``."""
    expected, actual = template_path.strip("/").split("/"), path.strip("/").split("/")
    return len(expected) == len(actual) and all(
        want == got or (want.startswith("{") and want.endswith("}") and got)
        for want, got in zip(expected, actual, strict=True)
    )

"""Read ``template.yaml``: its functions, their API routes and the authorizer, and what its expressions are worth.

CloudFormation's short tags (``!Ref``, ``!GetAtt``, ``!Sub``...) load as their
long forms (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``...). :class:`Evaluator`
gives the value of an expression for given parameter values (the only evaluator
of the tools: the checks, the local gateways of both API flavours, deploy):
Ref, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Select, Fn::Split,
Fn::Join, Fn::Sub and Condition, with the pseudo parameters of :data:`PSEUDO`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
# The pseudo parameters, as a stack named bare-api in us-east-1 would see them.
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "bare-api",
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


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
    preferences = [
        resource.get("Properties", {}).get("DeploymentPreference") or {}
        for resource in all_functions(template).values()
    ]
    named = {
        hook.get("Ref")
        for preference in preferences
        for hook in (preference.get("Hooks") or {}).values()
        if isinstance(hook, dict)
    }
    return {name: resource for name, resource in all_functions(template).items() if name in named}


def events(template: dict, kind: str) -> list[tuple[str, dict]]:
    """``(function, event properties)`` for every event of type ``kind`` (``Api``, ``HttpApi``) of every function."""
    return [
        (name, event.get("Properties", {}))
        for name, function in functions(template).items()
        for event in (function.get("Properties", {}).get("Events") or {}).values()
        if event.get("Type") == kind
    ]


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


class Unevaluable(ValueError):
    """The value uses an intrinsic this evaluator does not know."""


class Evaluator:
    """Values of a template's expressions for one set of parameter values.

    A reference to a resource (Ref or GetAtt), or to a parameter without a value, evaluates to a placeholder
    such as ``<MeFunction>`` or ``<MeFunction.Arn>``, so strings stay comparable; with ``strict`` it raises
    Unevaluable instead (what a local run cannot know). Conditions are evaluated when first used.
    """

    def __init__(self, template: dict, parameters: dict[str, str], strict: bool = False) -> None:
        self.template = template
        self.parameters = {**PSEUDO, **parameters}
        self.strict = strict
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str) -> str:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if self.strict:
            raise Unevaluable(f"{name} has no value here")
        return f"<{name}>"

    def value(self, expression):
        """``expression`` with every intrinsic evaluated; Unevaluable for unknown ones."""
        if isinstance(expression, list):
            return [item for item in (self.value(each) for each in expression) if item is not NO_VALUE]
        if not isinstance(expression, dict):
            return expression
        if len(expression) != 1 or not next(iter(expression)).startswith(("Ref", "Fn::", "Condition")):
            evaluated = {key: self.value(item) for key, item in expression.items()}
            return {key: item for key, item in evaluated.items() if item is not NO_VALUE}
        ((function, argument),) = expression.items()
        return self._apply(function, argument)

    def _apply(self, function: str, argument):  # noqa: C901 -- one branch per intrinsic function: a dispatch table
        if function == "Ref":
            return self.ref(argument)
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::GetAtt":
            if self.strict:
                raise Unevaluable(f"Fn::GetAtt {argument} has no value here")
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            return f"<{parts[0]}.{parts[1]}>"
        if function == "Fn::If":
            name, when_true, when_false = argument
            return self.value(when_true if self.condition(name) else when_false)
        if function == "Fn::Equals":
            left, right = (self.value(item) for item in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self.value(argument[0])
        if function == "Fn::And":
            return all(self.value(item) for item in argument)
        if function == "Fn::Or":
            return any(self.value(item) for item in argument)
        if function == "Fn::Select":
            index, items = argument
            return self.value(items)[int(self.value(index))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.value(text)).split(separator)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(str(item) for item in self.value(items))
        if function == "Fn::Sub":
            return self.sub(argument)
        raise Unevaluable(f"{function} is not supported by the template checks")

    def sub(self, argument) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.value(expression) for name, expression in variables.items()}

        def replace(found: re.Match) -> str:
            name = found.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not self.strict:
                return f"<{name}>"
            if "." in name:
                raise Unevaluable(f"${{{name}}} has no value here")
            return str(self.ref(name))

        return SUB_VARIABLE.sub(replace, text).replace("${!", "${")  # ${!Literal} is written as ${Literal}

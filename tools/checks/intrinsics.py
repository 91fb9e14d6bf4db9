"""Evaluate the CloudFormation intrinsics a check needs, for given parameter values.

Only what this project's templates use: Ref, Fn::If, Fn::Equals, Fn::Not,
Fn::And, Fn::Or, Fn::Select, Fn::Split, Fn::Join, Fn::Sub and Condition.
A reference to a resource (Ref or GetAtt) evaluates to a placeholder such as
``<MeFunction>`` or ``<MeFunction.Arn>``, so strings stay comparable.
"""

from __future__ import annotations

import re

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "bare-api-check",
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class Unevaluable(ValueError):
    """The value uses an intrinsic this evaluator does not know."""


class Evaluator:
    """Values of a template's expressions for one set of parameter values."""

    def __init__(self, template: dict, parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = {**PSEUDO, **parameters}
        self.conditions: dict[str, bool] = {}
        for name, expression in template.get("Conditions", {}).items():
            self.conditions[name] = bool(self.value(expression))

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str) -> str:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
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
        (function, argument), = expression.items()
        return self._apply(function, argument)

    def _apply(self, function: str, argument):  # noqa: C901 -- one branch per intrinsic function: a dispatch table
        if function == "Ref":
            return self.ref(argument)
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::GetAtt":
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
            if "." in name:
                return f"<{name}>"
            return str(self.ref(name))

        return SUB_VARIABLE.sub(replace, text)

"""E9002: a REST API stage name may hold only letters, digits and underscores."""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

PATTERN = "^[A-Za-z0-9_]+$"  # what API Gateway accepts for a REST stage name
VALID = re.compile(PATTERN)
STAGE_PROPERTIES = {
    "AWS::Serverless::Api": "StageName",
    "AWS::ApiGateway::Stage": "StageName",
    "AWS::ApiGateway::Deployment": "StageName",
}


class RestStageName(CloudFormationLintRule):
    id = "E9002"
    shortdesc = f"REST API stage name must match {PATTERN}"
    description = (
        "API Gateway refuses a REST stage named '$default' (an HTTP API name) or 'my-stage' at deploy "
        "time: 'Stage name only allows a-zA-Z0-9_'."
    )
    tags = ["apigateway", "stage", "project"]

    def match(self, cfn):
        matches = []
        parameters = cfn.template.get("Parameters", {})
        for name, resource in cfn.template.get("Resources", {}).items():
            key = STAGE_PROPERTIES.get(resource.get("Type"))
            value = resource.get("Properties", {}).get(key) if key else None
            if value is None:
                continue
            path = ["Resources", name, "Properties", key]
            if isinstance(value, str) and not VALID.match(value):
                matches.append(
                    RuleMatch(
                        path,
                        f"stage name {value!r} is refused by API Gateway (letters, digits and "
                        f"underscores only): use a name such as 'dev' or 'prod'",
                    )
                )
            elif isinstance(value, dict) and value.get("Ref") in parameters:
                matches += self._check_parameter(value["Ref"], parameters[value["Ref"]])
        return matches

    def _check_parameter(self, name, declaration):
        path = ["Parameters", name]
        default = declaration.get("Default")
        if default is not None and not VALID.match(str(default)):
            return [
                RuleMatch(
                    [*path, "Default"],
                    f"stage name default {default!r} is refused by API Gateway "
                    f"(letters, digits and underscores only): use 'dev' or 'prod'",
                )
            ]
        allowed = declaration.get("AllowedValues")
        if allowed and all(VALID.match(str(item)) for item in allowed):
            return []
        if declaration.get("AllowedPattern") != PATTERN:
            return [
                RuleMatch(
                    path,
                    f"parameter {name} names the stage but accepts names API Gateway refuses: "
                    f'add AllowedPattern: "{PATTERN}"',
                )
            ]
        return []

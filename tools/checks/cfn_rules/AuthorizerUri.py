"""E9001: a Lambda authorizer's URI must end with /invocations."""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from tools.checks.cfn_rules._common import rendered, walk

URI = re.compile(
    r"^arn:(<AWS::Partition>|aws[a-z-]*):apigateway:(<AWS::Region>|[a-z0-9-]+):lambda:"
    r"path/2015-03-31/functions/.+/invocations$"
)
FIX = (
    "the URI must be arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>"
    "/invocations: end it with /invocations, or declare the authorizer under the API's Auth.Authorizers "
    "with FunctionArn and let SAM write the URI"
)


class AuthorizerUri(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Lambda authorizer URI must end with /invocations"
    description = "API Gateway accepts a malformed authorizer URI at deploy time and answers 500 to every call."
    tags = ["apigateway", "authorizer", "project"]

    def match(self, cfn):
        matches = []
        for name, resource in cfn.template.get("Resources", {}).items():
            properties = resource.get("Properties", {}) if isinstance(resource, dict) else {}
            lambda_authorizer = str(properties.get("Type", "TOKEN")).upper() != "COGNITO_USER_POOLS"
            if (
                resource.get("Type") == "AWS::ApiGateway::Authorizer"
                and "AuthorizerUri" in properties
                and lambda_authorizer
            ):
                matches += self._check(properties["AuthorizerUri"], ["Resources", name, "Properties", "AuthorizerUri"])
            for key in ("Body", "DefinitionBody"):
                for path, entry, value in walk(properties.get(key, {}), ["Resources", name, "Properties", key]):
                    if (
                        entry == "x-amazon-apigateway-authorizer"
                        and isinstance(value, dict)
                        and "authorizerUri" in value
                    ):
                        matches += self._check(value["authorizerUri"], [*path, entry, "authorizerUri"])
        return matches

    def _check(self, value, path):
        text = rendered(value)
        if text is None or URI.match(text):
            return []
        return [RuleMatch(path, f"authorizer URI {text!r} is malformed: {FIX}")]

"""E9004: read the authorizer's context where API Gateway puts it for the authorizer in use."""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from tools.checks.cfn_rules._common import strings

REFERENCE = re.compile(r"\$?context\.authorizer\.(claims|lambda|jwt)\.")
WHERE = {
    "claims": "Cognito user pool authorizers (and, in an HTTP API's access log, JWT authorizers)",
    "lambda": "HTTP API Lambda authorizers",
    "jwt": "HTTP API JWT authorizers",
}


class AuthorizerContext(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "Authorizer context read from where the authorizer puts it"
    description = (
        "A REST API Lambda authorizer's context is at $context.authorizer.<key> (principalId, and each "
        "key of its context); claims.*, lambda.* and jwt.* exist only for other authorizer kinds, so "
        "reading them gives empty values, never an error."
    )
    tags = ["apigateway", "authorizer", "project"]

    def match(self, cfn):
        kinds = self._authorizer_kinds(cfn.template.get("Resources", {}))
        matches = []
        for path, text in strings(cfn.template.get("Resources", {}), ["Resources"]):
            for found in REFERENCE.finditer(text):
                shape = found.group(1)
                if shape == "claims" and kinds & {"cognito", "http"}:  # an HTTP API logs a JWT's claims there
                    continue
                if shape in ("lambda", "jwt") and "http" in kinds:
                    continue
                matches.append(
                    RuleMatch(
                        path,
                        f"{found.group(0)}... is filled only by {WHERE[shape]}, but this "
                        f"API's authorizer is a Lambda authorizer: read "
                        f"$context.authorizer.principalId or $context.authorizer.<key>",
                    )
                )
        return matches

    @staticmethod
    def _authorizer_kinds(resources):
        kinds = set()
        for resource in resources.values():
            kind, properties = resource.get("Type"), resource.get("Properties", {})
            if kind == "AWS::Serverless::Api":
                for authorizer in properties.get("Auth", {}).get("Authorizers", {}).values():
                    kinds.add("cognito" if "UserPoolArn" in authorizer else "lambda")
            elif kind == "AWS::ApiGateway::Authorizer":
                kinds.add("cognito" if properties.get("Type") == "COGNITO_USER_POOLS" else "lambda")
            elif kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
                kinds.add("http")
        return kinds

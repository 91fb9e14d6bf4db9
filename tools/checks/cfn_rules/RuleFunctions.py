"""E9005: inside Rules, only Ref and the rule functions."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from tools.checks.cfn_rules._common import walk

# CloudFormation's "Rule functions" page: the only functions a rule's condition or assertions may use.
ALLOWED = (
    "Ref",
    "Fn::And",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::Equals",
    "Fn::Not",
    "Fn::Or",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
)


class RuleFunctions(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "Rules use only Ref and the rule functions"
    description = (
        "CloudFormation refuses a template whose Rules use any other function (Fn::Join, Fn::Sub, "
        "Fn::If, Condition...) before it creates anything; cfn-lint accepts them."
    )
    tags = ["rules", "parameters", "project"]

    def match(self, cfn):
        matches = []
        for path, key, _ in walk(cfn.template.get("Rules", {}), ["Rules"]):
            if isinstance(key, str) and (key.startswith("Fn::") or key == "Condition") and key not in ALLOWED:
                matches.append(
                    RuleMatch(
                        [*path, key],
                        f"{key} is not allowed in Rules (only {', '.join(ALLOWED)}): "
                        f"rewrite the assertion with those, for example "
                        f"!Not [!And [!Equals [!Ref A, ''], !Equals [!Ref B, '']]] "
                        f"for 'A or B is set'",
                    )
                )
        return matches

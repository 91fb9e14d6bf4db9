"""Assertions on ``tools/bootstrap.yaml``: the artifact bucket, least privilege per environment, the logging role.

Each check returns a list of problems, each with its fix. Actions are checked
against cfn-lint's copy of IAM's table of actions (``Policies.json``), and the
CloudFormation roles against the permissions CloudFormation's own resource
handlers list for every resource type of the app stack (cfn-lint's resource
schemas), so that naming actions instead of ``service:*`` cannot break a deploy.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from pathlib import Path

from tools.checks import sam
from tools.checks.cfn_rules._common import rendered

ROOT = Path(__file__).resolve().parent.parent.parent
BOOTSTRAP = ROOT / "tools" / "bootstrap.yaml"
ENVIRONMENTS = ("dev", "prod")
OIDC_SUB = "token.actions.githubusercontent.com:sub"
MINIMUM_NONCURRENT_DAYS = 30
# What a role of the app stack must never do, and what may create or change one only with the boundary.
NEVER = {"iam:DeleteRolePermissionsBoundary"}
NEEDS_BOUNDARY = {"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
                  "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary"}
# Permissions CloudFormation's handlers list for the app stack's resource types that its template never needs.
NOT_NEEDED = {
    **dict.fromkeys(["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                     "ec2:DescribeNetworkInterfaces"], "no function runs in a VPC"),
    **dict.fromkeys(["elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets"], "no file systems"),
    **dict.fromkeys(["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                     "logs:AssociateKmsKey", "logs:DisassociateKmsKey"],
                    "functions and log groups use AWS managed encryption keys"),
    **dict.fromkeys(["lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
                     "lambda:DeleteFunctionCodeSigningConfig"], "no code signing"),
    "lambda:GetLayerVersion": "no layers",
    **dict.fromkeys(["lambda:PassCapacityProvider", "lambda:PutFunctionScalingConfig",
                     "lambda:AssociateRuntimeAlias"], "no capacity providers"),
    **dict.fromkeys(["lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig"],
                    "no provisioned concurrency"),
    **dict.fromkeys(["logs:PutDataProtectionPolicy", "logs:DeleteDataProtectionPolicy", "logs:CreateLogDelivery",
                     "s3:REST.PUT.OBJECT", "firehose:TagDeliveryStream", "logs:PutResourcePolicy",
                     "logs:DeleteResourcePolicy", "logs:PutIndexPolicy", "logs:DeleteIndexPolicy",
                     "logs:PutBearerTokenAuthentication", "logs:PutLogGroupDeletionProtection"],
                    "log groups have retention only"),
    "codedeploy:RegisterOnPremisesInstance": "Lambda deployments have no instances",
    "iam:DeleteRolePermissionsBoundary": "a role of the app stack keeps its boundary",
}


def statements(resource: dict) -> list[dict]:
    """The statements of a role's inline policies, or of a managed policy."""
    properties = resource.get("Properties", {})
    documents = [policy.get("PolicyDocument", {}) for policy in properties.get("Policies", [])]
    if "PolicyDocument" in properties:
        documents.append(properties["PolicyDocument"])
    return [statement for document in documents for statement in document.get("Statement", [])]


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def allowed_actions(statement: dict) -> list[str]:
    return [str(action) for action in listed(statement.get("Action", []))] if statement.get("Effect") == "Allow" \
        else []


def policies(template: dict) -> dict[str, dict]:
    """Every role and managed policy, by logical id."""
    return {name: resource for name, resource in template.get("Resources", {}).items()
            if resource.get("Type") in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")}


@cache
def iam_actions() -> dict[str, list[str]]:
    """``{"service:action" (lower case): [resource types]}`` from cfn-lint's copy of IAM's action table."""
    import cfnlint.data.AdditionalSpecs
    from cfnlint.helpers import load_resource

    table = load_resource(cfnlint.data.AdditionalSpecs, "Policies.json")
    return {f"{service}:{action}".lower(): entry.get("Resources", [])
            for service, details in table.items() for action, entry in details.get("Actions", {}).items()}


def check_artifact_bucket(template: dict) -> list[str]:
    """Versioned, current artifacts kept, old versions and abandoned uploads cleaned up."""
    found = []
    for name, bucket in template.get("Resources", {}).items():
        if bucket.get("Type") != "AWS::S3::Bucket":
            continue
        properties = bucket.get("Properties", {})
        if properties.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            found.append(f"{name} is not versioned: set VersioningConfiguration: {{Status: Enabled}}, so that a "
                         f"rollback finds the artifacts the previous template points at")
        rules = [rule for rule in properties.get("LifecycleConfiguration", {}).get("Rules", [])
                 if rule.get("Status") == "Enabled"]
        for rule in rules:
            if {"ExpirationInDays", "ExpirationDate"} & set(rule):
                found.append(f"{name}'s lifecycle rule {rule.get('Id', '?')} expires current artifacts: the SAM CLI "
                             f"does not upload an unchanged zip again, so a rollback can point at a deleted object "
                             f"(UPDATE_ROLLBACK_FAILED); expire only noncurrent versions (NoncurrentVersionExpiration)")
        days = [rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays",
                                                                rule.get("NoncurrentVersionExpirationInDays"))
                for rule in rules]
        if not any(isinstance(day, int) and day >= MINIMUM_NONCURRENT_DAYS for day in days):
            found.append(f"{name} never expires noncurrent versions, or within {MINIMUM_NONCURRENT_DAYS} days: add "
                         f"NoncurrentVersionExpiration: {{NoncurrentDays: 365}} to a lifecycle rule")
        if not any("AbortIncompleteMultipartUpload" in rule for rule in rules):
            found.append(f"{name} keeps the parts of interrupted uploads forever: add AbortIncompleteMultipartUpload: "
                         f"{{DaysAfterInitiation: 7}} to a lifecycle rule")
    return found


def check_actions(template: dict) -> list[str]:
    """Named actions that IAM defines, each with a Resource it supports."""
    found = []
    known = iam_actions()
    for name, policy in policies(template).items():
        for statement in statements(policy):
            resources = [rendered(resource) for resource in listed(statement.get("Resource", []))]
            for action in allowed_actions(statement):
                if "*" in action:
                    found.append(f"{name} allows {action!r}: name the actions it needs")
                elif action.lower() not in known:
                    found.append(f"{name} allows {action!r}, which IAM does not define: fix the name")
                elif not known[action.lower()] and resources != ["*"]:
                    found.append(f"{name} allows {action} on {', '.join(map(str, resources))}, but {action} has no "
                                 f"resource-level permissions, so IAM never matches it: give it Resource: '*' in a "
                                 f"statement of its own")
                if action in NEVER:
                    found.append(f"{name} allows {action}: a role of the app stack must keep its boundary")
    return found


def check_conditions(template: dict) -> list[str]:
    """Roles passed only to named services, and created or changed only with a permissions boundary."""
    found = []
    for name, policy in policies(template).items():
        for statement in statements(policy):
            conditions = statement.get("Condition", {})
            if "iam:PassRole" in allowed_actions(statement) and \
                    not conditions.get("StringEquals", {}).get("iam:PassedToService"):
                found.append(f"{name} may pass roles to any service: add Condition: {{StringEquals: "
                             f"{{iam:PassedToService: <service>.amazonaws.com}}}}")
            bounded = _names_policy(template, conditions.get("StringEquals", {}).get("iam:PermissionsBoundary"))
            unbounded = sorted(set(allowed_actions(statement)) & NEEDS_BOUNDARY)
            if unbounded and not bounded:
                found.append(f"{name} may {', '.join(unbounded)} without a permissions boundary: add Condition: "
                             f"{{StringEquals: {{iam:PermissionsBoundary: !Ref <the boundary policy>}}}}")
    return found


def _names_policy(template: dict, value) -> bool:
    reference = value.get("Ref") if isinstance(value, dict) else None
    return template.get("Resources", {}).get(reference, {}).get("Type") == "AWS::IAM::ManagedPolicy"


def role_environments(template: dict) -> tuple[dict[str, str], list[str]]:
    """``{role or policy: environment}``, from each deploy role's trust; problems with that trust.

    A deploy role's environment is the one its OpenID Connect subject names; the
    CloudFormation role it may pass, and the boundary that role must give, share it.
    """
    environments, found = {}, []
    for name, policy in policies(template).items():
        if not _is_deploy_role(policy):
            continue
        subjects = oidc_subjects(policy)
        exact = subjects.get("StringEquals", [])
        matched = re.fullmatch(r"repo:<GitHubRepository>:environment:(\w+)", exact[0]) if len(exact) == 1 else None
        if set(subjects) != {"StringEquals"} or matched is None or matched.group(1) not in ENVIRONMENTS:
            trusted = sorted(subject for values in subjects.values() for subject in values) or "any workflow"
            found.append(f"{name} is trusted by {trusted}: trust exactly one GitHub environment (StringEquals "
                         f"repo:${{GitHubRepository}}:environment:<dev|prod>), with a deploy role per environment")
            continue
        environment = matched.group(1)
        environments[name] = environment
        for passed in _passed_roles(policy):
            environments[passed] = environment
            for statement in statements(policies(template).get(passed, {})):
                boundary = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PermissionsBoundary")
                if _names_policy(template, boundary):
                    environments[boundary["Ref"]] = environment
    for environment in ENVIRONMENTS:
        deploy_roles = [name for name, value in environments.items()
                        if value == environment and _is_deploy_role(policies(template)[name])]
        if len(deploy_roles) != 1:
            found.append(f"{len(deploy_roles)} deploy roles are trusted by the {environment} environment: give it "
                         f"exactly one, trusted only by repo:${{GitHubRepository}}:environment:{environment}")
    return environments, found


def oidc_subjects(policy: dict) -> dict[str, list[str]]:
    """``{condition operator: [subjects]}`` of the OpenID Connect subjects a role trusts."""
    found = {}
    for statement in _trust(policy):
        for operator, keys in statement.get("Condition", {}).items():
            if OIDC_SUB in keys:
                found.setdefault(operator, []).extend(str(rendered(subject)) for subject in listed(keys[OIDC_SUB]))
    return found


def _trust(policy: dict) -> list[dict]:
    return policy.get("Properties", {}).get("AssumeRolePolicyDocument", {}).get("Statement", [])


def _is_deploy_role(policy: dict) -> bool:
    return any("Federated" in statement.get("Principal", {}) for statement in _trust(policy))


def _passed_roles(policy: dict) -> list[str]:
    return [str(rendered(resource)).strip("<>").removesuffix(".Arn") for statement in statements(policy)
            if "iam:PassRole" in allowed_actions(statement) for resource in listed(statement.get("Resource", []))]


def check_environments(template: dict) -> list[str]:
    """Each environment's roles reach only its own stack, artifact prefix and secrets."""
    environments, found = role_environments(template)
    for name, policy in policies(template).items():
        environment = environments.get(name)
        texts = [str(rendered(value)) for statement in statements(policy)
                 for value in [*listed(statement.get("Resource", [])),
                               *_condition_values(statement.get("Condition", {}))]]
        if environment is None:
            if any("<StackPrefix>" in text for text in texts):
                found.append(f"{name} reaches the app stacks but belongs to no environment: let exactly one "
                             f"environment's deploy role pass it")
            continue
        own = re.compile(rf"<StackPrefix>(?:-{environment}(?=$|[-/:*])|/{environment}/)")
        for text in texts:
            if text.count("<StackPrefix>") != len(own.findall(text)):
                found.append(f"{name} ({environment}) reaches {text}: scope it to the {environment} stack "
                             f"(<StackPrefix>-{environment}), its artifact prefix and its secrets "
                             f"(<StackPrefix>/{environment}/*)")
    return found


def _condition_values(conditions: dict) -> list:
    return [value for keys in conditions.values() for values in keys.values() for value in listed(values)]


def check_names(template: dict) -> list[str]:
    """The stack names and artifact prefixes in samconfig.toml, and the boundary names, are what the roles expect."""
    found = []
    prefix = template.get("Parameters", {}).get("StackPrefix", {}).get("Default")
    environments, _ = role_environments(template)
    for environment, settings in sorted(sam.environments().items()):
        stack = f"{prefix}-{environment}"
        for key in ("stack_name", "s3_prefix"):
            if settings.get(key) != stack:
                found.append(f"samconfig.toml [{environment}] has {key} {settings.get(key)!r}, but the bootstrap's "
                             f"{environment} roles reach only {stack!r}: set {key} = \"{stack}\"")
        for name, policy in policies(template).items():
            declared = rendered(policy.get("Properties", {}).get("ManagedPolicyName"))
            expected = sam.boundary_policy_name(f"<StackPrefix>-{environment}")
            if environments.get(name) == environment and policy["Type"] == "AWS::IAM::ManagedPolicy" \
                    and declared != expected:
                found.append(f"{name} is named {declared!r}, but make deploy gives the {environment} stack the "
                             f"boundary {expected!r}: set ManagedPolicyName to that")
    return found


def check_handlers(template: dict, app: dict) -> list[str]:
    """Each CloudFormation role may do what CloudFormation's handlers need for every resource type of ``app``."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    needed = set()
    for kind in sorted({resource["Type"] for resource in app.get("Resources", {}).values()}):
        handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema.get("handlers", {})
        for operation in ("create", "read", "update", "delete"):
            needed |= set(handlers.get(operation, {}).get("permissions", []))
    found = []
    for name, policy in policies(template).items():
        if not any("cloudformation.amazonaws.com" in listed(statement.get("Principal", {}).get("Service", []))
                   for statement in _trust(policy)):
            continue
        granted = [action.lower() for statement in statements(policy) for action in allowed_actions(statement)]
        missing = sorted(action for action in needed - set(NOT_NEEDED)
                         if not any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in granted))
        if missing:
            found.append(f"{name} cannot do what CloudFormation needs for the app stack's resources: allow "
                         f"{', '.join(missing)} (or list them in NOT_NEEDED in tools/checks/bootstrap.py with why)")
    return found


def check_logging_role(template: dict) -> list[str]:
    """API Gateway's account-wide logging role: opt-in, and kept when the bootstrap stack is deleted."""
    found = []
    parameter = template.get("Parameters", {}).get("ConfigureApiGatewayLogging")
    if parameter is not None and str(parameter.get("Default")) != "false":
        found.append("ConfigureApiGatewayLogging defaults to true, which replaces the region's API Gateway logging "
                     "role for every API in the account: default it to false (README says when to turn it on)")
    resources = template.get("Resources", {})
    for account in (resource for resource in resources.values() if resource.get("Type") == "AWS::ApiGateway::Account"):
        role = str(rendered(account.get("Properties", {}).get("CloudWatchRoleArn"))).strip("<>").removesuffix(".Arn")
        attributes = resources.get(role, {})
        if attributes.get("DeletionPolicy") != "Retain" or attributes.get("UpdateReplacePolicy") != "Retain":
            found.append(f"{role} is deleted with the bootstrap stack, which leaves the region's API Gateway account "
                         f"setting pointing at a deleted role: set DeletionPolicy: Retain and UpdateReplacePolicy: "
                         f"Retain")
    return found


def check(template: dict, app: dict | None = None) -> list[str]:
    """Every problem of the bootstrap template; ``app`` is the app stack's transformed template."""
    found = (check_artifact_bucket(template) + check_actions(template) + check_conditions(template)
             + check_environments(template) + check_names(template) + check_logging_role(template))
    if app is not None:
        found += check_handlers(template, app)
    return list(dict.fromkeys(found))

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
NEEDS_BOUNDARY = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
}
# Permissions CloudFormation's handlers list for the app stack's resource types that its template never needs.
NOT_NEEDED = {
    **dict.fromkeys(
        ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeNetworkInterfaces"],
        "no function runs in a VPC",
    ),
    **dict.fromkeys(["elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets"], "no file systems"),
    **dict.fromkeys(
        [
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
        ],
        "functions and log groups use AWS managed encryption keys",
    ),
    **dict.fromkeys(
        [
            "lambda:GetCodeSigningConfig",
            "lambda:PutFunctionCodeSigningConfig",
            "lambda:DeleteFunctionCodeSigningConfig",
        ],
        "no code signing",
    ),
    "lambda:GetLayerVersion": "no layers",
    **dict.fromkeys(
        ["lambda:PassCapacityProvider", "lambda:PutFunctionScalingConfig", "lambda:AssociateRuntimeAlias"],
        "no capacity providers",
    ),
    **dict.fromkeys(
        ["lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig"],
        "no provisioned concurrency",
    ),
    **dict.fromkeys(
        [
            "logs:PutDataProtectionPolicy",
            "logs:DeleteDataProtectionPolicy",
            "s3:REST.PUT.OBJECT",
            "firehose:TagDeliveryStream",
            "logs:DeleteResourcePolicy",
            "logs:PutIndexPolicy",
            "logs:DeleteIndexPolicy",
            "logs:PutBearerTokenAuthentication",
            "logs:PutLogGroupDeletionProtection",
        ],
        "log groups have retention only",
    ),
    "codedeploy:RegisterOnPremisesInstance": "Lambda deployments have no instances",
    "iam:DeleteRolePermissionsBoundary": "a role of the app stack keeps its boundary",
    **dict.fromkeys(
        ["apigateway:TagResource", "apigateway:UntagResource"],
        "no IAM actions: IAM authorizes API Gateway's tags as PUT and DELETE on /tags/*",
    ),
}
# Permissions a resource needs that its handlers do not list, on "*": an HTTP API stage's access logs are a log
# delivery ("Configure logging for HTTP APIs", API Gateway developer guide, lists exactly these).
LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:DescribeResourcePolicies",
)
# What the bootstrap's ${...} stand for when its ARNs are compared with the app stack's (any region, any account).
EXAMPLE = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "StackPrefix": "bare-api",
    "ArtifactBucket.Arn": "arn:aws:s3:::bare-api-artifacts",
}
# The ARN CloudFormation acts on for each resource type of the app stack, by the type's prefix; {name} is the
# resource's name: its name property when set, else <stack>-<logical id>-<suffix> as CloudFormation names it.
RESOURCE_ARNS = {
    "AWS::ApiGateway::": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5",
    "AWS::ApiGatewayV2::": "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5",
    "AWS::Lambda::": "arn:aws:lambda:us-east-1:123456789012:function:{name}",
    "AWS::IAM::Role": "arn:aws:iam::123456789012:role/{name}",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
    "AWS::CloudWatch::Dashboard": "arn:aws:cloudwatch::123456789012:dashboard/{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:us-east-1:123456789012:log-group:{name}",
    "AWS::CodeDeploy::Application": "arn:aws:codedeploy:us-east-1:123456789012:application:{name}",
    "AWS::CodeDeploy::DeploymentGroup": "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:{stack}-"
    "ServerlessDeploymentApplication-A1B2C3/{name}",
}
NAME_PROPERTIES = {"AWS::CloudWatch::Dashboard": "DashboardName", "AWS::Logs::LogGroup": "LogGroupName"}
SERVICES = {"ApiGatewayV2": "apigateway", "CloudWatch": "cloudwatch"}


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
    return [str(action) for action in listed(statement.get("Action", []))] if statement.get("Effect") == "Allow" else []


def policies(template: dict) -> dict[str, dict]:
    """Every role and managed policy, by logical id."""
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
    }


@cache
def iam_actions() -> dict[str, list[str]]:
    """``{"service:action" (lower case): [resource types]}`` from cfn-lint's copy of IAM's action table."""
    import cfnlint.data.AdditionalSpecs
    from cfnlint.helpers import load_resource

    table = load_resource(cfnlint.data.AdditionalSpecs, "Policies.json")
    return {
        f"{service}:{action}".lower(): entry.get("Resources", [])
        for service, details in table.items()
        for action, entry in details.get("Actions", {}).items()
    }


def check_artifact_bucket(template: dict) -> list[str]:
    """Versioned, current artifacts kept, old versions and abandoned uploads cleaned up."""
    found = []
    for name, bucket in template.get("Resources", {}).items():
        if bucket.get("Type") != "AWS::S3::Bucket":
            continue
        properties = bucket.get("Properties", {})
        if properties.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            found.append(
                f"{name} is not versioned: set VersioningConfiguration: {{Status: Enabled}}, so that a "
                f"rollback finds the artifacts the previous template points at"
            )
        rules = [
            rule
            for rule in properties.get("LifecycleConfiguration", {}).get("Rules", [])
            if rule.get("Status") == "Enabled"
        ]
        for rule in rules:
            if {"ExpirationInDays", "ExpirationDate"} & set(rule):
                found.append(
                    f"{name}'s lifecycle rule {rule.get('Id', '?')} expires current artifacts: the SAM CLI "
                    f"does not upload an unchanged zip again, so a rollback can point at a deleted object "
                    f"(UPDATE_ROLLBACK_FAILED); expire only noncurrent versions (NoncurrentVersionExpiration)"
                )
        days = [
            rule.get("NoncurrentVersionExpiration", {}).get(
                "NoncurrentDays", rule.get("NoncurrentVersionExpirationInDays")
            )
            for rule in rules
        ]
        if not any(isinstance(day, int) and day >= MINIMUM_NONCURRENT_DAYS for day in days):
            found.append(
                f"{name} never expires noncurrent versions, or within {MINIMUM_NONCURRENT_DAYS} days: add "
                f"NoncurrentVersionExpiration: {{NoncurrentDays: 365}} to a lifecycle rule"
            )
        if not any("AbortIncompleteMultipartUpload" in rule for rule in rules):
            found.append(
                f"{name} keeps the parts of interrupted uploads forever: add AbortIncompleteMultipartUpload: "
                f"{{DaysAfterInitiation: 7}} to a lifecycle rule"
            )
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
                    found.append(
                        f"{name} allows {action} on {', '.join(map(str, resources))}, but {action} has no "
                        f"resource-level permissions, so IAM never matches it: give it Resource: '*' in a "
                        f"statement of its own"
                    )
                if action in NEVER:
                    found.append(f"{name} allows {action}: a role of the app stack must keep its boundary")
    return found


def check_conditions(template: dict) -> list[str]:
    """Roles passed only to named services, and created or changed only with a permissions boundary."""
    found = []
    for name, policy in policies(template).items():
        for statement in statements(policy):
            conditions = statement.get("Condition", {})
            if "iam:PassRole" in allowed_actions(statement) and not conditions.get("StringEquals", {}).get(
                "iam:PassedToService"
            ):
                found.append(
                    f"{name} may pass roles to any service: add Condition: {{StringEquals: "
                    f"{{iam:PassedToService: <service>.amazonaws.com}}}}"
                )
            bounded = _names_policy(template, conditions.get("StringEquals", {}).get("iam:PermissionsBoundary"))
            unbounded = sorted(set(allowed_actions(statement)) & NEEDS_BOUNDARY)
            if unbounded and not bounded:
                found.append(
                    f"{name} may {', '.join(unbounded)} without a permissions boundary: add Condition: "
                    f"{{StringEquals: {{iam:PermissionsBoundary: !Ref <the boundary policy>}}}}"
                )
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
            found.append(
                f"{name} is trusted by {trusted}: trust exactly one GitHub environment (StringEquals "
                f"repo:${{GitHubRepository}}:environment:<dev|prod>), with a deploy role per environment"
            )
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
        deploy_roles = [
            name
            for name, value in environments.items()
            if value == environment and _is_deploy_role(policies(template)[name])
        ]
        if len(deploy_roles) != 1:
            found.append(
                f"{len(deploy_roles)} deploy roles are trusted by the {environment} environment: give it "
                f"exactly one, trusted only by repo:${{GitHubRepository}}:environment:{environment}"
            )
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
    return [
        str(rendered(resource)).strip("<>").removesuffix(".Arn")
        for statement in statements(policy)
        if "iam:PassRole" in allowed_actions(statement)
        for resource in listed(statement.get("Resource", []))
    ]


def check_environments(template: dict) -> list[str]:
    """Each environment's roles reach only its own stack, artifact prefix and secrets."""
    environments, found = role_environments(template)
    for name, policy in policies(template).items():
        environment = environments.get(name)
        texts = [
            str(rendered(value))
            for statement in statements(policy)
            for value in [*listed(statement.get("Resource", [])), *_condition_values(statement.get("Condition", {}))]
        ]
        if environment is None:
            if any("<StackPrefix>" in text for text in texts):
                found.append(
                    f"{name} reaches the app stacks but belongs to no environment: let exactly one "
                    f"environment's deploy role pass it"
                )
            continue
        own = re.compile(rf"<StackPrefix>(?:-{environment}(?=$|[-/:*])|/{environment}/)")
        for text in texts:
            if text.count("<StackPrefix>") != len(own.findall(text)):
                found.append(
                    f"{name} ({environment}) reaches {text}: scope it to the {environment} stack "
                    f"(<StackPrefix>-{environment}), its artifact prefix and its secrets "
                    f"(<StackPrefix>/{environment}/*)"
                )
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
                found.append(
                    f"samconfig.toml [{environment}] has {key} {settings.get(key)!r}, but the bootstrap's "
                    f'{environment} roles reach only {stack!r}: set {key} = "{stack}"'
                )
        for name, policy in policies(template).items():
            declared = rendered(policy.get("Properties", {}).get("ManagedPolicyName"))
            expected = sam.boundary_policy_name(f"<StackPrefix>-{environment}", "<AWS::Region>")
            if (
                environments.get(name) == environment
                and policy["Type"] == "AWS::IAM::ManagedPolicy"
                and declared != expected
            ):
                found.append(
                    f"{name} is named {declared!r}, but make deploy gives the {environment} stack the "
                    f"boundary {expected!r}: set ManagedPolicyName to that"
                )
    return found


@cache
def handler_permissions(kind: str) -> frozenset[str]:
    """The permissions CloudFormation's create, read, update and delete handlers of ``kind`` list."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema.get("handlers", {})
    return frozenset(
        permission
        for operation in ("create", "read", "update", "delete")
        for permission in handlers.get(operation, {}).get("permissions", [])
    )


def cloudformation_roles(template: dict) -> dict[str, dict]:
    """The roles only CloudFormation may assume, by logical id."""
    return {
        name: policy
        for name, policy in policies(template).items()
        if any(
            "cloudformation.amazonaws.com" in listed(statement.get("Principal", {}).get("Service", []))
            for statement in _trust(policy)
        )
    }


def check_handlers(template: dict, app: dict) -> list[str]:
    """Each CloudFormation role may do what CloudFormation's handlers need for every resource type of ``app``."""
    needed = set()
    for kind in sorted({resource["Type"] for resource in app.get("Resources", {}).values()}):
        needed |= handler_permissions(kind)
    found = []
    for name, policy in cloudformation_roles(template).items():
        granted = [action.lower() for statement in statements(policy) for action in allowed_actions(statement)]
        missing = sorted(
            action
            for action in needed - set(NOT_NEEDED)
            if not any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in granted)
        )
        if missing:
            found.append(
                f"{name} cannot do what CloudFormation needs for the app stack's resources: allow "
                f"{', '.join(missing)} (or list them in NOT_NEEDED in tools/checks/bootstrap.py with why)"
            )
    return found


def resource_arn(logical_id: str, resource: dict, stack: str) -> str | None:
    """The ARN CloudFormation acts on for one resource of the stack ``stack``; None for a type not in RESOURCE_ARNS."""
    kind = resource.get("Type", "")
    pattern = next((arn for prefix, arn in RESOURCE_ARNS.items() if kind.startswith(prefix)), None)
    if pattern is None:
        return None
    named = rendered(resource.get("Properties", {}).get(NAME_PROPERTIES.get(kind, ""), 0))
    name = (named or f"{stack}-{logical_id}-A1B2C3").replace("<AWS::StackName>", stack)
    return pattern.format(name=name.replace("<AWS::Region>", EXAMPLE["AWS::Region"]), stack=stack)


def needed_permissions(app: dict, stack: str) -> list[tuple[str, str, str]]:
    """``(resource, action, ARN)`` for each permission of its own service that each resource of ``app`` needs.

    An ARN of ``*`` stands for an action IAM grants only on ``"*"``; a resource of
    a type with no known ARN is reported with ``?`` as its ARN.
    """
    needed = []
    for logical_id, resource in app.get("Resources", {}).items():
        kind = resource.get("Type", "")
        service = kind.split("::")[1] if kind.count("::") == 2 else ""
        prefix = SERVICES.get(service, service.lower())
        arn = resource_arn(logical_id, resource, stack) or "?"
        needed += [
            (logical_id, action, arn)
            for action in sorted(handler_permissions(kind))
            if action.split(":")[0].lower() == prefix and action not in NOT_NEEDED
        ]
        if kind == "AWS::ApiGatewayV2::Stage" and "AccessLogSettings" in resource.get("Properties", {}):
            needed += [(logical_id, action, "*") for action in LOG_DELIVERY]
    return needed


def grants(policy: dict, action: str, arn: str) -> bool:
    """Whether an Allow statement of ``policy`` names ``action`` (or a pattern of it) on ``arn``."""
    for statement in statements(policy):
        if not any(fnmatch.fnmatchcase(action.lower(), granted.lower()) for granted in allowed_actions(statement)):
            continue
        for resource in listed(statement.get("Resource", [])):
            text = rendered(resource) or ""
            for name, value in EXAMPLE.items():
                text = text.replace(f"<{name}>", value)
            if text == "*" or (arn != "*" and fnmatch.fnmatchcase(arn, text)):
                return True
    return False


def check_resources(template: dict, app: dict, environment: str, label: str = "the app stack") -> list[str]:
    """Each CloudFormation role of ``environment`` may act on the ARN of every resource of ``app`` it must change."""
    return list(resource_problems(template, app, environment, label).values())


def resource_problems(template: dict, app: dict, environment: str, label: str) -> dict[tuple, str]:
    """:func:`check_resources`'s problems, keyed by role, action and resource type (one line each)."""
    environments, _ = role_environments(template)
    stack = f"{EXAMPLE['StackPrefix']}-{environment}"
    found = {}
    for name, policy in cloudformation_roles(template).items():
        if environments.get(name) != environment:
            continue
        for logical_id, action, arn in needed_permissions(app, stack):
            kind = app["Resources"][logical_id]["Type"]
            if arn == "?":
                found.setdefault(
                    (kind,),
                    f"{label} has {logical_id}, of a type tools/checks/bootstrap.py knows no ARN "
                    f"for: add {kind} to RESOURCE_ARNS",
                )
            elif not grants(policy, action, arn):
                where = "on Resource: '*'" if arn == "*" else f"on {arn}"
                found.setdefault(
                    (name, action, kind),
                    f"{name} may not {action} {where}, which {logical_id} "
                    f"({kind}) of {label} needs: add it to a statement of the role",
                )
    return found


def check_managed_policies(template: dict, app: dict, label: str = "the app stack") -> list[str]:
    """Every AWS managed policy a role of ``app`` attaches is one the CloudFormation roles may attach."""
    attached = {
        str(arn).partition(":iam::aws:policy/")[2]
        for resource in app.get("Resources", {}).values()
        if resource.get("Type") == "AWS::IAM::Role"
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns", [])
        if isinstance(arn, str)
    }
    found = []
    for name, policy in cloudformation_roles(template).items():
        allowed = {
            str(rendered(arn)).partition(":iam::aws:policy/")[2]
            for statement in statements(policy)
            if "iam:AttachRolePolicy" in allowed_actions(statement)
            for arn in listed(statement.get("Condition", {}).get("ArnEquals", {}).get("iam:PolicyARN", []))
        }
        for missing in sorted(attached - allowed):
            found.append(
                f"{name} may not attach {missing}, which SAM attaches to a role of {label.split(' [')[0]} in "
                f"some partition (samtranslator's xray_utils.py names the X-Ray policy per partition): add "
                f"arn:${{AWS::Partition}}:iam::aws:policy/{missing} to its iam:PolicyARN condition"
            )
    return found


def check_logging_role(template: dict) -> list[str]:
    """API Gateway's account-wide logging role: opt-in, and kept when the bootstrap stack is deleted."""
    found = []
    parameter = template.get("Parameters", {}).get("ConfigureApiGatewayLogging")
    if parameter is not None and str(parameter.get("Default")) != "false":
        found.append(
            "ConfigureApiGatewayLogging defaults to true, which replaces the region's API Gateway logging "
            "role for every API in the account: default it to false (README says when to turn it on)"
        )
    resources = template.get("Resources", {})
    for account in (resource for resource in resources.values() if resource.get("Type") == "AWS::ApiGateway::Account"):
        role = str(rendered(account.get("Properties", {}).get("CloudWatchRoleArn"))).strip("<>").removesuffix(".Arn")
        attributes = resources.get(role, {})
        if attributes.get("DeletionPolicy") != "Retain" or attributes.get("UpdateReplacePolicy") != "Retain":
            found.append(
                f"{role} is deleted with the bootstrap stack, which leaves the region's API Gateway account "
                f"setting pointing at a deleted role: set DeletionPolicy: Retain and UpdateReplacePolicy: "
                f"Retain"
            )
    return found


def check(template: dict, app: dict | None = None, apps: dict[tuple[str, str], dict] | None = None) -> list[str]:
    """Every problem of the bootstrap template.

    ``app`` is one transformed app template; ``apps`` maps ``(label, environment)``
    to each flavour's transformed template for that environment (and partition).
    """
    found = (
        check_artifact_bucket(template)
        + check_actions(template)
        + check_conditions(template)
        + check_environments(template)
        + check_names(template)
        + check_logging_role(template)
    )
    if app is not None:
        found += check_handlers(template, app)
    by_resource: dict[tuple, str] = {}
    for (label, environment), transformed in (apps or {}).items():
        found += check_handlers(template, transformed) + check_managed_policies(template, transformed, label)
        by_resource = {**resource_problems(template, transformed, environment, label), **by_resource}
    found += by_resource.values()
    return list(dict.fromkeys(found))

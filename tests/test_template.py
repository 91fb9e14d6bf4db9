"""template.yaml, transformed by SAM for dev and prod, checked offline; and the regression fixtures rejected."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from tools import samtemplate, template_functions
from tools.checks import __main__ as checks
from tools.checks import declarations, envvars, imports, sam, template
from tools.samtemplate import Evaluator

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "a-signing-secret-of-more-than-32-bytes-for-hs256!"


@pytest.fixture(scope="session")
def source() -> dict:
    return samtemplate.load()


@pytest.fixture(scope="session")
def deployed(source) -> dict[str, tuple[dict, Evaluator]]:
    """``{env: (CloudFormation template, evaluator)}`` as SAM makes it for each samconfig environment."""
    result = {}
    for environment, settings in sam.environments().items():
        values = sam.parameter_values(source, sam.parse_overrides(settings["parameter_overrides"]))
        cfn = sam.translate(source, values)
        result[environment] = (cfn, Evaluator(cfn, values))
    return result


def handler_functions(source: dict) -> list[str]:
    """The functions that serve routes (their Handler is a module of handlers/), in template order."""
    return [
        name
        for name, function in samtemplate.functions(source).items()
        if function["Properties"]["Handler"].startswith("handlers.")
    ]


def database_function(source: dict) -> str:
    """The first function whose code reaches the database (shared.db)."""
    return next(
        name
        for name in handler_functions(source)
        if "shared.db" in imports.closure(declarations.handler_module(source["Resources"][name])).modules
    )


def test_the_template_passes_every_deploy_check():
    assert checks.check_template(samtemplate.TEMPLATE) == []


def test_the_bootstrap_template_passes_cfn_lint_and_its_checks():
    assert checks.check_bootstrap() == []


@pytest.fixture(scope="session")
def bootstrap_template() -> dict:
    return samtemplate.load(checks.BOOTSTRAP)


@pytest.fixture(scope="session")
def app_stack(deployed) -> dict:
    return deployed["prod"][0]


SHARED_ROLES_PROBLEMS = [
    "ArtifactBucket is not versioned",
    "ArtifactBucket's lifecycle rule expire-old-artifacts expires current artifacts",
    "ArtifactBucket keeps the parts of interrupted uploads forever",
    "CloudFormationExecutionRole allows 'lambda:*': name the actions it needs",
    "CloudFormationExecutionRole may pass roles to any service",
    "CloudFormationExecutionRole may iam:AttachRolePolicy, iam:CreateRole, iam:DeleteRolePolicy, "
    "iam:DetachRolePolicy, iam:PutRolePolicy without a permissions boundary",
    "GitHubDeployRole is trusted by ['repo:<GitHubRepository>:environment:dev', "
    "'repo:<GitHubRepository>:environment:prod']: trust exactly one GitHub environment",
    "ConfigureApiGatewayLogging defaults to true",
    "ApiGatewayLogsRole is deleted with the bootstrap stack",
    "CloudFormationExecutionRole cannot do what CloudFormation needs for the app stack's resources: allow "
    "iam:ListAttachedRolePolicies, iam:ListRolePolicies",
]


@pytest.mark.parametrize("expected", SHARED_ROLES_PROBLEMS)
def test_the_old_shared_bootstrap_is_rejected(app_stack, expected):
    problems = checks.bootstrap.check(samtemplate.load(FIXTURES / "bootstrap-shared-roles.yaml"), app_stack)
    assert any(problem.startswith(expected) for problem in problems), problems


def statement(template: dict, role: str, sid: str) -> dict:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return next(item for item in policy["PolicyDocument"]["Statement"] if item.get("Sid") == sid)


def test_a_prod_role_that_reaches_the_dev_stack_is_rejected(bootstrap_template):
    broken = copy.deepcopy(bootstrap_template)
    statement(broken, "ProdDeployRole", "Stack")["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${StackPrefix}-*"
    }
    assert checks.bootstrap.check_environments(broken) == [
        "ProdDeployRole (prod) reaches arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/"
        "<StackPrefix>-*: scope it to the prod stack (<StackPrefix>-prod), its artifact prefix and its secrets "
        "(<StackPrefix>/prod/*)"
    ]


def test_a_deploy_role_trusted_by_any_branch_is_rejected(bootstrap_template):
    broken = copy.deepcopy(bootstrap_template)
    trust = broken["Resources"]["ProdDeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    subject = trust["Condition"]["StringEquals"].pop("token.actions.githubusercontent.com:sub")
    trust["Condition"]["StringLike"] = {"token.actions.githubusercontent.com:sub": subject}
    problems = checks.bootstrap.check_environments(broken)
    assert problems[0].startswith(
        "ProdDeployRole is trusted by ['repo:<GitHubRepository>:environment:prod']: "
        "trust exactly one GitHub environment (StringEquals"
    )


def test_an_action_without_resource_level_permissions_must_have_resource_star(bootstrap_template):
    broken = copy.deepcopy(bootstrap_template)
    statement(broken, "DevCloudFormationRole", "StopRollout")["Resource"] = "arn:aws:codedeploy:us-east-1:1:x"
    assert checks.bootstrap.check_actions(broken) == [
        "DevCloudFormationRole allows codedeploy:StopDeployment on arn:aws:codedeploy:us-east-1:1:x, but "
        "codedeploy:StopDeployment has no resource-level permissions, so IAM never matches it: give it Resource: "
        "'*' in a statement of its own"
    ]


def test_an_action_iam_does_not_define_is_rejected(bootstrap_template):
    broken = copy.deepcopy(bootstrap_template)
    statement(broken, "DevDeployRole", "Secrets")["Action"] = "secretsmanager:GetSecret"
    assert checks.bootstrap.check_actions(broken) == [
        "DevDeployRole allows 'secretsmanager:GetSecret', which IAM does not define: fix the name"
    ]


def test_a_cloudformation_role_missing_a_handler_permission_is_rejected(bootstrap_template, app_stack):
    broken = copy.deepcopy(bootstrap_template)
    statement(broken, "ProdCloudFormationRole", "Functions")["Action"].remove("lambda:PublishVersion")
    assert checks.bootstrap.check_handlers(broken, app_stack) == [
        "ProdCloudFormationRole cannot do what CloudFormation needs for the app stack's resources: allow "
        "lambda:PublishVersion (or list them in NOT_NEEDED in tools/checks/bootstrap.py with why)"
    ]


def test_the_prod_roles_are_the_dev_roles_for_prod(bootstrap_template):
    def renamed(value):
        text = json.dumps(value).replace("-dev", "-prod").replace("/dev/", "/prod/").replace("Dev", "Prod")
        return json.loads(
            text.replace("environment:dev", "environment:prod")
            .replace("the-dev-", "the-prod-")
            .replace(" dev ", " prod ")
        )

    resources = bootstrap_template["Resources"]
    for name in ("DevBoundary", "DevCloudFormationRole", "DevDeployRole"):
        assert renamed(resources[name]) == resources[name.replace("Dev", "Prod")], name


def test_every_role_of_the_app_stack_carries_the_boundary(deployed):
    cfn, _ = deployed["prod"]
    assert template.check_boundaries(cfn) == []
    assert "CodeDeployServiceRole" not in cfn["Resources"]  # SAM's own, without a boundary, is not made


def test_a_role_without_the_boundary_is_rejected(source):
    broken = copy.deepcopy(source)
    del broken["Globals"]["Function"]["PermissionsBoundary"]
    cfn = sam.translate(broken, sam.parameter_values(broken, {}))
    assert template.check_boundaries(cfn)[0].startswith(
        "AuthorizerFunctionRole has no PermissionsBoundary, so the bootstrap's CloudFormation role may not create it"
    )


def test_samconfig_defines_dev_and_prod(deployed):
    assert sorted(deployed) == ["dev", "prod"]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_sam_makes_exactly_one_stage_named_like_the_environment(deployed, environment):
    cfn, evaluator = deployed[environment]
    stages = template.resources(cfn, "AWS::ApiGateway::Stage")
    assert [evaluator.value(stage["Properties"]["StageName"]) for stage in stages.values()] == [environment]
    assert all(
        "StageName" not in deployment["Properties"]
        for deployment in template.resources(cfn, "AWS::ApiGateway::Deployment").values()
    )


def test_the_authorizer_uri_ends_with_invocations_and_caches_300_seconds(deployed):
    cfn, evaluator = deployed["dev"]
    (authorizer,) = template.authorizers(cfn).values()
    uri = evaluator.value(authorizer["authorizerUri"])
    assert uri == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/<AuthorizerFunctionAliaslive>/invocations"
    )
    assert authorizer["authorizerResultTtlInSeconds"] == 300


def test_api_gateway_may_invoke_the_authorizer_alias(deployed):
    cfn, evaluator = deployed["dev"]
    permissions = [
        evaluator.value(permission["Properties"])
        for permission in template.resources(cfn, "AWS::Lambda::Permission").values()
    ]
    assert {
        "Action": "lambda:InvokeFunction",
        "FunctionName": "<AuthorizerFunctionAliaslive>",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": "arn:aws:execute-api:us-east-1:123456789012:<Api>/authorizers/*",
    } in permissions


def test_prod_shifts_traffic_gradually_with_alarm_rollback(deployed):
    cfn, evaluator = deployed["prod"]
    groups = [
        evaluator.value(group["Properties"])
        for group in template.resources(cfn, "AWS::CodeDeploy::DeploymentGroup").values()
    ]
    assert len(groups) == len(samtemplate.functions(samtemplate.load()))
    for group in groups:
        assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]


def test_dev_deploys_all_at_once(deployed):
    cfn, evaluator = deployed["dev"]
    names = {
        evaluator.value(group["Properties"])["DeploymentConfigName"]
        for group in template.resources(cfn, "AWS::CodeDeploy::DeploymentGroup").values()
    }
    assert names == {"CodeDeployDefault.LambdaAllAtOnce"}


def test_all_at_once_in_prod_is_reported(deployed):
    cfn, _ = deployed["prod"]
    broken = copy.deepcopy(cfn)
    for group in template.resources(broken, "AWS::CodeDeploy::DeploymentGroup").values():
        group["Properties"]["DeploymentConfigName"] = "CodeDeployDefault.LambdaAllAtOnce"
    values = sam.parameter_values(samtemplate.load(), {"DeploymentEnvironment": "prod", "StageName": "prod"})
    problems = template.check_delivery(broken, Evaluator(broken, values), "prod")
    assert len(problems) == len(samtemplate.functions(samtemplate.load()))
    assert "use a Canary or Linear DeploymentPreference with rollback Alarms in production" in problems[0]


def test_handlers_import_with_their_template_environment(source):
    assert template.check_handlers_import(source, Evaluator(source, sam.parameter_values(source, {}))) == []


def test_a_handler_that_does_not_import_is_reported(source):
    broken = copy.deepcopy(source)
    function = handler_functions(source)[0]
    broken["Resources"][function]["Properties"]["Handler"] = "handlers.no_such_module.lambda_handler"
    problems = template.check_handlers_import(broken, Evaluator(broken, sam.parameter_values(broken, {})))
    assert problems == [
        f"{function}'s Handler handlers.no_such_module.lambda_handler does not import with its template "
        "environment (ModuleNotFoundError: No module named 'handlers.no_such_module'): fix the Handler path "
        "or the variables"
    ]


def test_a_variable_the_code_reads_under_another_name_is_reported(source):
    broken = copy.deepcopy(source)
    function = database_function(source)
    variables = broken["Resources"][function]["Properties"]["Environment"]["Variables"]
    variables["MONGO_URI"] = variables.pop("MONGODB_URI")
    problems = template.check_environment(broken, Evaluator(broken, sam.parameter_values(broken, {})))
    assert problems == [
        f"{function} sets MONGO_URI, but its code never reads it (a typo or a leftover?): rename it to a variable "
        "the code reads, or remove it",
        f"{function}'s code (shared.db) needs MONGODB_URI, but the template does not set it: add MONGODB_URI to its "
        "Environment.Variables",
    ]


def test_local_auth_in_the_template_is_reported(source):
    broken = copy.deepcopy(source)
    broken["Globals"]["Function"]["Environment"]["Variables"]["LOCAL_AUTH"] = "true"
    problems = template.check_environment(broken, Evaluator(broken, sam.parameter_values(broken, {})))
    assert len(problems) == len(samtemplate.functions(source))
    assert "AuthorizerFunction sets LOCAL_AUTH, which must never be set outside local runs" in problems[0]


def test_variable_names_come_from_the_code():
    found = envvars.reads(imports.closure("authorizer").modules)
    assert {"STAGE", "JWT_SECRET", "JWT_ISSUER", "JWT_LEEWAY_SECONDS", "MONGODB_URI"} <= set(found)
    assert not [read for read in found["JWT_LEEWAY_SECONDS"] if not read.has_default]
    entries = ["authorizer", *(f"handlers.{path.stem}" for path in declarations.HANDLERS.glob("[!_]*.py"))]
    read = envvars.reads({name: path for entry in entries for name, path in imports.closure(entry).modules.items()})
    decided = {**envvars.REQUIRED_WITH_MODULE, **envvars.OPTIONAL, **envvars.NEVER_SET}
    assert sorted(set(decided) - set(read)) == [], "decisions in tools/checks/envvars.py about variables no code reads"


def test_a_new_variable_without_a_default_needs_a_decision(tmp_path):
    module = tmp_path / "limits.py"
    module.write_text('import os\nRATE = os.environ["RATE_LIMIT"]\n')
    assert envvars.reads_in(module.read_text(), "shared.limits") == [
        envvars.Read("RATE_LIMIT", "shared.limits", has_default=False)
    ]
    assert envvars.problems("LimitsFunction", {"shared.limits": module}, set()) == [
        "RATE_LIMIT is read by shared.limits without a usable default: decide whether the template must set it "
        "(REQUIRED_WITH_MODULE or OPTIONAL in tools/checks/envvars.py)"
    ]


def test_secrets_are_arn_references_readable_only_by_their_function(source, deployed):
    cfn, evaluator = deployed["dev"]
    assert template.check_secrets(source, cfn) == []
    role = cfn["Resources"][f"{database_function(source)}Role"]["Properties"]
    policy, _decrypt_with_a_customer_managed_key = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": {"Fn::If": ["MongoDbUriInSsm", "ssm:GetParameter", "secretsmanager:GetSecretValue"]},
            "Resource": {"Ref": "MongoDbUriSecretArn"},
        }
    ]
    assert evaluator.value(policy["PolicyDocument"]["Statement"][0]["Action"]) == "secretsmanager:GetSecretValue"


def version_ids(source, values) -> dict[str, str]:
    return template.deployment(source, values, sam.example_code(source))[0]


def test_a_parameter_only_change_publishes_new_versions_and_no_change_keeps_them(source):
    values = sam.parameter_values(source, {})
    assert version_ids(source, values) == version_ids(source, dict(values))
    debug = version_ids(source, {**values, "LogLevel": "DEBUG"})
    assert all(debug[name] != version for name, version in version_ids(source, values).items())


def test_each_function_gets_a_new_version_exactly_when_its_code_or_configuration_changes(source):
    assert template.check_versions(source, sam.parameter_values(source, {})) == []


def test_a_function_without_a_revision_is_reported(source):
    broken = copy.deepcopy(source)
    function = handler_functions(source)[0]
    del broken["Resources"][function]["Properties"]["AutoPublishCodeSha256"]
    del broken["Parameters"][f"{function}Revision"]
    problems = template.check_versions(broken, sam.parameter_values(broken, {}))
    assert f"changing LogLevel ('INFO' -> 'DEBUG') changes the configuration of {function} but not the version" in (
        "\n".join(problems)
    )


def test_a_plain_mongodb_uri_is_refused_as_a_parameter(source):
    with pytest.raises(sam.ParameterError, match="does not match its AllowedPattern"):
        sam.parameter_values(source, {"MongoDbUriSecretArn": "mongodb+srv://user:pass@cluster.example.net/"})


def test_a_secrets_manager_arn_without_its_random_suffix_is_refused(source):
    partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bare-api/dev/mongodb-uri"
    for parameter in ("MongoDbUriSecretArn", "JwtSecretArn"):
        with pytest.raises(sam.ParameterError, match="does not match its AllowedPattern"):
            sam.parameter_values(source, {parameter: partial})
    assert sam.parameter_values(source, {"JwtSecretArn": partial + "-AbCdEf"})["JwtSecretArn"] == partial + "-AbCdEf"


KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def decrypt_statements(source, **overrides) -> dict[str, list]:
    values = sam.parameter_values(source, overrides)
    cfn = sam.translate(source, values)
    evaluator = Evaluator(cfn, values)
    return {
        name: [
            statement
            for policy in evaluator.value(role["Properties"].get("Policies", []))
            for statement in policy["PolicyDocument"]["Statement"]
            if statement["Action"] == "kms:Decrypt"
        ]
        for name, role in template.resources(cfn, "AWS::IAM::Role").items()
    }


def test_with_a_customer_managed_key_each_secret_reader_may_decrypt_through_its_service_only(source):
    statements = decrypt_statements(source, SecretsKmsKeyArn=KMS_KEY)
    via = {
        "StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}
    }
    readers = [name for name, function in samtemplate.functions(source).items() if "Policies" in function["Properties"]]
    assert "AuthorizerFunction" in readers and database_function(source) in readers
    for role in (f"{name}Role" for name in readers):
        assert statements[role] == [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_KEY, "Condition": via}
        ], role


def test_without_a_key_no_role_may_decrypt(source):
    assert all(statements == [] for statements in decrypt_statements(source).values())


def test_a_dollar_default_stage_in_samconfig_is_refused(source):
    with pytest.raises(sam.ParameterError, match=r"StageName='\$default' does not match"):
        sam.parameter_values(source, sam.parse_overrides("StageName=$default"))


def test_functions_share_one_snapstart_python_runtime_on_arm64_with_an_alias_and_built_code(source):
    runtimes = set()
    for name, properties in sam.function_properties(source).items():
        runtimes.add(properties["Runtime"])
        assert (properties["Architectures"], properties["AutoPublishAlias"]) == (["arm64"], "live"), name
        assert properties["CodeUri"] == f"build/{name}.zip"
    assert len(runtimes) == 1 and runtimes <= {"python3.12", "python3.13", "python3.14"}  # SnapStart: 3.12 and later


def test_alarms_watch_5xx_latency_authorizer_failures_and_refusals_and_handled_500s(deployed):
    cfn, _ = deployed["dev"]
    alarms = template.resources(cfn, "AWS::CloudWatch::Alarm").values()
    metrics = {metric["MetricName"] for alarm in alarms for metric in template.alarm_metrics(alarm["Properties"])}
    assert {"5XXError", "Latency", "AuthorizerFailures", "AuthorizerRefusals", "Errors", "ServerErrors"} <= metrics


def test_each_canary_alarm_counts_the_errors_of_the_version_being_deployed(deployed):
    cfn, evaluator = deployed["prod"]
    assert template.check_canary_alarms(cfn, evaluator) == []
    for function in handler_functions(samtemplate.load()):
        (version,) = [name for name in template.resources(cfn, "AWS::Lambda::Version") if name.startswith(function)]
        alarm = function.removesuffix("Function") + "ErrorsAlarm"
        assert cfn["Resources"][alarm]["Properties"]["Dimensions"] == [
            {"Name": "FunctionName", "Value": {"Ref": function}},
            {"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:live"}},
            {"Name": "ExecutedVersion", "Value": {"Fn::GetAtt": [version, "Version"]}},
        ], alarm


def canary_alarm_problems(broken: dict) -> list[str]:
    """check_canary_alarms on ``broken`` as SAM transforms it for prod."""
    values = sam.parameter_values(broken, {"DeploymentEnvironment": "prod", "StageName": "prod"})
    cfn = sam.translate(broken, values)
    return template.check_canary_alarms(cfn, Evaluator(cfn, values))


def test_a_canary_alarm_that_counts_every_version_is_reported(source):
    broken = copy.deepcopy(source)
    function = handler_functions(source)[0]
    alarm = function.removesuffix("Function") + "ErrorsAlarm"
    broken["Resources"][alarm]["Properties"]["Dimensions"].pop()
    problems = canary_alarm_problems(broken)
    assert problems[0] == (
        f"{alarm} rolls back {function}'s canary but counts ['FunctionName', 'Resource'], so the old "
        "version's errors (90% of the traffic) count too: give it the dimensions FunctionName, Resource "
        f"(<function>:live) and ExecutedVersion: !GetAtt {function}.Version.Version"
    )
    assert problems[1].startswith(f"{function}'s deployment group has no alarm on its new version's crashes")
    assert len(problems) == 2


def test_an_authorizer_canary_alarm_that_counts_every_version_is_reported(source):
    broken = copy.deepcopy(source)
    del broken["Resources"]["AuthorizerErrorsAlarm"]["Properties"]["Dimensions"][1]
    assert canary_alarm_problems(broken) == [
        "AuthorizerErrorsAlarm rolls back AuthorizerFunction's canary but counts every version: give its metric a "
        "version dimension (the EMF line's version, from AWS_LAMBDA_FUNCTION_VERSION) and the alarm that dimension "
        "= !GetAtt AuthorizerFunction.Version.Version",
        "AuthorizerFunction's deployment group has no alarm on its new version's failures that answer 500 (its EMF "
        "metric AuthorizerFailures with the dimensions function and version): add one narrowed to version !GetAtt "
        "AuthorizerFunction.Version.Version and list it in AuthorizerFunction's DeploymentPreference.Alarms",
    ]


@pytest.fixture
def template_authorizer(monkeypatch, source, aws):
    """The authorizer configured with the template's environment; its JWT secret in SSM (moto's server, ``aws``)."""
    import boto3

    from tests import tokenkit

    values = sam.parameter_values(source, {})
    properties = sam.function_properties(source)["AuthorizerFunction"]
    for name, value in template.function_environment(properties, Evaluator(source, values)).items():
        monkeypatch.setenv(name, value)
    name = values["JwtSecretArn"].split(":parameter", 1)[1]
    boto3.client("ssm", region_name=values["JwtSecretArn"].split(":")[3]).put_parameter(
        Name=name, Value=SECRET, Type="SecureString"
    )
    tokenkit.forget()
    import authorizer

    yield authorizer, values
    tokenkit.forget()


def test_one_cached_authorizer_answer_allows_every_authorized_route(template_authorizer, source):
    authorizer, values = template_authorizer
    now = int(time.time())
    token = jwt.encode(
        {"sub": "alice", "iss": values["JwtIssuer"], "aud": values["JwtAudience"], "iat": now, "exp": now + 600},
        SECRET,
        algorithm="HS256",
    )
    identity = source["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]["Identity"]
    assert identity["Header"] == "Authorization"  # a TOKEN authorizer: API Gateway passes that header's value
    prefix = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/dev"
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": f"{prefix}/GET/me"}
    answer = authorizer.lambda_handler(event, None)
    (statement,) = answer["policyDocument"]["Statement"]
    for route in samtemplate.api_routes(source):
        if route.authorized:
            method_arn = f"{prefix}/{route.method}{route.path}"
            assert statement["Effect"] == "Allow" and fnmatch.fnmatchcase(method_arn, statement["Resource"])


def test_the_authorizer_context_reaches_the_handlers_principal(template_authorizer):
    from shared.principal import principal_from_event

    authorizer, values = template_authorizer
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "alice",
            "email": "alice@example.com",
            "iss": values["JwtIssuer"],
            "aud": values["JwtAudience"],
            "iat": now,
            "exp": now + 600,
        },
        SECRET,
        algorithm="HS256",
    )
    answer = authorizer.lambda_handler(
        {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token}",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a/dev/GET/me",
        },
        None,
    )
    # What a REST API puts in requestContext.authorizer for a Lambda authorizer: principalId and the context.
    request_authorizer = {"principalId": answer["principalId"], **answer["context"], "integrationLatency": 3}
    principal = principal_from_event({"authorizer": request_authorizer}, {})
    assert (principal.sub, principal.email) == ("alice", "alice@example.com")


FIXTURE_MESSAGES = {
    "authorizer-uri-without-invocations.yaml": "end it with /invocations",
    "stage-named-default.yaml": "letters, digits and underscores only",
    "two-stages.yaml": "set OpenApiVersion: '3.0.1'",
    "authorizer-context-claims.yaml": "read $context.authorizer.principalId",
    "rules-with-join.yaml": "Fn::Join is not allowed in Rules",
    "canary-without-refusals-alarm.yaml": "refuses valid tokens",
    "canary-without-handled-500s-alarm.yaml": "handled 500s",
    "canary-with-stage-5xx-alarm.yaml": "counts the whole stage",
    "gateway-responses-without-cors.yaml": "CORS error instead of the status",
}


@pytest.mark.parametrize("fixture", sorted(FIXTURE_MESSAGES))
def test_each_regression_template_is_rejected_with_its_own_fix(fixture):
    problems = checks.check_template(FIXTURES / fixture)
    assert any(FIXTURE_MESSAGES[fixture] in problem for problem in problems), problems
    others = [message for name, message in FIXTURE_MESSAGES.items() if name != fixture]
    assert not [problem for problem in problems if any(message in problem for message in others)]


# Canaries: each deployment group rolls back on its new version's failures, as users see them


def test_no_deployment_group_rolls_back_on_the_whole_stage(deployed):
    cfn, evaluator = deployed["prod"]
    assert template.check_canary_alarms(cfn, evaluator) == []
    listed = {
        name
        for group in template.resources(cfn, "AWS::CodeDeploy::DeploymentGroup").values()
        for name in template._alarm_names(group, evaluator)
    }
    assert not listed & {"ApiServerErrorsAlarm", "ApiLatencyAlarm"}
    paging = cfn["Resources"]["ApiServerErrorsAlarm"]["Properties"]["AlarmActions"]
    assert paging == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def test_each_api_function_rolls_back_on_its_new_versions_handled_500s(source, deployed):
    cfn, evaluator = deployed["prod"]
    groups = template.resources(cfn, "AWS::CodeDeploy::DeploymentGroup")
    for function in handler_functions(source):
        alarm = function.removesuffix("Function") + "ServerErrorsAlarm"
        assert alarm in template._alarm_names(groups[f"{function}DeploymentGroup"], evaluator)
        (metric,) = template.alarm_metrics(cfn["Resources"][alarm]["Properties"])
        assert metric["MetricName"] == "ServerErrors" and metric["Namespace"] == {"Ref": "AWS::StackName"}


def emf_lines(module: str, event: dict, **variables: str) -> list[dict]:
    """The EMF lines ``module``'s handler writes for ``event``, run as Lambda runs version 7 of it."""
    code = (
        f"import importlib, json, sys; handler = importlib.import_module({module!r}).lambda_handler\n"
        f"try:\n    handler(json.loads(sys.argv[1]), None)\nexcept Exception:\n    pass"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(imports.ROOT),
        "STAGE": "local",
        "APP_NAME": samtemplate.PSEUDO["AWS::StackName"],
        "AWS_LAMBDA_FUNCTION_VERSION": "7",
        **variables,
    }
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(event)],
        env=environment,
        cwd=imports.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [record for record in map(json.loads, result.stdout.splitlines()) if "_aws" in record]


@pytest.fixture(scope="session")
def emitted(source) -> list[dict]:
    """What the functions' code emits: a request line of each API function, the authorizer's refusal and failure."""
    from tests.apigw import rest_event

    refused = {
        "type": "TOKEN",
        "authorizationToken": "Bearer not-a-token",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/me",
    }
    authorizer = samtemplate.authorizer_function(source)[0]
    lines = []
    for name, properties in sam.function_properties(source).items():
        module = properties["Handler"].rpartition(".")[0]
        if name != authorizer:
            lines += emf_lines(module, rest_event("GET", "/no-such-path"))
    lines += emf_lines("authorizer", refused)
    lines += emf_lines("authorizer", refused, JWT_LEEWAY_SECONDS="lots")
    return lines


def emits(lines: list[dict], namespace: str, name: str, dimensions: dict[str, str]) -> bool:
    """Whether one of ``lines`` publishes metric ``name`` in ``namespace`` with exactly these dimensions."""
    for line in lines:
        for directive in line["_aws"]["CloudWatchMetrics"]:
            if (
                directive["Namespace"] == namespace
                and name in [metric["Name"] for metric in directive["Metrics"]]
                and sorted(dimensions) in [sorted(each) for each in directive["Dimensions"]]
                and all(line.get(key) == value for key, value in dimensions.items())
            ):
                return True
    return False


def test_every_alarm_on_the_apps_metrics_reads_a_metric_the_code_emits(deployed, emitted):
    cfn, evaluator = deployed["prod"]
    checked = []
    for name, alarm in template.resources(cfn, "AWS::CloudWatch::Alarm").items():
        for metric in template.alarm_metrics(alarm["Properties"]):
            namespace = evaluator.value(metric["Namespace"])
            if namespace.startswith("AWS/"):
                continue
            dimensions = {item["Name"]: evaluator.value(item["Value"]) for item in metric["Dimensions"]}
            # the version being deployed: the code reads it from AWS_LAMBDA_FUNCTION_VERSION (7 here)
            dimensions = {key: "7" if str(value).endswith(".Version>") else value for key, value in dimensions.items()}
            assert emits(emitted, namespace, metric["MetricName"], dimensions), (name, metric["MetricName"], dimensions)
            checked.append(metric["MetricName"])
    assert set(checked) == {"ServerErrors", "AuthorizerFailures", "AuthorizerRefusals"}


def refusal_alarm_fires(**counts: float) -> bool:
    """AuthorizerRefusalsAlarm's expression on one minute's counts (refused, refused_all, calls, calls_all)."""
    properties = samtemplate.load()["Resources"]["AuthorizerRefusalsAlarm"]["Properties"]
    (query,) = [query for query in properties["Metrics"] if "Expression" in query]
    expression = query["Expression"].replace("IF(", "when(").replace(" AND ", " and ")

    def when(condition, true, false):
        return true if condition else false

    value = eval(expression, {"when": when}, counts)  # the template's own metric math
    return value >= properties["Threshold"]


def test_a_new_authorizer_that_refuses_every_token_rolls_back():
    assert refusal_alarm_fires(refused=50, calls=50, refused_all=50 + 9, calls_all=50 + 450)


def test_a_quiet_api_does_not_roll_back_on_two_refusals():
    assert not refusal_alarm_fires(refused=2, calls=2, refused_all=2, calls_all=10)


def test_a_new_authorizer_that_refuses_like_the_old_one_is_promoted():
    assert not refusal_alarm_fires(refused=10, calls=50, refused_all=100, calls_all=500)
    assert not refusal_alarm_fires(refused=40, calls=50, refused_all=400, calls_all=500)  # under attack, both refuse


def test_a_new_authorizer_alone_refusing_as_usual_is_promoted():
    assert not refusal_alarm_fires(refused=5, calls=100, refused_all=5, calls_all=100)  # AllAtOnce: no old version


def test_gateway_responses_carry_cors_headers_only_when_origins_are_set(source):
    for origins, expected in (("https://app.example.com", "method.request.header.Origin"), ("", None)):
        values = sam.parameter_values(source, {"CorsAllowOrigins": origins})
        cfn = sam.translate(source, values)
        evaluator = Evaluator(cfn, values)
        assert template.check_gateway_responses(cfn, evaluator, origins) == []
        responses = evaluator.value(
            cfn["Resources"]["Api"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
        )
        for kind in template.CORS_GATEWAY_RESPONSES:
            assert responses[kind]["responseParameters"].get(template.ALLOW_ORIGIN) == expected


def test_throttling_is_described_as_what_api_gateway_applies_per_method(source):
    for name in ("ThrottleRateLimit", "ThrottleBurstLimit"):
        assert "each method" in source["Parameters"][name]["Description"]
    (setting,) = source["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")


@pytest.mark.parametrize("reserved, expected", [("0", None), ("50", "50")])
def test_reserved_concurrency_caps_each_api_function_and_not_the_authorizer(source, reserved, expected):
    values = sam.parameter_values(source, {"FunctionReservedConcurrency": reserved})
    cfn = sam.translate(source, values)
    evaluator = Evaluator(cfn, values)
    for name, function in template.rolled_out_functions(cfn).items():  # not the deployment hook
        limit = evaluator.value(function["Properties"]).get("ReservedConcurrentExecutions")
        assert limit == (None if name == "AuthorizerFunction" else expected), name


def paste(problem: str, document: dict) -> None:
    """Paste the block ``problem`` carries under Resources, as a reader of `make lint` would."""
    import textwrap

    block = [line for line in problem.splitlines()[1:] if line.startswith(" ")]
    document["Resources"].update(samtemplate.loads(textwrap.dedent("\n".join(block))))


def test_a_group_alarm_the_template_does_not_define_comes_with_one_to_paste(source):
    notes = declarations.Declared("GET", "/notes", False, "handlers.notes", "list_notes")
    text = template_functions.generated(samtemplate.TEMPLATE.read_text(encoding="utf-8"), [notes], source)
    with_notes = samtemplate.loads(text)
    broken = copy.deepcopy(with_notes)
    del broken["Resources"]["NotesServerErrorsAlarm"]
    values = sam.parameter_values(broken, {"DeploymentEnvironment": "prod", "StageName": "prod"})
    cfn = sam.translate(broken, values)
    problems = template.check_canary_alarms(cfn, Evaluator(cfn, values), broken)
    model = min(  # the first function's alarm of its kind
        name
        for name in broken["Resources"]
        if name.endswith("ServerErrorsAlarm")
        and name.removesuffix("ServerErrorsAlarm") + "Function" in broken["Resources"]
    )
    function = model.removesuffix("ServerErrorsAlarm") + "Function"
    assert problems[0].splitlines()[0] == (
        "NotesFunction's DeploymentPreference.Alarms lists NotesServerErrorsAlarm, which the template does not "
        f"define (here as {model} is for {function}): add to template.yaml under Resources:"
    )
    paste(problems[0], broken)
    assert broken["Resources"]["NotesServerErrorsAlarm"] == with_notes["Resources"]["NotesServerErrorsAlarm"]


def test_reserved_concurrency_publishes_no_new_version(source):
    code = sam.example_code(source)
    values = sam.parameter_values(source, {})
    reserved = sam.parameter_values(source, {"FunctionReservedConcurrency": "50"})
    assert sam.function_revisions(source, values, code) == sam.function_revisions(source, reserved, code)

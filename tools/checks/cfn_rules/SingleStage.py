"""E9003: a REST API must get exactly one stage."""

from __future__ import annotations

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class SingleStage(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "One REST API, one stage"
    description = (
        "SAM adds a stage named 'Stage' when OpenApiVersion is not set, and an implicit "
        "ServerlessRestApi (stage 'Prod') for Api events without RestApiId; a DefinitionBody next to "
        "SAM events splits the routes between two definitions."
    )
    tags = ["apigateway", "stage", "sam", "project"]

    def match(self, cfn):
        matches = []
        resources = cfn.template.get("Resources", {})
        globals_api = cfn.template.get("Globals", {}).get("Api", {})
        apis = {name for name, resource in resources.items() if resource.get("Type") == "AWS::Serverless::Api"}
        for name in sorted(apis):
            properties = resources[name].get("Properties", {})
            if "OpenApiVersion" not in properties and "OpenApiVersion" not in globals_api:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties"],
                        f"{name} has no OpenApiVersion, so SAM also creates a stage named 'Stage': "
                        f"set OpenApiVersion: '3.0.1'",
                    )
                )
            if {"DefinitionBody", "DefinitionUri"} & set(properties) and self._events_on(resources, name):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "DefinitionBody"],
                        f"{name} mixes a DefinitionBody with SAM Api events: declare the routes "
                        f"as function events and the authorizer under Auth, and drop the "
                        f"DefinitionBody",
                    )
                )
        for function, event_name in self._events_without_api(resources):
            if apis:
                matches.append(
                    RuleMatch(
                        ["Resources", function, "Properties", "Events", event_name],
                        f"event {event_name} has no RestApiId, so SAM creates a second API "
                        f"(ServerlessRestApi, stage 'Prod'): set RestApiId: !Ref "
                        f"{sorted(apis)[0]}",
                    )
                )
        matches += self._deployment_stages(resources)
        return matches

    @staticmethod
    def _api_events(resources):
        for name, resource in resources.items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                if isinstance(event, dict) and event.get("Type") == "Api":
                    yield name, event_name, event.get("Properties", {})

    def _events_on(self, resources, api):
        return [
            event for _, event, properties in self._api_events(resources) if properties.get("RestApiId") == {"Ref": api}
        ]

    def _events_without_api(self, resources):
        return [
            (function, event)
            for function, event, properties in self._api_events(resources)
            if "RestApiId" not in properties
        ]

    @staticmethod
    def _deployment_stages(resources):
        staged = {
            str(resource.get("Properties", {}).get("RestApiId"))
            for resource in resources.values()
            if resource.get("Type") == "AWS::ApiGateway::Stage"
        }
        matches = []
        for name, resource in resources.items():
            properties = resource.get("Properties", {})
            if (
                resource.get("Type") == "AWS::ApiGateway::Deployment"
                and "StageName" in properties
                and str(properties.get("RestApiId")) in staged
            ):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "StageName"],
                        f"{name}.StageName creates a stage besides the AWS::ApiGateway::Stage of "
                        f"the same API: remove StageName from the Deployment",
                    )
                )
        return matches

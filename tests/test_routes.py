"""One declaration per route: the routers' declarations; the template, openapi.yaml and events/ checked against them.

Every message that asks for an addition carries the block to paste and where: the
tests paste it there, as a user would, and the check then passes.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import textwrap

import pytest
import yaml

from shared.router import Router
from shared.schema import Schema, String
from tools import generate, samtemplate, template_functions
from tools.checks import declarations, event_files, openapi, routes, sam, yamlkeys
from tools.checks.snippets import yaml_block
from tools.samtemplate import Evaluator

# A resource declared with a body Schema and a checked path parameter, as a new handler module would.
NOTE = Schema(
    "Note",
    {
        "title": String(min_length=1, max_length=100, required=True, example="Groceries"),
        "body": String(max_length=2000, one_line=False),
    },
)
NOTE_ID = String(pattern="^[0-9a-f]{24}$", example="65f1a0c2e4b0a1b2c3d4e5f6")
CREATE_NOTE = declarations.Declared("POST", "/notes", False, "handlers.notes", "create_note", "Write a note", NOTE)
READ_NOTE = declarations.Declared(
    "GET", "/notes/{note_id}", False, "handlers.notes", "read_note", "One note", None, {"note_id": NOTE_ID}
)
NOTES = [
    CREATE_NOTE,
    declarations.Declared("GET", "/notes", False, "handlers.notes", "list_notes", "My notes"),
    READ_NOTE,
    declarations.Declared(
        "DELETE",
        "/notes/{note_id}",
        False,
        "handlers.notes",
        "delete_note",
        "Delete a note",
        None,
        {"note_id": NOTE_ID},
    ),
]
# Routes no router declares: one more for the notes' function, and one in a module that has no function yet.
EXAMPLE = declarations.Declared(
    "GET", "/notes/{note_id}/example", False, "handlers.notes", "read_example", "An example"
)
NEW_MODULE = declarations.Declared("GET", "/example", True, "handlers.example", "example", "An example of a new module")


@pytest.fixture(scope="module")
def declared() -> list[declarations.Declared]:
    return declarations.declared_routes()


@pytest.fixture(scope="module")
def source() -> dict:
    return samtemplate.load()


@pytest.fixture(scope="module")
def description() -> dict:
    return yaml.safe_load(openapi.OPENAPI.read_text())


@pytest.fixture(scope="module")
def notes_declared(declared) -> list[declarations.Declared]:
    """The repository's routes and the notes resource's: the checks' tests run on a guarded resource of their own."""
    return [*declared, *NOTES]


@pytest.fixture(scope="module")
def notes_template(source, notes_declared) -> dict:
    """template.yaml with the notes resource's function, parameter and alarms, as make generate writes them."""
    text = template_functions.generated(samtemplate.TEMPLATE.read_text(encoding="utf-8"), notes_declared, source)
    return samtemplate.loads(text)


@pytest.fixture(scope="module")
def notes_description(notes_declared, description) -> dict:
    """openapi.yaml with the notes resource's operations, as make generate writes them."""
    return generated(notes_declared, description)


def notes_events(routes: list[declarations.Declared], folder) -> dict[str, dict]:
    """``{"events/note.json": event, "events/v2/note.json": event, ...}``: what make generate writes for ``routes``."""
    return {
        f"events/{path.relative_to(folder).as_posix()}": event
        for path, (_, event) in generate.missing_events(routes, folder).items()
    }


def transformed(template: dict) -> tuple[dict, Evaluator]:
    values = sam.parameter_values(template, {})
    cfn = sam.translate(template, values)
    return cfn, Evaluator(cfn, values)


def template_problems(template: dict, declared: list[declarations.Declared]) -> list[str]:
    """What the template checks of this module say about ``template`` for these declarations."""
    cfn, evaluator = transformed(template)
    alarms = routes.error_alarms(cfn, evaluator)
    return (
        routes.check_functions(template, declared)
        + routes.check_template_events(template, cfn, evaluator, declared)
        + routes.check_alarms(template, declared, alarms)
    )


def paste(problem: str, document: dict) -> None:
    """Do what ``problem`` asks: paste its block under the keys it names."""
    header, *lines = problem.splitlines()
    keys = re.search(r"(?:add to|replace the event in) \S+ under (\S+):$", header).group(1)
    block = []
    for line in lines:
        if not line.startswith(" "):
            break
        block.append(line)
    addition = samtemplate.loads(textwrap.dedent("\n".join(block)))
    target = document
    for key in keys.split("."):
        target = target.setdefault(key, {})
    if isinstance(addition, list):
        target.extend(addition)
    else:
        target.update(addition)


def merged(base: dict, fields: dict) -> dict:
    result = copy.deepcopy(base)
    for key, value in fields.items():
        result[key] = merged(result.get(key) or {}, value) if isinstance(value, dict) else value
    return result


# The declaration


def test_a_route_is_guarded_unless_declared_public():
    router = Router("example")
    router.get("/open", public=True)(lambda request: None)
    router.patch("/guarded")(lambda request: None)
    assert [(route.method, route.template, route.public) for route in router.routes] == [
        ("GET", "/open", True),
        ("PATCH", "/guarded", False),
    ]


def test_declared_routes_come_from_the_routers_of_handlers(tmp_path, monkeypatch):
    import handlers

    (tmp_path / "memos.py").write_text(
        "from shared.router import Router\n"
        "router = Router('memos')\n\n"
        "@router.get('/memos', public=True)\n"
        "def list_memos(request):\n"
        '    """Every memo.\n\n    Newest first."""\n\n'
        "@router.delete('/memos/{memo_id}')\n"
        "def delete_memo(request):\n"
        "    pass\n"
    )
    monkeypatch.setattr(handlers, "__path__", [*handlers.__path__, str(tmp_path)])
    try:
        found = declarations.declared_routes(tmp_path)
    finally:
        sys.modules.pop("handlers.memos", None)
    assert [
        (route.method, route.path, route.public, route.module, route.endpoint, route.summary) for route in found
    ] == [
        ("GET", "/memos", True, "handlers.memos", "list_memos", "Every memo."),
        ("DELETE", "/memos/{memo_id}", False, "handlers.memos", "delete_memo", "delete memo"),
    ]


def test_the_repositorys_routes_are_those_of_its_handler_modules(declared):
    modules = {f"handlers.{path.stem}" for path in declarations.HANDLERS.glob("[!_]*.py")}
    assert {route.module for route in declared} <= modules
    assert ("GET", "/health") in {route.key for route in declared}


def test_a_handler_module_that_does_not_import_is_one_problem(tmp_path, monkeypatch):
    import handlers

    (tmp_path / "unfinished.py").write_text("from shared.router import Routr\n")
    monkeypatch.setattr(handlers, "__path__", [*handlers.__path__, str(tmp_path)])
    with pytest.raises(declarations.DeclarationError) as refused:
        declarations.declared_routes(tmp_path)
    assert str(refused.value).startswith(
        "handlers/unfinished.py does not import (ImportError: cannot import name 'Routr' from 'shared.router'"
    )
    assert str(refused.value).endswith("so its routes cannot be checked: fix it, then run the checks again")


def test_each_path_gets_one_public_preflight_in_its_module(declared):
    preflights = declarations.preflights(declared)
    assert sorted(route.path for route in preflights) == sorted({route.path for route in declared})
    assert all(route.method == "OPTIONS" and route.public for route in preflights)


def test_a_route_declared_twice_is_reported():
    twice = [*NOTES, declarations.Declared("GET", "/notes", False, "handlers.notes", "list_notes_again")]
    assert declarations.check_declarations(twice) == [
        "GET /notes is declared twice, by handlers.notes.list_notes and handlers.notes.list_notes_again: keep one"
    ]


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("/notes/{note_id", "has unbalanced braces in '{note_id'"),
        ("/notes/note_id}", "has unbalanced braces in 'note_id}'"),
        ("notes", "must start with /"),
        ("/notes/{1st}", "'{1st}' must be a whole segment {name}, name a letter or _ then letters, digits or _"),
        (
            "/notes/n{note_id}",
            "'n{note_id}' must be a whole segment {name}, name a letter or _ then letters, digits or _",
        ),
        ("/a/{x}/b/{x}", "names the parameter 'x' twice"),
    ],
)
def test_a_malformed_route_template_is_one_line_saying_why(template, why):
    assert declarations.template_problem(template) == why
    malformed = declarations.Declared("GET", template, False, "handlers.notes", "read_note")
    assert declarations.check_declarations([malformed]) == [
        f"handlers.notes.read_note: route {template!r} is malformed: {why}"
    ]


def test_a_malformed_template_the_router_refuses_is_one_problem(tmp_path, monkeypatch):
    import handlers

    (tmp_path / "notes.py").write_text(
        "from shared.router import Router\nrouter = Router('notes')\nrouter.get('/notes/{note_id')(print)\n"
    )
    monkeypatch.setattr(handlers, "__path__", [*handlers.__path__, str(tmp_path)])
    with pytest.raises(declarations.DeclarationError) as refused:
        declarations.declared_routes(tmp_path)
    assert "\n" not in str(refused.value) and str(refused.value).startswith(
        "handlers/notes.py: route template '/notes/{note_id': "
    )
    assert "unbalanced" in str(refused.value)


def test_a_route_takes_its_success_status_from_its_method_unless_declared():
    assert {str(route): route.success for route in NOTES} == {
        "POST /notes": 201,
        "GET /notes": 200,
        "GET /notes/{note_id}": 200,
        "DELETE /notes/{note_id}": 204,
    }
    accepted = declarations.Declared("POST", "/notes/{note_id}/archive", False, "handlers.notes", "archive", status=202)
    assert accepted.success == 202


def test_a_path_served_by_two_modules_is_reported():
    split = [*NOTES, declarations.Declared("PATCH", "/notes", False, "handlers.admin", "update_notes")]
    assert declarations.check_declarations(split) == [
        "/notes is served by handlers.admin, handlers.notes: keep every method of a path in one handler module, "
        "whose function also answers the path's OPTIONS preflight"
    ]


def test_the_repository_agrees_with_its_declarations(source, declared):
    cfn, evaluator = transformed(source)
    assert routes.check(source, cfn, evaluator) == []


# template.yaml


def test_exactly_the_declared_routes_and_a_preflight_per_path_reach_their_functions(source, declared):
    cfn, evaluator = transformed(source)
    functions = declarations.functions_by_module(source)
    wanted = {
        (route.method, route.path, functions[route.module], not route.public)
        for route in declared + declarations.preflights(declared)
    }
    assert sorted(routes.template_routes(cfn, evaluator)) == sorted(wanted)


def test_only_public_routes_and_preflights_skip_the_authorizer(source, declared):
    cfn, evaluator = transformed(source)
    open_routes = {
        (method, path) for method, path, _, authorized in routes.template_routes(cfn, evaluator) if not authorized
    }
    assert open_routes == {route.key for route in declared + declarations.preflights(declared) if route.public}


def test_the_notes_resource_as_generated_satisfies_the_checks(notes_template, notes_declared):
    assert template_problems(notes_template, notes_declared) == []


def test_a_new_route_asks_make_generate_for_its_event_and_its_preflight(notes_template, notes_declared):
    assert template_problems(notes_template, [*notes_declared, EXAMPLE]) == [
        "GET /notes/{note_id}/example (declared in handlers.notes) has no Api event: run make generate, which "
        "writes it into Resources.NotesFunction.Properties.Events as ReadExample",
        "OPTIONS /notes/{note_id}/example (the CORS preflight every path needs, without the authorizer) has no Api "
        "event: run make generate, which writes it into Resources.NotesFunction.Properties.Events as "
        "PreflightNotesNoteIdExample",
    ]


def test_the_events_make_generate_writes_satisfy_the_check(notes_template, notes_declared):
    fixed = copy.deepcopy(notes_template)
    events = fixed["Resources"]["NotesFunction"]["Properties"]["Events"]
    events.update(template_functions.api_events(fixed, [EXAMPLE, *declarations.preflights([EXAMPLE])], set(events)))
    assert template_problems(fixed, [*notes_declared, EXAMPLE]) == []


def test_a_route_without_an_event_is_reported(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    del broken["Resources"]["NotesFunction"]["Properties"]["Events"]["DeleteNote"]
    assert template_problems(broken, notes_declared) == [
        "DELETE /notes/{note_id} (declared in handlers.notes) has no Api event: run make generate, which writes it "
        "into Resources.NotesFunction.Properties.Events as DeleteNote"
    ]


def test_a_guarded_route_without_the_authorizer_is_reported_with_its_event(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    broken["Resources"]["NotesFunction"]["Properties"]["Events"]["ListNotes"]["Properties"]["Auth"] = {
        "Authorizer": "NONE"
    }
    (problem,) = template_problems(broken, notes_declared)
    assert problem.splitlines()[:2] == [
        "GET /notes must go to NotesFunction behind the authorizer, but the template sends it to NotesFunction "
        "without the authorizer: replace the event in template.yaml under Resources.NotesFunction.Properties.Events:",
        "        ListNotes:",
    ]
    assert "Auth" not in problem
    paste(problem, broken)
    assert template_problems(broken, notes_declared) == []


def test_a_route_sent_to_another_function_is_moved_to_its_own(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    moved = broken["Resources"]["NotesFunction"]["Properties"]["Events"].pop("ListNotes")
    broken["Resources"]["HealthFunction"]["Properties"]["Events"]["ListNotes"] = moved
    (problem,) = template_problems(broken, notes_declared)
    assert problem.splitlines()[0] == (
        "GET /notes must go to NotesFunction behind the authorizer, but the template sends it to HealthFunction "
        "behind the authorizer: remove Resources.HealthFunction.Properties.Events.ListNotes, then: add to "
        "template.yaml under Resources.NotesFunction.Properties.Events:"
    )


def test_a_public_route_behind_the_authorizer_is_reported(source, declared):
    broken = copy.deepcopy(source)
    del broken["Resources"]["HealthFunction"]["Properties"]["Events"]["GetHealth"]["Properties"]["Auth"]
    (problem,) = template_problems(broken, declared)
    assert problem.startswith(
        "GET /health must go to HealthFunction without the authorizer, but the template sends "
        "it to HealthFunction behind the authorizer"
    )
    assert "              Authorizer: NONE" in problem.splitlines()


def test_an_event_no_router_declares_is_reported(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    broken["Resources"]["NotesFunction"]["Properties"]["Events"]["PutNotes"] = {
        "Type": "Api",
        "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/notes", "Method": "PUT"},
    }
    assert template_problems(broken, notes_declared) == [
        "the template routes PUT /notes to NotesFunction, but no router declares it: remove "
        "Resources.NotesFunction.Properties.Events.PutNotes, or declare the route in its handler module "
        "(@router.route('PUT', '/notes'))"
    ]


def test_a_module_without_a_function_asks_for_make_generate_in_one_line(source, declared):
    assert template_problems(source, [*declared, NEW_MODULE]) == [
        "handlers.example declares GET /example, but no function in template.yaml has Handler: "
        "handlers.example.lambda_handler: run make generate, which writes ExampleFunction with its events, its "
        "version parameter and its alarms"
    ]


def test_what_make_generate_writes_for_a_new_module_satisfies_the_check(source, declared):
    fixed = copy.deepcopy(source)
    written = template_functions.blocks(fixed, "handlers.example", "ExampleFunction", [NEW_MODULE])
    for section, blocks in written.items():
        fixed.setdefault(section, {}).update(blocks)
    assert template_problems(fixed, [*declared, NEW_MODULE]) == []
    assert fixed["Resources"]["ExampleFunction"]["Properties"]["Handler"] == "handlers.example.lambda_handler"


def test_a_new_function_whose_code_never_reaches_the_database_gets_no_database_settings(source):
    # shared.router reads MONGODB_URI (shared.config) but does not reach shared.db, so needs no database or secret
    blocks = template_functions.blocks(source, "shared.router", "RouterFunction", [NEW_MODULE])
    properties = blocks["Resources"]["RouterFunction"]["Properties"]
    assert not {"Environment", "Policies", "ReservedConcurrentExecutions"} & set(properties)
    health = template_functions.blocks(source, "handlers.health", "HealthFunction", [])
    assert set(health["Resources"]["HealthFunction"]["Properties"]["Environment"]["Variables"]) == {
        "MONGODB_URI",
        "MONGODB_DATABASE",
    }


def test_a_function_without_an_error_alarm_is_reported_with_one_to_paste(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    del broken["Resources"]["NotesErrorsAlarm"]
    preference = broken["Resources"]["NotesFunction"]["Properties"]["DeploymentPreference"]
    preference["Alarms"] = [{"Ref": "ApiServerErrorsAlarm"}]
    (problem,) = template_problems(broken, notes_declared)
    assert problem.startswith("NotesFunction has no error alarm of its own")
    assert problem.splitlines()[-1] == (
        "then list !Ref NotesErrorsAlarm in NotesFunction's DeploymentPreference.Alarms, as the others do"
    )
    paste(problem, broken)
    assert template_problems(broken, notes_declared) == []


@pytest.mark.parametrize(
    "dimensions",
    [
        [{"Name": "FunctionName", "Value": {"Ref": "NotesFunction"}}],
        [
            {"Name": "FunctionName", "Value": {"Ref": "NotesFunction"}},
            {"Name": "ExecutedVersion", "Value": {"Fn::GetAtt": ["NotesFunctionVersion", "Version"]}},
        ],
    ],
    ids=["function", "executed-version"],
)
def test_an_error_alarm_may_narrow_the_function_to_a_version(notes_template, notes_declared, dimensions):
    changed = copy.deepcopy(notes_template)
    changed["Resources"]["NotesErrorsAlarm"]["Properties"]["Dimensions"] = dimensions
    assert template_problems(changed, notes_declared) == []


def test_an_error_alarm_may_be_metric_math(notes_template, notes_declared):
    changed = copy.deepcopy(notes_template)
    properties = changed["Resources"]["NotesErrorsAlarm"]["Properties"]
    metric = {key: properties.pop(key) for key in ("Namespace", "MetricName", "Dimensions")}
    period, statistic = properties.pop("Period"), properties.pop("Statistic")
    properties["Metrics"] = [
        {"Id": "errors", "ReturnData": True, "MetricStat": {"Metric": metric, "Period": period, "Stat": statistic}}
    ]
    assert template_problems(changed, notes_declared) == []


def test_an_alarm_on_another_metric_is_not_an_error_alarm(notes_template, notes_declared):
    broken = copy.deepcopy(notes_template)
    broken["Resources"]["NotesErrorsAlarm"]["Properties"]["MetricName"] = "Throttles"
    (problem,) = template_problems(broken, notes_declared)
    assert problem.startswith("NotesFunction has no error alarm of its own")


def test_the_authorizers_error_alarm_discounts_the_refusals_and_failures_it_raises(source, declared):
    cfn, evaluator = transformed(source)
    alarm = routes.error_alarms(cfn, evaluator)["AuthorizerFunction"]
    expressions = [
        query["Expression"] for query in source["Resources"][alarm]["Properties"]["Metrics"] if "Expression" in query
    ]
    assert expressions == ["FILL(errors, 0) - FILL(refused, 0) - FILL(failed, 0)"]
    assert routes.check_alarms(source, declared, routes.error_alarms(cfn, evaluator)) == []


# openapi.yaml: derived by make generate, merged with what a person wrote


def generated(routes: list[declarations.Declared], description: dict) -> dict:
    """What ``make generate`` makes of ``description`` for ``routes``, read back from the text it writes."""
    return yaml.safe_load(generate.openapi_text(generate.derived_document(routes, description)))


def test_the_description_agrees_with_the_declarations_and_generating_changes_nothing(declared, description):
    assert openapi.check_openapi(declared) == []
    assert generate.derived_document(declared, description) == description


def test_a_new_route_names_the_command_and_generating_satisfies_the_check(notes_declared, notes_description):
    assert openapi.check_openapi([*notes_declared, EXAMPLE], notes_description) == [
        "openapi.yaml does not describe GET /notes/{note_id}/example: run make generate (it writes "
        "paths./notes/{note_id}/example.get from the declaration)"
    ]
    fixed = generated([*notes_declared, EXAMPLE], notes_description)
    assert openapi.check_openapi([*notes_declared, EXAMPLE], fixed) == []


def test_a_generated_operation_reuses_the_parameters_description_and_lists_the_answers_the_code_gives(
    notes_declared, notes_description
):
    operation = generated([*notes_declared, EXAMPLE], notes_description)["paths"]["/notes/{note_id}/example"]["get"]
    assert operation["operationId"] == "readExample" and operation["summary"] == "An example"
    assert operation["parameters"][0] == notes_description["paths"]["/notes/{note_id}"]["get"]["parameters"][0]
    assert sorted(operation["responses"]) == ["200", "401", "403", "503"]


def test_a_post_is_documented_as_201_with_location_and_its_body_schema(declared, description):
    fixed = generated([*declared, CREATE_NOTE], description)
    operation = fixed["paths"]["/notes"]["post"]
    assert sorted(operation["responses"]) == ["201", "400", "401", "403", "413", "415", "503"]
    assert operation["responses"]["201"]["headers"]["Location"]["required"] is True
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Note"}
    assert fixed["components"]["schemas"]["Note"] == NOTE.json_schema()
    assert openapi.check_openapi([*declared, CREATE_NOTE], fixed) == []


def test_a_path_parameter_is_described_by_its_declared_field(declared, description):
    operation = generated([*declared, READ_NOTE], description)["paths"]["/notes/{note_id}"]["get"]
    assert operation["parameters"] == [
        {"name": "note_id", "in": "path", "required": True, "schema": NOTE_ID.json_schema()}
    ]


def test_a_new_public_route_is_documented_without_security(declared, description):
    fixed = generated([*declared, NEW_MODULE], description)
    assert fixed["paths"]["/example"]["get"]["security"] == []
    assert openapi.check_openapi([*declared, NEW_MODULE], fixed) == []


def test_a_new_method_on_a_documented_path_goes_under_that_path_with_its_status(declared, description):
    documented = generated([*declared, *NOTES[:3]], description)
    assert set(documented["paths"]["/notes/{note_id}"]) == {"get"}
    fixed = generated([*declared, *NOTES], documented)
    assert set(fixed["paths"]["/notes/{note_id}"]) == {"get", "delete"}
    assert "204" in fixed["paths"]["/notes/{note_id}"]["delete"]["responses"]
    assert "200" not in fixed["paths"]["/notes/{note_id}"]["delete"]["responses"]


def test_a_public_route_documented_with_a_token_is_named_and_generating_fixes_it(declared, description):
    broken = copy.deepcopy(description)
    del broken["paths"]["/health"]["get"]["security"]
    assert openapi.check_openapi(declared, broken) == [
        "openapi.yaml: paths./health.get differs from the declaration of GET /health in security: run make generate"
    ]
    assert generated(declared, broken) == description


def test_a_guarded_route_documented_without_a_token_is_named_and_generating_fixes_it(notes_declared, notes_description):
    broken = copy.deepcopy(notes_description)
    broken["paths"]["/notes"]["get"]["security"] = []
    assert openapi.check_openapi(notes_declared, broken) == [
        "openapi.yaml: paths./notes.get differs from the declaration of GET /notes in security: run make generate"
    ]
    assert generated(notes_declared, broken) == notes_description


def test_an_undescribed_path_parameter_is_named_and_generating_adds_it(notes_declared, notes_description):
    broken = copy.deepcopy(notes_description)
    operation = broken["paths"]["/notes/{note_id}"]["get"]
    operation["parameters"] = [parameter for parameter in operation["parameters"] if parameter.get("in") != "path"]
    assert openapi.check_openapi(notes_declared, broken) == [
        "openapi.yaml: paths./notes/{note_id}.get differs from the declaration of GET /notes/{note_id} in "
        "parameters: run make generate"
    ]
    fixed = generated(notes_declared, broken)
    assert {"name": "note_id", "in": "path", "required": True, "schema": NOTE_ID.json_schema()} in (
        fixed["paths"]["/notes/{note_id}"]["get"]["parameters"]
    )
    assert openapi.check_openapi(notes_declared, fixed) == []


def test_path_level_parameters_describe_the_path_parameters_of_every_operation(declared, description):
    routes = [*declared, READ_NOTE]
    moved = generated(routes, description)
    operation = moved["paths"]["/notes/{note_id}"]["get"]
    parameter = next(parameter for parameter in operation["parameters"] if parameter.get("in") == "path")
    operation["parameters"].remove(parameter)
    moved["paths"]["/notes/{note_id}"]["parameters"] = [parameter]
    assert openapi.check_openapi(routes, moved) == []
    assert generate.derived_document(routes, moved) == moved


def test_what_a_person_wrote_survives_regeneration(declared, description):
    written = generated([*declared, CREATE_NOTE], description)
    operation = written["paths"]["/notes"]["post"]
    operation.update(summary="Write a note", description="Kept as written.", tags=["notes"])
    operation["responses"]["409"] = {"$ref": "#/components/responses/Problem"}
    operation["requestBody"]["content"]["application/json"]["examples"] = {"short": {"value": {"title": "Milk"}}}
    written["components"]["schemas"]["Note"]["properties"]["title"]["description"] = "What the note is about."
    written["info"]["description"] = "My own API."
    assert generated([*declared, CREATE_NOTE], written) == written


def test_a_changed_schema_is_named_and_regenerated_as_declared_keeping_descriptions(declared, description):
    written = generated([*declared, CREATE_NOTE], description)
    properties = written["components"]["schemas"]["Note"]["properties"]
    properties["title"].update(maxLength=5, description="What the note is about.")
    properties["colour"] = {"type": "string"}
    assert openapi.check_openapi([*declared, CREATE_NOTE], written) == [
        "openapi.yaml: components.schemas.Note differs from the Schema Note the routes declare: run make generate"
    ]
    fixed = generated([*declared, CREATE_NOTE], written)
    assert set(fixed["components"]["schemas"]["Note"]["properties"]) == set(NOTE.fields)
    assert fixed["components"]["schemas"]["Note"]["properties"]["title"] == {
        **NOTE.fields["title"].json_schema(),
        "description": "What the note is about.",
    }


def test_an_operation_no_router_declares_is_reported(notes_declared, notes_description):
    broken = copy.deepcopy(notes_description)
    broken["paths"]["/notes"]["put"] = {"responses": {"200": {"description": "made"}}}
    assert openapi.check_openapi(notes_declared, broken) == [
        "openapi.yaml describes PUT /notes, which no router declares: remove paths./notes.put, or declare the route"
    ]


def test_the_written_file_reads_back_as_the_document():
    description = yaml.safe_load(openapi.OPENAPI.read_text())
    assert yaml.safe_load(generate.openapi_text(description)) == description


def test_a_key_written_twice_is_one_line_naming_both_places():
    text = "paths:\n  /notes:\n    get: {}\n  /notes:\n    post: {}\n"
    assert yamlkeys.duplicate_keys(text, "openapi.yaml") == [
        "openapi.yaml line 4: paths./notes appears twice (first at line 2): merge the two into one (YAML keeps only "
        "the last)"
    ]


def test_duplicate_keys_are_found_under_any_tag():
    text = "Resources:\n  Fn:\n    Properties: !If [A, {X: 1}, {X: 2}]\n  Fn:\n    Type: B\n"
    assert [line.split(":")[0] for line in yamlkeys.duplicate_keys(text, "template.yaml")] == ["template.yaml line 4"]


def test_the_files_have_no_key_twice():
    assert yamlkeys.check_file(openapi.OPENAPI) == [] and yamlkeys.check_file(samtemplate.TEMPLATE) == []


# events/: the missing ones written by make generate


def test_event_files_are_named_after_their_route():
    names = {
        str(route): generate.event_name(route)
        for route in [
            *NOTES,
            declarations.Declared("GET", "/users/{user_id}", False, "m", "e"),
            declarations.Declared("DELETE", "/me", False, "m", "e"),
            declarations.Declared("GET", "/users", False, "m", "e"),
            declarations.Declared("GET", "/notes/{note_id}/comments", False, "m", "e"),
        ]
    }
    assert names == {
        "POST /notes": "notes-post.json",
        "GET /notes": "notes.json",
        "GET /notes/{note_id}": "note.json",
        "DELETE /notes/{note_id}": "note-delete.json",
        "GET /users/{user_id}": "user.json",
        "DELETE /me": "me-delete.json",
        "GET /users": "users.json",
        "GET /notes/{note_id}/comments": "note-comments.json",
    }


def test_a_route_without_events_names_the_command_for_both(declared):
    events = event_files.event_files()
    assert event_files.check_event_files([*declared, READ_NOTE], events) == [
        "GET /notes/{note_id} has no REST API (1.0) and no HTTP API (2.0) event (make invoke, the benchmark and the "
        "tests run each one): run make generate (it writes events/note.json, events/v2/note.json)"
    ]


def test_a_route_without_its_http_api_event_names_the_one_file(tmp_path):
    events = notes_events(NOTES, tmp_path)
    del events["events/v2/note-delete.json"]
    assert event_files.check_event_files(NOTES, events) == [
        "DELETE /notes/{note_id} has no HTTP API (2.0) event (make invoke, the benchmark and the tests run each one): "
        "run make generate (it writes events/v2/note-delete.json)"
    ]


def test_generated_events_pass_the_check_with_valid_ids_and_bodies(declared, tmp_path):
    written = generate.missing_events([*declared, *NOTES])
    assert sorted(str(path.relative_to(event_files.EVENTS.parent)) for path in written) == [
        "events/note-delete.json",
        "events/note.json",
        "events/notes-post.json",
        "events/notes.json",
        "events/v2/note-delete.json",
        "events/v2/note.json",
        "events/v2/notes-post.json",
        "events/v2/notes.json",
    ]
    events = event_files.event_files()
    events.update({str(path.relative_to(event_files.EVENTS.parent)): event for path, (_, event) in written.items()})
    assert event_files.check_event_files([*declared, *NOTES], events) == []
    post = events["events/notes-post.json"]
    assert json.loads(post["body"]) == NOTE.example() and post["headers"]["Content-Type"] == "application/json"
    assert events["events/v2/note.json"]["pathParameters"] == {"note_id": NOTE_ID.example()}
    assert events["events/note-delete.json"]["body"] is None


def test_the_generator_writes_the_existing_events_of_routes_without_parameters_as_they_are(declared):
    events = event_files.event_files()
    plain = [
        route
        for route in declared
        if not declarations.path_parameters(route.path) and not route.body and not route.query
    ]
    assert plain
    for route in plain:
        name = generate.event_name(route)
        assert generate.rest_event(route) == events[f"events/{name}"]
        assert generate.http_event(route) == events[f"events/v2/{name}"]


def test_an_event_whose_id_fails_the_param_check_is_reported(declared):
    events = {
        f"events/{path.name}": event
        for path, (_, event) in generate.missing_events([READ_NOTE], event_files.EVENTS / "none").items()
        if path.parent.name != "v2"
    }
    events["events/note.json"] = merged(
        events["events/note.json"],
        {
            "path": "/notes/example",
            "pathParameters": {"note_id": "example"},
            "requestContext": {"path": "/dev/notes/example"},
        },
    )
    assert event_files.check_event_files([READ_NOTE], events)[0] == (
        f"events/note.json: its note_id 'example' fails the route's check (must match ^[0-9a-f]{{24}}$): use the "
        f"Field's example {NOTE_ID.example()!r}"
    )


def test_an_event_whose_id_is_the_placeholder_asks_for_a_field_with_an_example(declared):
    undeclared = declarations.Declared("GET", "/notes/{note_id}", False, "handlers.notes", "read_note", "One note")
    events = {
        f"events/{path.name}": event
        for path, (_, event) in generate.missing_events([undeclared], event_files.EVENTS / "none").items()
        if path.parent.name != "v2"
    }
    assert events["events/note.json"]["pathParameters"] == {"note_id": "example"}
    assert event_files.check_event_files([undeclared], events)[0] == (
        "events/note.json: its note_id is the placeholder 'example', which names nothing: declare "
        "params={'note_id': String(..., example=<a real id>)} on GET /notes/{note_id}, then delete the file and run "
        "make generate; or set a real id in it"
    )


def test_an_event_without_the_body_its_route_takes_is_reported(declared):
    events = {
        f"events/{path.name}": event
        for path, (_, event) in generate.missing_events([CREATE_NOTE], event_files.EVENTS / "none").items()
        if path.parent.name != "v2"
    }
    event = events["events/notes-post.json"]
    event["body"] = None
    del event["headers"]["Content-Type"]
    problems = event_files.check_event_files([CREATE_NOTE], events)
    assert problems[0].startswith("events/notes-post.json: its body does not fit the Schema Note of POST /notes (")
    assert problems[1] == (
        "events/notes-post.json: POST /notes takes a JSON body, but the event has no JSON "
        'Content-Type: add "Content-Type": "application/json" to its headers'
    )


def test_an_event_for_an_undeclared_route_is_reported(tmp_path):
    events = notes_events(NOTES, tmp_path)
    events["events/notes.json"] = merged(events["events/notes.json"], {"httpMethod": "PUT"})
    problems = event_files.check_event_files(NOTES, events)
    assert problems[0] == (
        "events/notes.json is an event for PUT /notes (its httpMethod and resource), which no router "
        "declares: point it at a declared route, or delete it"
    )


def test_an_event_whose_path_does_not_fit_its_resource_is_reported(tmp_path):
    events = notes_events([READ_NOTE], tmp_path)
    path = f"/notes/{NOTE_ID.example()}/photo"
    events["events/note.json"] = merged(events["events/note.json"], {"path": path})
    assert event_files.check_event_files([READ_NOTE], events) == [
        f"events/note.json: its path '{path}' does not fit /notes/{{note_id}}: set path to a path that does"
    ]


def test_an_event_whose_parameters_disagree_with_its_path_is_reported(tmp_path):
    events = notes_events([READ_NOTE], tmp_path)
    other = "0123456789abcdef01234567"
    events["events/note.json"] = merged(
        events["events/note.json"], {"path": f"/notes/{other}", "requestContext": {"path": f"/dev/notes/{other}"}}
    )
    assert event_files.check_event_files([READ_NOTE], events) == [
        f'events/note.json: its pathParameters are {{"note_id": "{NOTE_ID.example()}"}}, but its path '
        f'/notes/{other} gives {{"note_id": "{other}"}}: set "pathParameters": {{"note_id": "{other}"}}'
    ]


def test_an_event_whose_request_context_names_another_route_is_reported(tmp_path):
    events = notes_events(NOTES, tmp_path)
    events["events/notes.json"] = merged(
        events["events/notes.json"], {"requestContext": {"resourcePath": "/notes/{note_id}"}}
    )
    assert event_files.check_event_files(NOTES, events) == [
        "events/notes.json: requestContext.resourcePath is '/notes/{note_id}', but the event is for '/notes': set it "
        "to '/notes'"
    ]


def test_percent_encoded_paths_give_decoded_parameters(tmp_path):
    unchecked = declarations.Declared("GET", "/notes/{note_id}", False, "handlers.notes", "read_note", "One note")
    events = notes_events([unchecked], tmp_path)
    events["events/note.json"] = merged(
        events["events/note.json"],
        {
            "path": "/notes/al%20ice",
            "pathParameters": {"note_id": "al ice"},
            "requestContext": {"path": "/dev/notes/al%20ice"},
        },
    )
    events["events/v2/note.json"] = merged(
        events["events/v2/note.json"],
        {
            "rawPath": "/notes/al%20ice",
            "pathParameters": {"note_id": "al ice"},
            "requestContext": {"http": {"path": "/notes/al%20ice"}},
        },
    )
    assert event_files.check_event_files([unchecked], events) == []


# snippets


def test_blocks_use_the_templates_short_tags_and_load_back_as_they_were(notes_template):
    function = notes_template["Resources"]["NotesFunction"]
    block = yaml_block(function, indent=4)
    alarms = "        Alarms: !If [IsProduction, [!Ref NotesErrorsAlarm, !Ref NotesServerErrorsAlarm], []]"
    assert alarms in block.splitlines()
    assert samtemplate.loads(textwrap.dedent(block)) == function

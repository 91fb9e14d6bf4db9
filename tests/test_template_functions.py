"""make generate writes each handler module's function into template.yaml from one skeleton.

The checks of tools/checks/routes.py judge the result: a template written by the generator leaves them nothing to say.
"""

from __future__ import annotations

import pytest

from tools import samtemplate, template_functions
from tools.checks import declarations, routes, sam
from tools.samtemplate import Evaluator

NOTES = [
    declarations.Declared("GET", "/notes", False, "handlers.notes", "list_notes", "My notes"),
    declarations.Declared("DELETE", "/notes/{note_id}", False, "handlers.notes", "delete_note", "Delete one"),
]
PING = declarations.Declared("GET", "/ping", True, "handlers.ping", "read_ping", "A pong")


@pytest.fixture(scope="module")
def declared() -> list[declarations.Declared]:
    return declarations.declared_routes()


@pytest.fixture(scope="module")
def text() -> str:
    return samtemplate.TEMPLATE.read_text()


def generate(text: str, routes_: list[declarations.Declared], handlers=declarations.HANDLERS) -> str:
    return template_functions.generated(text, routes_, samtemplate.loads(text), handlers=handlers)


def template_problems(template: dict, declared: list[declarations.Declared]) -> list[str]:
    values = sam.parameter_values(template, {})
    cfn = sam.translate(template, values)
    evaluator = Evaluator(cfn, values)
    alarms = routes.error_alarms(cfn, evaluator)
    return (
        routes.check_functions(template, declared)
        + routes.check_template_events(template, cfn, evaluator, declared)
        + routes.check_alarms(template, declared, alarms)
    )


def test_cutting_a_template_into_entries_and_joining_them_gives_it_back(text):
    lines = text.splitlines()
    assert template_functions.join(template_functions.split(lines, 0)) == lines
    assert template_functions.join(template_functions.split(lines[1:], 2)) == lines[1:]


def test_generating_the_repository_template_changes_nothing(text, declared):
    assert generate(text, declared) == text


def test_a_new_module_gets_its_parameter_function_events_and_alarms_from_the_skeleton(text, declared):
    written = samtemplate.loads(generate(text, declared + NOTES))
    assert "NotesFunctionRevision" in written["Parameters"]
    function = written["Resources"]["NotesFunction"]["Properties"]
    assert function["Handler"] == "handlers.notes.lambda_handler"
    assert {(event["Properties"]["Method"], event["Properties"]["Path"]) for event in function["Events"].values()} == {
        ("GET", "/notes"),
        ("DELETE", "/notes/{note_id}"),
        ("OPTIONS", "/notes"),
        ("OPTIONS", "/notes/{note_id}"),
    }
    for alarm in ("NotesErrorsAlarm", "NotesServerErrorsAlarm"):
        assert written["Resources"][alarm]["Type"] == "AWS::CloudWatch::Alarm"


def test_a_written_template_leaves_the_route_checks_nothing_to_say(text, declared):
    assert (
        template_problems(samtemplate.loads(generate(text, declared + NOTES + [PING])), declared + NOTES + [PING]) == []
    )


def test_a_public_route_is_written_without_the_authorizer(text, declared):
    events = samtemplate.loads(generate(text, [*declared, PING]))["Resources"]["PingFunction"]["Properties"]["Events"]
    assert all(event["Properties"]["Auth"] == {"Authorizer": "NONE"} for event in events.values())


def test_writing_twice_gives_what_writing_once_gave(text, declared):
    once = generate(text, declared + NOTES)
    assert generate(once, declared + NOTES) == once


def test_what_a_person_tunes_on_a_function_survives_and_what_the_skeleton_owns_is_restored(text, declared):
    once = generate(text, declared + NOTES)
    tuned = once.replace(
        "      CodeUri: build/NotesFunction.zip\n",
        "      CodeUri: elsewhere.zip\n      MemorySize: 2048  # big listings\n      Timeout: 20\n",
    )
    again = generate(tuned, declared + NOTES)
    properties = samtemplate.loads(again)["Resources"]["NotesFunction"]["Properties"]
    assert (properties["CodeUri"], properties["MemorySize"], properties["Timeout"]) == (
        "build/NotesFunction.zip",
        2048,
        20,
    )
    assert "MemorySize: 2048  # big listings" in again


def test_an_edited_environment_stays_as_written(text, declared):
    once = generate(text, declared + NOTES)
    edited = once.replace(
        "          MONGODB_DATABASE: !Ref MongoDbDatabase\n      Policies:",
        '          MONGODB_DATABASE: !Ref MongoDbDatabase\n          NOTES_LIMIT: "50"\n      Policies:',
        1,
    )
    assert "NOTES_LIMIT" in edited
    assert generate(edited, declared + NOTES) == edited


def test_an_existing_event_keeps_its_name_and_its_other_properties(text, declared):
    once = generate(text, declared + NOTES)
    named = once.replace("        ListNotes:\n", "        MyNotes:\n")
    written = samtemplate.loads(generate(named, declared + NOTES))
    assert "MyNotes" in written["Resources"]["NotesFunction"]["Properties"]["Events"]
    assert "ListNotes" not in written["Resources"]["NotesFunction"]["Properties"]["Events"]


def test_an_event_of_a_route_no_longer_declared_is_removed(text, declared):
    once = generate(text, declared + NOTES)
    events = samtemplate.loads(generate(once, declared + NOTES[:1]))["Resources"]["NotesFunction"]["Properties"]
    assert {event["Properties"]["Path"] for event in events["Events"].values()} == {"/notes"}


def test_the_function_of_a_module_that_is_gone_is_removed_with_its_parameter_and_alarms(text, declared, tmp_path):
    handlers = tmp_path / "handlers"
    handlers.mkdir()
    with_notes = generate(text, declared + NOTES)
    kept = [route for route in declared if route.module != "handlers.notes"]
    for route in kept:
        (handlers / f"{route.module.rpartition('.')[2]}.py").write_text("")
    written = samtemplate.loads(generate(with_notes, kept, handlers=handlers))
    assert not {"NotesFunction", "NotesErrorsAlarm", "NotesServerErrorsAlarm"} & set(written["Resources"])
    assert "NotesFunctionRevision" not in written["Parameters"]
    assert generate(with_notes, kept, handlers=handlers) == text


GENERATORS_AND_CHECKS = (
    "tools.generate",
    "tools.template_functions",
    "tools.httpapi",
    "tools.events",
    "tools.checks.openapi",
    "tools.checks.event_files",
    "tools.checks.routes",
    "tools.checks.dashboard",
    "tools.checks.emitted",
)


def imported(module: str) -> set[str]:
    """The modules of :data:`GENERATORS_AND_CHECKS` that ``module`` imports, at its top or inside a function."""
    from tools.checks import imports

    path = imports.module_path(module)
    names = imports.imported_names(path.read_text(encoding="utf-8"), module.rpartition(".")[0])
    return {name for name, _lazy in names if name in GENERATORS_AND_CHECKS and name != module}


def test_the_generators_and_the_checks_import_each_other_without_a_loop():
    graph = {module: imported(module) for module in GENERATORS_AND_CHECKS}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(
            name == target or (name not in seen and reaches(name, target, seen | {name})) for name in graph[start]
        )

    assert [module for module in graph if reaches(module, module, set())] == []

"""make generate: openapi.yaml and events/ written from the route declarations, merged with what a person wrote."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from shared import errors
from shared.schema import Boolean, Enum, Integer, List, Object, Schema, String
from tools import generate
from tools.checks import declarations, event_files, openapi

NOTE = Schema("Note", {"title": String(min_length=1, max_length=100, required=True, example="Groceries")})
NOTE_ID = {"note_id": String(pattern="[0-9a-f]{24}", example="65f1a0c2e4b0a1b2c3d4e5f6")}
NOTES = [
    declarations.Declared("POST", "/notes", False, "handlers.notes", "create_note", "Write a note", NOTE),
    declarations.Declared("GET", "/notes/{note_id}", False, "handlers.notes", "read_note", "One note", None, NOTE_ID),
]


@pytest.fixture(scope="module")
def declared() -> list[declarations.Declared]:
    return declarations.declared_routes()


@pytest.fixture
def description_file(tmp_path):
    path = tmp_path / "openapi.yaml"
    shutil.copy(openapi.OPENAPI, path)
    return path


@pytest.fixture
def events_folder(tmp_path):
    folder = tmp_path / "events"
    shutil.copytree(event_files.EVENTS, folder)
    return folder


def test_the_repository_is_what_the_generator_makes_of_it(declared, description_file, events_folder):
    assert generate.write_openapi(declared, description_file) is False
    assert description_file.read_bytes() == openapi.OPENAPI.read_bytes()
    assert generate.write_events(declared, events_folder) == []


def test_a_new_route_is_written_into_the_file_and_a_second_run_changes_nothing(declared, description_file):
    assert generate.write_openapi([*declared, *NOTES], description_file) is True
    written = yaml.safe_load(description_file.read_text())
    assert openapi.check_openapi([*declared, *NOTES], written) == []
    assert set(written["paths"]["/notes"]) == {"post"} and "Note" in written["components"]["schemas"]
    text = description_file.read_text()
    assert generate.write_openapi([*declared, *NOTES], description_file) is False
    assert description_file.read_text() == text


def test_the_operations_of_a_route_no_longer_declared_are_removed_and_the_others_kept(description_file):
    generate.write_openapi(NOTES, description_file)
    assert generate.write_openapi(NOTES[:1], description_file) is True
    written = yaml.safe_load(description_file.read_text())
    assert set(written["paths"]) == {"/notes"} and set(written["paths"]["/notes"]) == {"post"}
    assert openapi.check_openapi(NOTES[:1], written) == []


def test_the_existing_operations_keep_their_place_and_their_text(declared, description_file):
    generate.write_openapi([*declared, *NOTES], description_file)
    before, after = yaml.safe_load(openapi.OPENAPI.read_text()), yaml.safe_load(description_file.read_text())
    assert list(after["paths"])[: len(before["paths"])] == list(before["paths"])
    assert {key: after[key] for key in before if key != "paths" and key != "components"} == {
        key: before[key] for key in before if key != "paths" and key != "components"
    }
    assert all(after["paths"][path] == item for path, item in before["paths"].items())


def test_a_reference_a_person_chose_stays_in_place_of_the_derived_schema():
    mine = {"responses": {"200": {"$ref": "#/components/responses/OwnProfile"}}}
    derived = {"responses": {"200": {"description": "x", "content": {"application/json": {"schema": {}}}}}}
    assert generate.merged(mine, derived) == mine


def test_prose_is_kept_only_where_it_is_a_keyword_not_a_field_name():
    mine = {"properties": {"description": {"type": "integer", "description": "Mine."}}}
    derived = {"properties": {"description": {"type": "string", "description": "Declared."}}}
    assert generate.merged(mine, derived, parent="") == {
        "properties": {"description": {"type": "string", "description": "Mine."}}
    }


def test_missing_events_are_written_and_existing_ones_never_rewritten(declared, events_folder):
    (events_folder / "me.json").write_text('{"edited": "by hand"}\n')
    written = generate.write_events([*declared, *NOTES], events_folder)
    assert sorted(path.relative_to(events_folder).as_posix() for path in written) == [
        "note.json",
        "notes-post.json",
        "v2/note.json",
        "v2/notes-post.json",
    ]
    assert json.loads((events_folder / "me.json").read_text()) == {"edited": "by hand"}
    post = json.loads((events_folder / "notes-post.json").read_text())
    assert (post["httpMethod"], post["resource"], json.loads(post["body"])) == ("POST", "/notes", NOTE.example())
    assert generate.write_events([*declared, *NOTES], events_folder) == []


def test_a_taken_file_name_gets_a_number(declared, events_folder):
    (events_folder / "note.json").write_text(
        json.dumps(
            generate.rest_event(declarations.Declared("GET", "/users/{user_id}", False, "handlers.users", "read_user"))
        )
    )
    written = generate.missing_events([*declared, NOTES[1]], events_folder)
    assert [path.name for path in written if path.parent == events_folder] == ["note-2.json"]


# What a route uses implies the statuses it can answer; the errors it raises are named on it

TICKET = Schema("Ticket", {"title": String(min_length=1, max_length=100, required=True, example="Door")})
TICKET_QUERY = {
    "status": List(Enum(["open", "closed"]), max_items=2),
    "limit": Integer(minimum=1, maximum=50, default=10),
}


def ticket_route(method: str, path: str, **declared) -> declarations.Declared:
    return declarations.Declared(
        method, path, False, "handlers.tickets", f"{method.lower()}_ticket", "A ticket", **declared
    )


def operation_of(route: declarations.Declared) -> dict:
    document = generate.derived_document([route], {"openapi": "3.1.0", "paths": {}})
    return yaml.safe_load(generate.openapi_text(document))["paths"][route.path][route.method.lower()]


def test_query_parameters_are_documented_from_their_fields_with_their_400():
    found = operation_of(ticket_route("GET", "/tickets", query=TICKET_QUERY))
    assert found["parameters"] == [
        {
            "name": "status",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"enum": ["open", "closed"]}, "maxItems": 2},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        },
    ]
    assert sorted(found["responses"]) == ["200", "400", "401", "403", "503"]


def test_a_conditional_read_documents_if_none_match_its_etag_and_304():
    found = operation_of(ticket_route("GET", "/tickets/{ticket_id}", conditional=True))
    assert [parameter["name"] for parameter in found["parameters"]] == ["ticket_id", "If-None-Match"]
    assert "ETag" in found["responses"]["200"]["headers"] and "304" in found["responses"]


def test_a_conditional_write_documents_if_match_and_412():
    found = operation_of(ticket_route("PATCH", "/tickets/{ticket_id}", body=TICKET.patch(), conditional=True))
    assert found["parameters"][-1]["name"] == "If-Match"
    assert sorted(found["responses"]) == ["200", "400", "401", "403", "412", "413", "415", "503"]


def test_the_errors_a_route_names_are_documented_with_their_statuses_and_no_other():
    named = ticket_route("POST", "/tickets/{ticket_id}/close", status=200, errors=(errors.NotFound, errors.Conflict))
    assert sorted(operation_of(named)["responses"]) == ["200", "401", "403", "404", "409", "503"]
    assert operation_of(named)["responses"]["409"] == {"description": "Conflict"}


def test_an_object_field_is_written_inline_in_its_component_schema():
    order = Schema("Order", {"items": List(Object(TICKET), required=True)})
    route = ticket_route("POST", "/orders", body=order)
    document = generate.derived_document([route], {"openapi": "3.1.0", "paths": {}})
    assert document["components"]["schemas"]["Order"]["properties"]["items"]["items"] == TICKET.json_schema()


def test_the_events_of_a_route_carry_its_required_query_parameters_as_api_gateway_passes_them():
    route = ticket_route(
        "GET",
        "/tickets",
        query={
            "status": List(Enum(["open", "closed"]), min_items=1, required=True),
            "mine": Boolean(required=True),
            "limit": Integer(default=10),
        },
    )
    rest, http = generate.rest_event(route), generate.http_event(route)
    assert rest["multiValueQueryStringParameters"] == {"status": ["open"], "mine": ["true"]}
    assert rest["queryStringParameters"] == {"status": "open", "mine": "true"}
    assert (http["rawQueryString"], http["queryStringParameters"]) == (
        "status=open&mine=true",
        {"status": "open", "mine": "true"},
    )


def test_an_event_whose_query_fails_the_routes_check_is_named():
    route = ticket_route("GET", "/tickets", query={"limit": Integer(minimum=1, maximum=50)})
    event = generate.rest_event(route)
    event["multiValueQueryStringParameters"] = {"limit": ["500"]}
    assert event_files.check_example_values("events/tickets.json", event, route) == [
        "events/tickets.json: its query fails the route's check (limit must be from 1 to 50): set it as API Gateway "
        "passes a valid one, or delete the file and run make generate"
    ]


def test_a_conditional_write_that_answers_a_body_documents_its_new_etag():
    found = operation_of(ticket_route("PATCH", "/tickets/{ticket_id}", body=TICKET.patch(), conditional=True))
    assert found["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert (
        "headers"
        not in operation_of(ticket_route("DELETE", "/tickets/{ticket_id}", conditional=True))["responses"]["204"]
    )


def test_an_event_path_carries_each_typed_parameter_as_the_text_its_field_reads():
    route = ticket_route(
        "GET",
        "/boards/{board_id}/cards/{index}/{done}",
        params={"board_id": String(example="b1"), "index": Integer(example=0), "done": Boolean(example=False)},
    )
    assert generate.example_path(route) == (
        "/boards/b1/cards/0/false",
        {"board_id": "b1", "index": "0", "done": "false"},
    )

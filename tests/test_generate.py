"""make generate: openapi.yaml and events/ written from the route declarations, merged with what a person wrote."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from shared.schema import Schema, String
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


def test_the_existing_operations_keep_their_place_and_their_text(declared, description_file):
    generate.write_openapi([*declared, *NOTES], description_file)
    before, after = yaml.safe_load(openapi.OPENAPI.read_text()), yaml.safe_load(description_file.read_text())
    assert list(after["paths"])[:len(before["paths"])] == list(before["paths"])
    assert {key: after[key] for key in before if key != "paths" and key != "components"} == {
        key: before[key] for key in before if key != "paths" and key != "components"}
    assert all(after["paths"][path] == item for path, item in before["paths"].items())


def test_a_reference_a_person_chose_stays_in_place_of_the_derived_schema():
    mine = {"responses": {"200": {"$ref": "#/components/responses/OwnProfile"}}}
    derived = {"responses": {"200": {"description": "x", "content": {"application/json": {"schema": {}}}}}}
    assert generate.merged(mine, derived) == mine


def test_prose_is_kept_only_where_it_is_a_keyword_not_a_field_name():
    mine = {"properties": {"description": {"type": "integer", "description": "Mine."}}}
    derived = {"properties": {"description": {"type": "string", "description": "Declared."}}}
    assert generate.merged(mine, derived, parent="") == {
        "properties": {"description": {"type": "string", "description": "Mine."}}}


def test_missing_events_are_written_and_existing_ones_never_rewritten(declared, events_folder):
    (events_folder / "me.json").write_text('{"edited": "by hand"}\n')
    written = generate.write_events([*declared, *NOTES], events_folder)
    assert sorted(path.relative_to(events_folder).as_posix() for path in written) == [
        "note.json", "notes-post.json", "v2/note.json", "v2/notes-post.json"]
    assert json.loads((events_folder / "me.json").read_text()) == {"edited": "by hand"}
    post = json.loads((events_folder / "notes-post.json").read_text())
    assert (post["httpMethod"], post["resource"], json.loads(post["body"])) == ("POST", "/notes", NOTE.example())
    assert generate.write_events([*declared, *NOTES], events_folder) == []


def test_a_taken_file_name_gets_a_number(declared, events_folder):
    (events_folder / "note.json").write_text(json.dumps(generate.rest_event(declarations.Declared(
        "GET", "/users/{user_id}", False, "handlers.users", "read_user"))))
    written = generate.missing_events([*declared, NOTES[1]], events_folder)
    assert [path.name for path in written if path.parent == events_folder] == ["note-2.json"]

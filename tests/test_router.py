"""The router: matching, 404/405, payload versions, encoded parameters, and the last line of defence."""

import json

import pytest

from shared import errors
from shared.responses import Response, created, json_response
from shared.router import Route, Router, compile_template
from shared.schema import Boolean, Enum, Integer, List, Schema, String
from tests.apigw import http_event, http_lambda_authorizer, parsed, rest_authorizer, rest_event

router = Router("example")


@router.get("/things/{thing_id}", public=True)
def read_thing(request):
    return json_response({"id": request.path_params["thing_id"], "route": request.route})


@router.delete("/things/{thing_id}", public=True)
def delete_thing(request):
    raise errors.Conflict("cannot delete this one")


@router.get("/boom", public=True)
def boom(request):
    raise RuntimeError("secret connection string mongodb://user:pw@host")


def test_template_parameters_become_named_groups():
    assert compile_template("/users/{user_id}").match("/users/u-1").groupdict() == {"user_id": "u-1"}


def test_template_parameter_does_not_cross_slashes():
    assert compile_template("/users/{user_id}").match("/users/a/b") is None


def test_matching_route_receives_path_parameters():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/t1"), None))
    assert (status, body) == (200, {"id": "t1", "route": "/things/{thing_id}"})


def test_trailing_slash_matches_the_same_route():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/t1/"), None))
    assert (status, body["id"]) == (200, "t1")


def test_unknown_path_is_404_problem():
    status, headers, body = parsed(router.dispatch(rest_event("GET", "/nowhere"), None))
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 404 and body["instance"] == "/nowhere" and body["request_id"] == "req-1"


def test_known_path_with_other_method_is_405_with_allow():
    status, headers, body = parsed(router.dispatch(rest_event("PUT", "/things/t1"), None))
    assert status == 405
    assert headers["allow"] == "DELETE, GET, OPTIONS"
    assert body["title"] == "Method Not Allowed"


def test_head_is_not_served_because_the_template_routes_none():
    status, headers, _ = parsed(router.dispatch(rest_event("HEAD", "/things/t1"), None))
    assert (status, headers["allow"]) == (405, "DELETE, GET, OPTIONS")


def test_options_lists_the_methods_without_head():
    status, headers, _ = parsed(router.dispatch(rest_event("OPTIONS", "/things/t1"), None))
    assert (status, headers["allow"]) == (204, "DELETE, GET, OPTIONS")


def test_a_rest_api_path_parameter_is_percent_decoded():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/caf%C3%A9%20au%20lait"), None))
    assert (status, body["id"]) == (200, "café au lait")


def test_an_encoded_slash_stays_inside_one_rest_api_parameter():
    status, _, body = parsed(router.dispatch(rest_event("GET", "/things/a%2Fb"), None))
    assert (status, body["id"]) == (200, "a/b")


def test_an_http_api_path_parameter_is_already_decoded_and_not_decoded_twice():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/100%25 sure"), None))
    assert (status, body["id"]) == (200, "100%25 sure")


def test_http_error_becomes_its_problem():
    status, _, body = parsed(router.dispatch(rest_event("DELETE", "/things/t1"), None))
    assert status == 409
    assert body["detail"] == "cannot delete this one"
    assert body["type"].endswith("/conflict")


def test_unexpected_exception_is_500_problem_without_internals(capsys):
    status, _, body = parsed(router.dispatch(rest_event("GET", "/boom"), None))
    assert status == 500
    assert "mongodb" not in str(body) and "RuntimeError" not in str(body)
    assert body["detail"] == "the server could not answer this request"


def test_unexpected_exception_is_logged_with_its_traceback_redacted(capsys):
    router.dispatch(rest_event("GET", "/boom"), None)
    log = capsys.readouterr().out
    assert "RuntimeError" in log
    assert "user:pw" not in log


def test_http_api_payload_is_routed_the_same_way():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/t2"), None))
    assert (status, body["id"]) == (200, "t2")


def test_http_api_named_stage_is_stripped_from_the_raw_path():
    status, _, body = parsed(router.dispatch(http_event("GET", "/things/t3", stage="prod"), None))
    assert (status, body["id"]) == (200, "t3")


def test_proxy_result_has_the_shape_api_gateway_expects():
    result = router.dispatch(http_event("GET", "/things/t1"), None)
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert isinstance(result["body"], str) and result["isBase64Encoded"] is False


def test_request_id_falls_back_to_the_lambda_context():
    class Context:
        aws_request_id = "lambda-req-9"

    status, _, body = parsed(router.dispatch({"nonsense": True}, Context()))
    assert status == 400
    assert body["request_id"] == "lambda-req-9"


@pytest.mark.parametrize("setting", [{"MONGODB_TIMEOUT_MS": "5"}, {"LOG_LEVEL": "LOUD"}, {"CORS_ALLOW_ORIGINS": "x"}])
def test_a_bad_setting_is_a_500_problem_with_the_request_id_and_one_line_naming_it(environment, capsys, setting):
    environment(**setting)
    status, headers, body = parsed(router.dispatch(rest_event("GET", "/things/t1"), None))
    assert (status, headers["content-type"]) == (500, "application/problem+json")
    assert (body["request_id"], body["instance"], body["detail"]) == (
        "req-1",
        "/things/t1",
        "the server could not answer this request",
    )
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["error"] == "ConfigError" and next(iter(setting)) in record["detail"]
    assert "traceback" not in record and record["status"] == 500
    assert next(iter(setting)) not in str(body)


def test_a_bad_setting_never_raises_out_of_a_cors_response(environment):
    environment(CORS_ALLOW_ORIGINS="https://app.example.com", MAX_BODY_BYTES="none")
    event = rest_event(
        "OPTIONS", "/things/t1", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    )
    assert parsed(router.dispatch(event, None))[0] == 500


# Declaring a resource: post/put, body and path parameter schemas, success statuses, malformed templates

NOTE = Schema("Note", {"title": String(min_length=1, max_length=20, required=True)})
NOTE_ID = String(pattern="[0-9a-f]{6}", example="00ab12")
notes = Router("notes")


@notes.post("/notes", body=NOTE)
def create_note(request):
    return created({"id": "00ab12", **request.data}, "/notes/00ab12")


@notes.put("/notes/{note_id}", body=NOTE, params={"note_id": NOTE_ID})
def replace_note(request):
    return json_response({"id": request.path_params["note_id"], **request.data})


@notes.get("/notes/{note_id}", params={"note_id": NOTE_ID})
def read_note(request):
    return json_response({"id": request.path_params["note_id"]})


@notes.delete("/notes/{note_id}")
def delete_note(request):
    return json_response({})


@notes.post("/notes/{note_id}/copies", status=200, response=NOTE)
def copy_note(request):
    return json_response({})


def test_each_route_carries_its_declaration():
    declared = {(route.method, route.template): route for route in notes.routes}
    post = declared["POST", "/notes"]
    assert isinstance(post, Route) and post.body is NOTE and post.params is None and post.public is False
    assert declared["PUT", "/notes/{note_id}"].params == {"note_id": NOTE_ID}
    assert declared["POST", "/notes/{note_id}/copies"].response is NOTE


def test_the_success_status_defaults_to_201_for_post_204_for_delete_200_otherwise():
    assert [(route.method, route.status) for route in notes.routes] == [
        ("POST", 201),
        ("PUT", 200),
        ("GET", 200),
        ("DELETE", 204),
        ("POST", 200),
    ]


def test_a_post_with_a_valid_body_answers_201_with_location_and_the_checked_data():
    event = rest_event("POST", "/notes", body={"title": "Groceries"}, authorizer=rest_authorizer())
    status, headers, body = parsed(notes.dispatch(event, None))
    assert (status, headers["location"], body) == (201, "/notes/00ab12", {"id": "00ab12", "title": "Groceries"})


def test_a_bad_body_is_400_listing_every_field_before_the_endpoint_runs():
    event = rest_event("POST", "/notes", body={"title": "", "owner": "x"}, authorizer=rest_authorizer())
    status, _, problem = parsed(notes.dispatch(event, None))
    assert status == 400 and [error["field"] for error in problem["errors"]] == ["title", "owner"]


def test_a_route_with_a_body_answers_401_before_looking_at_it():
    status, _, _ = parsed(notes.dispatch(rest_event("POST", "/notes", body={"title": ""}), None))
    assert status == 401


def test_a_body_that_is_not_json_is_400_and_another_content_type_415():
    authorizer = rest_authorizer()
    assert parsed(notes.dispatch(rest_event("POST", "/notes", body="{", authorizer=authorizer), None))[0] == 400
    event = rest_event("POST", "/notes", body="title=x", headers={"Content-Type": "text/plain"}, authorizer=authorizer)
    assert parsed(notes.dispatch(event, None))[0] == 415


def test_a_path_parameter_that_breaks_its_field_is_400_naming_it():
    event = rest_event("GET", "/notes/not-hex", authorizer=rest_authorizer())
    status, _, problem = parsed(notes.dispatch(event, None))
    assert (status, problem["parameter"]) == (400, "note_id")


def test_a_valid_path_parameter_reaches_the_endpoint():
    event = rest_event("PUT", "/notes/00ab12", body={"title": "x"}, authorizer=rest_authorizer())
    assert parsed(notes.dispatch(event, None))[2] == {"id": "00ab12", "title": "x"}


def test_a_typed_path_parameter_reaches_the_endpoint_as_its_value():
    pages = Router("pages")

    @pages.get("/books/{book_id}/pages/{number}", params={"number": Integer(minimum=1, maximum=999)}, public=True)
    def read_page(request):
        return json_response(request.path_params)

    status, _, body = parsed(pages.dispatch(rest_event("GET", "/books/b1/pages/12"), None))
    assert (status, body) == (200, {"book_id": "b1", "number": 12})
    status, _, problem = parsed(pages.dispatch(rest_event("GET", "/books/b1/pages/twelve"), None))
    assert (status, problem["parameter"]) == (400, "number")


def test_a_list_for_a_path_parameter_is_refused_at_declaration():
    with pytest.raises(ValueError, match="one path segment"):
        Router("bad").get("/notes/{ids}", params={"ids": List(String())})


@pytest.mark.parametrize(
    "template, reason",
    [
        ("notes", "must start with /"),
        ("/notes/{note_id", "unbalanced braces"),
        ("/notes/note_id}", "unbalanced braces"),
        ("/notes/{}", "whole segment"),
        ("/notes/{1id}", "whole segment"),
        ("/notes/x{note_id}", "whole segment"),
        ("/notes/{id}/{id}", "twice"),
        ("/notes//x", "empty segment"),
        ("/notes/", "empty segment"),
        ("/notes/a b", "characters"),
    ],
)
def test_a_malformed_template_is_one_line_at_declaration(template, reason):
    with pytest.raises(ValueError, match=reason) as caught:
        Router("bad").get(template)
    assert "\n" not in str(caught.value) and repr(template) in str(caught.value)


def test_params_for_a_parameter_the_template_lacks_is_refused_at_declaration():
    with pytest.raises(ValueError, match="note"):
        Router("bad").get("/notes/{id}", params={"note": NOTE_ID})


# Every route behind the authorizer answers 401 from the router itself


def test_a_route_with_neither_body_nor_params_answers_401_without_a_caller_and_never_runs():
    ran = []
    plain = Router("plain")

    @plain.get("/reports")
    def list_reports(request):
        ran.append(request)
        return json_response([])

    status, _, problem = parsed(plain.dispatch(rest_event("GET", "/reports"), None))
    assert (status, problem["title"], ran) == (401, "Unauthorized", [])


def test_a_route_with_neither_body_nor_params_runs_for_an_authenticated_caller():
    status, _, _ = parsed(notes.dispatch(rest_event("DELETE", "/notes/00ab12", authorizer=rest_authorizer()), None))
    assert status == 200


def test_a_public_route_runs_without_a_caller():
    assert parsed(router.dispatch(rest_event("GET", "/things/t1"), None))[0] == 200


# Text an event carries that UTF-8 cannot hold (a lone surrogate): a 400 problem and a log line, never an exception

LONE_SURROGATE_EVENTS = {
    "path": lambda: rest_event("GET", "/things/\ud800"),
    "http api path": lambda: http_event("GET", "/things/\ud800"),
    "method": lambda: rest_event("GE\ud800", "/things/t1"),
    "header value": lambda: rest_event("GET", "/things/t1", headers={"If-None-Match": '"\ud800"'}),
    "header name": lambda: rest_event("GET", "/things/t1", headers={"X-\ud800": "1"}),
    "origin": lambda: rest_event(
        "OPTIONS", "/things/t1", headers={"Origin": "https://\ud800", "Access-Control-Request-Method": "GET"}
    ),
    "request id": lambda: {**rest_event("GET", "/nowhere"), "requestContext": {"requestId": "\ud800", "stage": "dev"}},
}


@pytest.mark.parametrize("where", LONE_SURROGATE_EVENTS)
def test_a_lone_surrogate_anywhere_in_an_event_is_a_4xx_problem_with_its_log_line(where, capsys):
    status, headers, problem = parsed(router.dispatch(LONE_SURROGATE_EVENTS[where](), None))
    assert 400 <= status < 500 and headers["content-type"] == "application/problem+json"
    assert problem["status"] == status
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"message":"request"' in line]
    assert line["status"] == status


def test_a_handler_echoing_a_lone_surrogate_in_its_error_still_gets_its_problem_document():
    echo = Router("echo")

    @echo.get("/echo/{word}", public=True)
    def refuse(request):
        raise errors.InvalidParameter(f"no such word \ud800{request.path_params['word']}", parameter="\udfff")

    status, _, problem = parsed(echo.dispatch(rest_event("GET", "/echo/x"), None))
    assert (status, problem["detail"], problem["parameter"]) == (400, "no such word \ufffdx", "\ufffd")


def test_a_response_body_that_is_not_its_declared_text_is_a_500_problem_not_an_exception():
    broken = Router("broken")

    @broken.get("/bytes", public=True)
    def not_utf8(request):
        return Response(200, b"\xff\xfe", {"content-type": "application/json"})

    status, _, problem = parsed(broken.dispatch(rest_event("GET", "/bytes"), None))
    assert (status, problem["status"]) == (500, 500)


def test_a_context_whose_request_id_is_no_string_still_gets_an_answer():
    class Context:
        aws_request_id = 42

    status, _, problem = parsed(router.dispatch({"not": "an event"}, Context()))
    assert (status, problem["request_id"]) == (400, "")


def test_an_exception_whose_message_holds_a_lone_surrogate_is_500_and_still_logged(capsys):
    odd = Router("odd")

    @odd.get("/odd", public=True)
    def fail(request):
        raise RuntimeError("cannot handle \ud800")

    status, _, _ = parsed(odd.dispatch(rest_event("GET", "/odd"), None))
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"message":"request"' in line]
    assert (status, line["status"], line["error"]) == (500, 500, "RuntimeError")


# Query parameters declared on the route: typed, bounded, enums, repeated, defaults

STATUS = Enum(["open", "held", "closed"])
TASK_QUERY = {
    "limit": Integer(minimum=1, maximum=50, default=10),
    "status": List(STATUS, max_items=3),
    "done": Boolean(),
    "owner": String(min_length=1, max_length=20, required=True),
}
tasks = Router("tasks")


@tasks.get("/tasks", query=TASK_QUERY)
def list_tasks(request):
    return json_response(request.query_params)


def ask_tasks(query: dict, make=rest_event) -> tuple[int, object]:
    status, _, body = parsed(tasks.dispatch(make("GET", "/tasks", query=query, authorizer=rest_authorizer()), None))
    return status, body


def test_declared_query_parameters_reach_the_endpoint_typed_with_defaults():
    assert ask_tasks({"owner": "alice", "done": "true"}) == (200, {"owner": "alice", "done": True, "limit": 10})


def test_a_list_parameter_takes_every_occurrence_in_order():
    assert ask_tasks({"owner": "al", "status": ["held", "open"]})[1]["status"] == ["held", "open"]


def test_an_http_api_repeated_parameter_is_read_from_the_raw_query_string_not_comma_joined():
    event = http_event(
        "GET", "/tasks", query={"owner": "a,b", "status": ["held", "open"]}, authorizer=http_lambda_authorizer()
    )
    status, _, body = parsed(tasks.dispatch(event, None))
    assert (status, body["owner"], body["status"]) == (200, "a,b", ["held", "open"])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"owner": "al", "limit": "51"}, "limit"),
        ({"owner": "al", "limit": "ten"}, "limit"),
        ({"owner": "al", "status": "done"}, "status"),
        ({"owner": "al", "done": "yes"}, "done"),
        ({}, "owner"),
        ({"owner": ["al", "bo"]}, "owner"),
        ({"owner": "al", "status": ["open"] * 4}, "status"),
    ],
)
def test_a_bad_missing_or_repeated_query_parameter_is_400_naming_it(query, parameter):
    status, problem = ask_tasks(query)
    assert (status, problem["parameter"]) == (400, parameter) and problem["detail"].startswith(parameter)


def test_a_query_parameter_nobody_declared_is_ignored():
    assert ask_tasks({"owner": "al", "_": "1700000000"}) == (200, {"owner": "al", "limit": 10})


def test_a_route_with_query_parameters_answers_401_before_reading_them():
    assert parsed(tasks.dispatch(rest_event("GET", "/tasks", query={"limit": "x"}), None))[0] == 401


def test_the_errors_a_route_raises_and_its_conditional_use_are_part_of_its_declaration():
    declared = Router("x")
    declared.get("/x", errors=(errors.NotFound, errors.Conflict), conditional=True)(list_tasks)
    assert (declared.routes[0].errors, declared.routes[0].conditional) == ((errors.NotFound, errors.Conflict), True)


def test_errors_that_are_not_http_error_classes_are_refused_at_declaration():
    with pytest.raises(ValueError, match="HTTPError"):
        Router("bad").get("/x", errors=(KeyError,))


def test_a_query_parameter_no_text_stands_for_is_refused_at_declaration():
    from shared.schema import Map, Object

    for field in (Map(String()), Object(NOTE), List(List(String()))):
        with pytest.raises(ValueError, match="query"):
            Router("bad").get("/x", query={"filter": field})


def test_a_single_error_class_is_taken_as_the_one_error_a_route_raises():
    declared = Router("x")
    declared.get("/x", errors=errors.NotFound)(list_tasks)
    assert declared.routes[0].errors == (errors.NotFound,)

"""What an endpoint's code uses implies statuses: the errors it raises and the conditional helpers it calls."""

from __future__ import annotations

from shared import conditional, errors
from shared.conditional import none_match
from shared.errors import Conflict
from tools.checks import usage


def raises_through_the_module(request):
    if request is None:
        raise errors.NotFound("none")
    return request


def an_endpoint_that_conflicts(request):
    if request:
        raise Conflict("taken")
    return raises_through_the_module(request)


def an_endpoint_that_revalidates(request):
    return none_match(request.headers.get("if-none-match"), '"r1"')


def an_endpoint_that_writes_by_revision(request):
    return conditional.revision_query(conditional.if_match_revisions(request.headers.get("if-match")))


def an_endpoint_that_updates_a_dict(request):
    headers = {}
    headers.update(request.headers)
    return [problem for problem in (errors.PreconditionFailed,) if request]


def an_endpoint_that_imports_its_helpers_when_called(request):
    from shared.conditional import if_match_revisions
    from shared.errors import Conflict as Taken

    if request is None:
        raise Taken("taken")
    return if_match_revisions(request.headers.get("if-match"))


def test_helpers_imported_inside_the_endpoint_are_found():
    assert usage.raised_errors(an_endpoint_that_imports_its_helpers_when_called) == (errors.Conflict,)
    assert usage.is_conditional(an_endpoint_that_imports_its_helpers_when_called)


def test_an_error_class_the_endpoint_raises_is_found_by_its_name():
    assert errors.Conflict in usage.raised_errors(an_endpoint_that_conflicts)


def test_errors_raised_by_functions_of_the_same_module_it_calls_are_found():
    assert usage.raised_errors(an_endpoint_that_conflicts) == (errors.NotFound, errors.Conflict)


def test_errors_named_inside_a_comprehension_are_found():
    assert usage.raised_errors(an_endpoint_that_updates_a_dict) == (errors.PreconditionFailed,)


def test_an_endpoint_that_calls_none_match_is_conditional():
    assert usage.is_conditional(an_endpoint_that_revalidates)


def test_an_endpoint_that_reads_if_match_through_the_module_is_conditional():
    assert usage.is_conditional(an_endpoint_that_writes_by_revision)


def test_a_dict_update_is_not_a_conditional_write():
    assert not usage.is_conditional(an_endpoint_that_updates_a_dict)


def test_functions_of_other_modules_are_not_followed():
    assert usage.raised_errors(conditional.read_response) == ()  # read_response is in shared.conditional
    assert not usage.raised_errors(lambda request: request)

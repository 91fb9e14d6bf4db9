"""The load-and-fault soak: a short run through the local API with two database kills, and its bookkeeping rules."""

import pytest

from tools.checks.declarations import declared_routes
from tools.soak import __main__ as soak
from tools.soak import ledger
from tools.soak.ledger import Answer, Ledger, Outage

SHORT = soak.Plan(duration=15, clients=6, profiles=3, workers=2, kills=2, outage=1.5, timeout=10)
# The HTTP API flavour: the same rules on a smaller sample (one kill), to keep the suite's time.
SHORT_HTTP = soak.Plan(duration=8, clients=4, profiles=2, workers=2, kills=1, outage=1.5, timeout=10, api="http")


SOAKED = {("GET", "/me"), ("PATCH", "/me")}  # the routes the soak's clients read and write


@pytest.mark.slow
@pytest.mark.skipif(
    not SOAKED.issubset((route.method, route.path) for route in declared_routes()),
    reason="the soak's clients read and write GET and PATCH /me, which are not declared",
)
@pytest.mark.parametrize("plan", [SHORT, SHORT_HTTP], ids=lambda plan: plan.api)
def test_short_soak_loses_nothing_and_answers_503_only_during_outages(tmp_path, plan):
    result, gateway_log = soak.run(plan, tmp_path)
    lines = "\n".join(soak.report(result))
    assert result.passed, f"{lines}\n\nlast lines of the gateway's log:\n{gateway_log}"
    assert len(result.outages) == plan.kills and "lost acknowledged writes: 0, lost updates: 0" in lines


def answer(kind: str, outcome: str, at: float = 1.0) -> Answer:
    return Answer(kind, outcome, at - 0.1, at)


def test_an_ambiguous_write_seen_later_by_a_read_counts_as_applied():
    book = Ledger()
    book.wrote(answer("PATCH", "503"), "p", "t1")
    book.read(answer("GET", "200"), "p", "t1")
    book.wrote(answer("PATCH", "200"), "p", "t2")
    check = ledger.check_profile(book, "p", stored=2, final_token="t2")
    assert (check.ambiguous_applied, check.lost_updates, check.ok) == (1, 0, True)


def test_an_ambiguous_write_that_is_the_stored_one_counts_as_applied():
    book = Ledger()
    book.wrote(answer("PATCH", "timeout"), "p", "t1")
    assert ledger.check_profile(book, "p", stored=1, final_token="t1").ok


def test_an_ambiguous_write_never_seen_did_not_apply():
    book = Ledger()
    book.wrote(answer("PATCH", "error"), "p", "t1")
    check = ledger.check_profile(book, "p", stored=0, final_token=None)
    assert (check.ambiguous, check.ambiguous_applied, check.ok) == (1, 0, True)


def test_an_acknowledged_write_overwritten_unseen_is_lost():
    book = Ledger()
    book.wrote(answer("PATCH", "200"), "p", "t1")
    book.wrote(answer("PATCH", "200"), "p", "t2")
    check = ledger.check_profile(book, "p", stored=1, final_token="t2")
    assert (check.lost_acknowledged, check.lost_updates, check.ok) == (1, 1, False)


def test_a_lost_race_is_neither_acknowledged_nor_ambiguous():
    book = Ledger()
    book.wrote(answer("PATCH", "412"), "p", "t1")
    assert (book.acknowledged["p"], book.ambiguous["p"]) == (set(), set())


def test_outage_windows_end_at_the_restart_plus_the_grace_or_at_the_next_kill():
    outages = [Outage(10, 12), Outage(20, 22)]
    assert ledger.windows(outages, grace=10) == [(10, 20), (20, 32)]


def test_a_503_outside_every_outage_is_misplaced():
    outages = [Outage(10, 12)]
    answers = [answer("GET", "503", 11), answer("GET", "503", 15), answer("GET", "503", 9), answer("GET", "200", 30)]
    assert [a.answered_at for a in ledger.misplaced_answers(answers, outages, grace=2)] == [15, 9]


def test_spread_of_503s_is_measured_from_the_kill_and_from_the_restart():
    outage = Outage(10, 12)
    answers = [answer("PATCH", "503", 10.5), answer("GET", "503", 12.5), answer("GET", "200", 11)]
    assert ledger.unavailable_spread(answers, outage, (10, 20)) == (2, 0.5, 0.5)


@pytest.mark.parametrize(
    "plan",
    [
        soak.Plan(duration=5, kills=2, outage=2),
        soak.Plan(duration=0),
        soak.Plan(clients=0),
    ],
)
def test_a_plan_that_cannot_run_is_refused(plan):
    assert plan.problem()


def test_a_bad_plan_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        soak.parse_plan(["--duration", "5", "--kills", "3"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("do not fit in 5.0 s")

"""The benchmark's replays of the profile example's writes leave its stored profile as they found it."""

from __future__ import annotations

from bench import replay, subjects, warm
from tests.test_bench import bench_database, events  # noqa: F401 -- bench_database: a seeded database of its own


def test_warm_delete_replays_delete_a_restored_profile_and_leave_it_restored(bench_database):  # noqa: F811
    database, env = bench_database
    subject = subjects.function("MeFunction", "handlers.me.lambda_handler", env)
    delete = events("events/me-delete.json")[0]
    warm.alternate([warm.WarmCase(subject, delete)], count=5, warmup=1, chunk=2)
    assert database["profiles"].find_one({"_id": replay.SUBJECT}) == replay.subject_profile()

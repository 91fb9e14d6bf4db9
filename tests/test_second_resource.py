"""A second resource added as one module, in a copy: make generate, make lint and its event files pass, no other edit.

The module (tests/fixtures/resources/parcels.py) has line objects, a status filter, a state transition answering
409 when the state does not allow it, and conditional requests (ETag, If-None-Match 304, If-Match 412).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from tests.test_tutorial import copy_of_the_repository, run
from tools import samtemplate

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = ROOT / "tests" / "fixtures" / "resources" / "parcels.py"
# In the copy, after make generate: the cancel event twice (200, then 409), a read with the ETag it answered
# (304), and a cancel at a revision that is not the parcel's (412), each on the seed documents.
BEHAVIOUR = """
import json
from pathlib import Path
from pymongo import MongoClient
from shared.config import settings
from tools import seed
from tools.invoke import load_event
from handlers import parcels

database = MongoClient(settings().mongodb_uri)[settings().mongodb_database]
seed.plant(database)
cancel, read = load_event(Path("events/parcel-cancel-post.json")), load_event(Path("events/parcel.json"))
statuses = [parcels.lambda_handler(cancel, None)["statusCode"], parcels.lambda_handler(cancel, None)["statusCode"]]
etag = parcels.lambda_handler(read, None)["headers"]["etag"]
revalidate = {**read, "headers": {**read["headers"], "If-None-Match": etag}}
statuses.append(parcels.lambda_handler(revalidate, None)["statusCode"])
seed.plant(database)
stale = {**cancel, "headers": {**cancel["headers"], "If-Match": '"not-the-revision"'}}
statuses.append(parcels.lambda_handler(stale, None)["statusCode"])
print(json.dumps(statuses))
"""


@pytest.mark.slow
def test_a_second_resource_is_one_module_and_make_generate(tmp_path, mongo_uri):
    repository = copy_of_the_repository(tmp_path / "repository")
    shutil.copyfile(RESOURCE, repository / "handlers" / "parcels.py")
    env = {name: value for name, value in os.environ.items() if name not in ("MONGODB_URI", "MONGODB_DATABASE")}
    env.update(
        TEST_MONGODB_URI=mongo_uri,
        MONGODB_URI=mongo_uri,
        MONGODB_DATABASE=f"parcels_{uuid.uuid4().hex[:8]}",
        PYTHONDONTWRITEBYTECODE="1",
    )

    generated = run("make generate", repository, env)
    assert generated.returncode == 0, generated.stderr
    assert "wrote template.yaml (the functions)" in generated.stdout
    template = samtemplate.load(repository / "template.yaml")
    assert {"ParcelsFunction", "ParcelsErrorsAlarm", "ParcelsServerErrorsAlarm"} <= set(template["Resources"])
    assert "ParcelsFunctionRevision" in template["Parameters"]

    lint = run("make lint", repository, env)
    assert lint.returncode == 0 and "deploy checks: 0 problem(s)" in lint.stdout + lint.stderr, lint.stdout[-3000:]

    events = run(f"{sys.executable} -m pytest -q -p no:cacheprovider tests/test_events.py -k parcel", repository, env)
    assert events.returncode == 0 and re.search(r"^8 passed", events.stdout, re.MULTILINE), events.stdout[-3000:]

    (repository / "behaviour.py").write_text(BEHAVIOUR, encoding="utf-8")
    behaviour = run(f"{sys.executable} behaviour.py", repository, env)
    assert behaviour.returncode == 0, behaviour.stderr[-3000:]
    assert behaviour.stdout.strip().splitlines()[-1] == "[200, 409, 304, 412]"

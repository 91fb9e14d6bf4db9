"""Write each handler module's function into ``template.yaml`` (part of ``make generate``).

Every block a function gets (its version parameter, the function, its rollback alarms) comes from one
skeleton, ``tools/function_skeleton.yaml``, named for the module: ``handlers/notes.py`` gets
``NotesFunctionRevision``, ``NotesFunction``, ``NotesErrorsAlarm``... For a module that declares routes:

- the blocks it lacks are added: the parameter after the other functions' revisions, the function after
  the last function, the alarms after the last alarm of a generated function;
- the blocks it has are rewritten from the skeleton in place, but the function keeps what is yours (see
  :data:`YOURS` and any property the skeleton does not name) as written, comments included;
- its ``Events`` follow its routes: one Api event per route and one ``OPTIONS`` event per path, behind
  the authorizer unless the route is public; an event already there keeps its name and other properties.

A function whose ``Handler`` is a module of ``handlers/`` that no longer exists is removed with its
parameter and alarms. The file is edited as text, so comments and layout elsewhere stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools import samtemplate
from tools.checks import imports, snippets
from tools.checks.declarations import HANDLERS, PREFLIGHT, Declared, camel, planned_functions, preflights

SKELETON = Path(__file__).resolve().parent / "function_skeleton.yaml"
# The properties of the skeleton's function that are yours once the function exists: a new function whose
# code reaches the database gets them from the skeleton; one whose code does not, none of them.
YOURS = ("ReservedConcurrentExecutions", "Environment", "Policies")
KEY = re.compile(r"(?:\"[^\"]+\"|[A-Za-z0-9_:.-]+):(?:\s|$)")


@dataclass
class Entry:
    """One key of a YAML mapping as text: its key, the blank and comment lines before it, and its lines."""

    key: str | None
    lead: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def text(self) -> list[str]:
        return self.lead + self.lines


def split(lines: list[str], indent: int) -> list[Entry]:
    """``lines`` cut at each key indented by ``indent``; what comes before the first key has key None."""
    entries = [Entry(None)]
    for line in lines:
        body = line[indent:]
        if line[:indent].strip() == "" and line.startswith(" " * indent) and KEY.match(body):
            previous, lead = entries[-1].lines, []
            while previous and _is_lead(previous[-1], indent):
                lead.insert(0, previous.pop())
            entries.append(Entry(body.split(":")[0].strip('"'), lead, [line]))
        else:
            entries[-1].lines.append(line)
    return entries


def _is_lead(line: str, indent: int) -> bool:
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent)


def join(entries: list[Entry]) -> list[str]:
    return [line for entry in entries for line in entry.text()]


def _find(entries: list[Entry], key: str) -> Entry | None:
    return next((entry for entry in entries if entry.key == key), None)


def skeleton(base: str, name: str, path: Path = SKELETON) -> dict[str, list[Entry]]:
    """The skeleton's entries for the function ``<base>Function`` of ``handlers/<name>.py``, by section."""
    text = path.read_text(encoding="utf-8").replace("__Name__", base).replace("__name__", name)
    sections = split(text.splitlines(), 0)
    return {entry.key: [item for item in split(entry.lines[1:], 2) if item.key] for entry in sections if entry.key}


def function_properties(entry: Entry) -> tuple[list[Entry], int]:
    """The entries of a function's ``Properties`` (indented by 6), and where they start in ``entry.lines``."""
    start = next(index for index, line in enumerate(entry.lines) if line.rstrip() == "    Properties:") + 1
    end = start
    while end < len(entry.lines) and (not entry.lines[end].strip() or entry.lines[end].startswith("      ")):
        end += 1
    return split(entry.lines[start:end], 6), start


# The Api events of a function


def rest_api_id(template: dict):
    """What the template's Api events give as ``RestApiId`` (``!Ref Api``); None when it has no API."""
    for _function, properties in samtemplate.events(template, "Api"):
        if "RestApiId" in properties:
            return properties["RestApiId"]
    apis = [
        name
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Api"
    ]
    return {"Ref": apis[0]} if apis else None


def api_event(template: dict, route: Declared) -> dict:
    """The Api event that routes ``route`` to its function."""
    properties = {"RestApiId": rest_api_id(template), "Path": route.path, "Method": route.method}
    if properties["RestApiId"] is None:
        del properties["RestApiId"]
    if route.public:
        properties["Auth"] = {"Authorizer": "NONE"}
    return {"Type": "Api", "Properties": properties}


def event_name(route: Declared) -> str:
    return "Preflight" + camel(route.path) if route.method == PREFLIGHT else camel(route.endpoint)


def api_events(template: dict, routes: list[Declared], taken: set[str]) -> dict[str, dict]:
    """``{event name: Api event}`` for ``routes``, named after their endpoints (preflights after their paths)."""
    events = {}
    for route in routes:
        base = event_name(route)
        name, number = base, 2
        while name in taken or name in events:
            name, number = f"{base}{number}", number + 1
        events[name] = api_event(template, route)
    return events


def function_events(template: dict, function: str, routes: list[Declared]) -> dict[str, dict]:
    """The events of ``function`` for ``routes`` and their preflights: the template's own where it has one.

    An existing Api event of a route keeps its name and properties, with the path, method and
    ``Auth.Authorizer: NONE`` of a public route following the declaration; other events (not Api) stay.
    """
    current = template.get("Resources", {}).get(function, {}).get("Properties", {}).get("Events") or {}
    by_route = {
        (str(event.get("Properties", {}).get("Method", "")).upper(), event.get("Properties", {}).get("Path")): name
        for name, event in current.items()
        if event.get("Type") == "Api"
    }
    events = {name: event for name, event in current.items() if event.get("Type") != "Api"}
    for route in routes + preflights(routes):
        name = by_route.get(route.key)
        if name is None:
            events.update(api_events(template, [route], set(current) | set(events)))
            continue
        event = {**current[name], "Properties": dict(current[name].get("Properties", {}))}
        wanted = api_event(template, route)["Properties"]
        event["Properties"].update(Path=route.path, Method=route.method)
        auth = {key: value for key, value in event["Properties"].get("Auth", {}).items() if key != "Authorizer"}
        auth.update(wanted.get("Auth", {}))
        event["Properties"].pop("Auth", None)
        if auth:
            event["Properties"]["Auth"] = auth
        events[name] = event
    return events


def blocks(template: dict, module: str, function: str, routes: list[Declared]) -> dict[str, dict]:
    """The skeleton's blocks for ``function`` of ``module`` as data, ``{"Parameters": {...}, "Resources": {...}}``:
    with the events of ``routes``, and none of :data:`YOURS` when the module's code never reaches the database."""
    entries = skeleton(function.removesuffix("Function"), module.rpartition(".")[2])
    data = {section: samtemplate.loads("\n".join(join(items))) for section, items in entries.items()}
    properties = data["Resources"][function]["Properties"]
    if not uses_database(module):
        for key in YOURS:
            properties.pop(key, None)
    properties["Events"] = function_events(template, function, routes)
    return data


# The text of template.yaml


def uses_database(module: str) -> bool:
    try:
        return "shared.db" in imports.closure(module).modules
    except imports.ImportAnalysisError:
        return True


def function_entry(existing: Entry | None, wanted: Entry, events: dict, module: str) -> Entry:
    """The function's entry: the skeleton's, merged with what is yours in ``existing``."""
    skeleton_parts, _ = function_properties(wanted)
    skeleton_parts = [part for part in skeleton_parts if part.key]
    events_lines = snippets.yaml_block({"Events": events}, indent=6).splitlines() if events else []
    by_key = {part.key: part for part in skeleton_parts}
    by_key["Events"] = Entry("Events", [], events_lines)
    if existing is None:
        keep_yours = uses_database(module)
        parts = [by_key[part.key] for part in skeleton_parts if keep_yours or part.key not in YOURS]
        head_end = wanted.lines.index("    Properties:") + 1
        return Entry(wanted.key, [""], wanted.lines[:head_end] + join([part for part in parts if part.lines]))
    current, start = function_properties(existing)
    owned = [key for key in by_key if key not in YOURS]
    merged = [Entry(part.key, part.lead, by_key[part.key].lines) if part.key in owned else part for part in current]
    order = [part.key for part in skeleton_parts]
    for index, key in enumerate(order):
        if key not in owned or _find(merged, key) is not None:
            continue
        earlier = set(order[:index])
        position = max(
            (number + 1 for number, part in enumerate(merged) if part.key in earlier or part.key is None),
            default=len(merged),
        )
        merged.insert(position, by_key[key])
    lines = (
        existing.lines[:start]
        + join([part for part in merged if part.lines or part.lead])
        + existing.lines[start + len(join(current)) :]
    )
    return Entry(existing.key, existing.lead, lines)


def _insert_after(entries: list[Entry], new: Entry, after: set[str]) -> None:
    positions = [index for index, entry in enumerate(entries) if entry.key in after]
    entries.insert(positions[-1] + 1 if positions else len(entries), new)


def _with_lead(entry: Entry, lead: list[str]) -> Entry:
    return Entry(entry.key, lead, entry.lines)


def generated(
    text: str, routes: list[Declared], template: dict, path: Path = SKELETON, handlers: Path = HANDLERS
) -> str:
    """``text`` (template.yaml) with the function blocks of the modules declaring ``routes``, as the docstring says."""
    sections = split(text.splitlines(), 0)
    section = {entry.key: entry for entry in sections if entry.key}
    parameters = split(section["Parameters"].lines[1:], 2)
    resources = split(section["Resources"].lines[1:], 2)
    functions = samtemplate.functions(template)
    planned = planned_functions(template, routes)
    owned_alarms = set()
    for module, function in planned.items():
        owned_alarms |= {
            entry.key
            for entry in skeleton(function.removesuffix("Function"), module.rpartition(".")[2], path)["Resources"][1:]
        }
    _remove_gone(
        parameters,
        resources,
        {name: resource for name, resource in functions.items() if name not in planned.values()},
        path,
        handlers,
    )
    for module, function in planned.items():
        blocks = skeleton(function.removesuffix("Function"), module.rpartition(".")[2], path)
        served = [route for route in routes if route.module == module]
        for wanted in blocks.get("Parameters", []):
            existing = _find(parameters, wanted.key)
            if existing is not None:
                existing.lines = wanted.lines
            else:
                revisions = {entry.key for entry in parameters if str(entry.key).endswith("FunctionRevision")}
                _insert_after(parameters, _with_lead(wanted, []), revisions)
        function_block, *alarms = blocks["Resources"]
        existing = _find(resources, function)
        entry = function_entry(existing, function_block, function_events(template, function, served), module)
        if existing is None:
            _insert_after(resources, entry, set(functions) | set(planned.values()))
        else:
            resources[resources.index(existing)] = entry
        for alarm in alarms:
            existing = _find(resources, alarm.key)
            if existing is not None:
                existing.lines = alarm.lines
            else:
                _insert_after(resources, _with_lead(alarm, [""]), owned_alarms | {function})
    section["Parameters"].lines = section["Parameters"].lines[:1] + join(parameters)
    section["Resources"].lines = section["Resources"].lines[:1] + join(resources)
    return "\n".join(join(sections)) + "\n"


def _remove_gone(parameters: list[Entry], resources: list[Entry], functions: dict, path: Path, handlers: Path) -> None:
    """Remove the blocks of each function whose Handler is a module of ``handlers/`` that is gone."""
    for function, resource in functions.items():
        module = str(resource.get("Properties", {}).get("Handler", "")).rpartition(".")[0]
        package, _, name = module.rpartition(".")
        if package != handlers.name or (handlers / f"{name}.py").exists():
            continue
        blocks = skeleton(function.removesuffix("Function"), name, path)
        gone = {function} | {entry.key for entries in blocks.values() for entry in entries}
        parameters[:] = [entry for entry in parameters if entry.key not in gone]
        resources[:] = [entry for entry in resources if entry.key not in gone]


def write(routes: list[Declared], template_path: Path = samtemplate.TEMPLATE) -> bool:
    """Write the functions of ``routes``' modules into the template file; whether it changed."""
    text = template_path.read_text(encoding="utf-8")
    updated = generated(text, routes, samtemplate.load(template_path))
    if updated != text:
        template_path.write_text(updated, encoding="utf-8")
    return updated != text

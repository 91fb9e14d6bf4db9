"""Hot reload for the local gateway: the files it serves are checked before each request.

Watched: ``handlers/`` and ``shared/`` (every ``.py``, new files too), the
folder of each function's ``Handler`` module, ``authorizer.py``, the template
and ``openapi.yaml``. The check is a walk of ``os.stat`` calls over those
files (some forty: see ``make serve``'s note on its cost), done under a lock
at the start of a request, so an edit saved before a request is seen by that
request, whatever the file system or editor; no thread, no dependency.

When something changed, :class:`Reloader` prints one line naming it, then:

- the template changed: the routes, functions and authorizers are read again
  (a template that no longer loads is reported on that line, and the previous
  routes stay served until it is fixed);
- Python code changed: every function's workers are replaced, so none that
  imported the old code answers again (one busy with a request finishes it
  first); functions whose template settings changed are replaced too;
- the authorizer cache is emptied only when an authorizer could answer
  differently: its settings in the template, its function's settings, or a
  file its module imports (``authorizer.py`` and the ``shared`` modules it
  reaches). Other edits keep the cached policies, as a deployed stage keeps
  them while a function's code changes.
- ``openapi.yaml`` only: nothing to restart (the gateway does not read it).
"""

from __future__ import annotations

import ast
import os
import threading
from collections.abc import Callable
from pathlib import Path

from tools.gateway.api import Api
from tools.gateway.workers import Pool

Stamps = dict[str, tuple[int, int]]
# Top-level packages no function imports; every other one (handlers, shared, a resource's own) is watched.
UNWATCHED_PACKAGES = ("tools", "tests", "bench")
WATCHED_FILES = ("authorizer.py", "openapi.yaml")


def _walk(folder: str, stamps: Stamps, recursive: bool) -> None:
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    with entries:
        for entry in entries:
            if entry.name.endswith(".py") and entry.is_file():
                status = entry.stat()
                stamps[entry.path] = (status.st_mtime_ns, status.st_size)
            elif recursive and entry.is_dir() and entry.name != "__pycache__":
                _walk(entry.path, stamps, recursive)


def _stamp(path: str, stamps: Stamps) -> None:
    try:
        status = os.stat(path)
    except OSError:
        return
    stamps[path] = (status.st_mtime_ns, status.st_size)


class Watch:
    """The modification times and sizes of the watched files; :meth:`changed` says which moved since last time."""

    def __init__(self, folders: list[str], flat_folders: list[str], files: list[str]) -> None:
        self.folders, self.flat_folders, self.files = folders, flat_folders, files
        self.stamps = self.scan()

    def scan(self) -> Stamps:
        stamps: Stamps = {}
        for folder in self.folders:
            _walk(folder, stamps, recursive=True)
        for folder in self.flat_folders:
            _walk(folder, stamps, recursive=False)
        for path in self.files:
            _stamp(path, stamps)
        return stamps

    def changed(self) -> list[str]:
        """The files added, removed or modified since the last call (or since the watch began), sorted."""
        stamps = self.scan()
        if stamps == self.stamps:
            return []
        moved = {path for path in stamps.keys() | self.stamps.keys() if stamps.get(path) != self.stamps.get(path)}
        self.stamps = stamps
        return sorted(moved)


def module_file(root: Path, module: str) -> Path | None:
    """The source file of ``module`` (``handlers.me``) under ``root``, or None when it has none there."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: Path) -> set[str]:
    try:
        tree = ast.parse(source.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def local_imports(root: Path, module: str) -> set[Path]:
    """The files under ``root`` that ``module`` imports, directly or not (its own file included), read statically."""
    found: set[Path] = set()
    pending = [module]
    while pending:
        source = module_file(root, pending.pop())
        if source is None or source in found:
            continue
        found.add(source)
        pending.extend(_imported_modules(source))
    return found


def _handler_module(handler: str) -> str:
    return handler.rpartition(".")[0]


class Reloader:
    """Checks the watched files before a request and brings the gateway up to date with them.

    ``load_api()`` reads the template again (whatever it raises is reported on
    the reload line); ``make_pool(function)`` makes a function's pool.
    """

    def __init__(
        self,
        root: Path,
        template: Path,
        load_api: Callable[[], Api],
        make_pool: Callable[[object], Pool],
        log: Callable[[str], None],
    ) -> None:
        self.root, self.template = root, template
        self.load_api, self.make_pool, self.log = load_api, make_pool, log
        self.lock = threading.Lock()
        self.watch: Watch | None = None

    def _watch_for(self, api: Api) -> Watch:
        folders = sorted(
            str(path.parent) for path in self.root.glob("*/__init__.py") if path.parent.name not in UNWATCHED_PACKAGES
        )
        modules = [module_file(self.root, _handler_module(function.handler)) for function in api.functions.values()]
        flat = sorted({str(path.parent) for path in modules if path is not None} - set(folders))
        return Watch(folders, flat, [str(self.root / name) for name in WATCHED_FILES] + [str(self.template)])

    def start(self, api: Api) -> None:
        self.watch = self._watch_for(api)

    def check(self, gateway) -> None:
        """Reload what changed since the last check; called at the start of each request."""
        with self.lock:
            changed = self.watch.changed()
            if changed:
                self._reload(gateway, changed)

    def _shown(self, path: str) -> str:
        inside = Path(path).is_relative_to(self.root)
        return os.path.relpath(path, self.root) if inside else path

    def _authorizer_files(self, api: Api) -> set[str]:
        files: set[str] = set()
        for authorizer in api.authorizers.values():
            handler = api.functions[authorizer.function].handler
            files.update(str(path) for path in local_imports(self.root, _handler_module(handler)))
        return files

    def _reload(self, gateway, changed: list[str]) -> None:
        old = gateway.api
        names = ", ".join(self._shown(path) for path in changed)
        api, problem = old, ""
        if str(self.template) in changed:
            try:
                api = self.load_api()
            except Exception as exc:  # a template being edited may be anything: say so and keep serving
                reason = " ".join(f"{type(exc).__name__}: {exc}".split())
                problem = f"; the template does not load ({reason}): still serving the previous one"
        code_changed = any(path.endswith(".py") for path in changed)
        replaced = self._replace_pools(gateway, old, api, code_changed)
        flush = api.authorizers != old.authorizers or any(
            old.functions.get(a.function) != api.functions.get(a.function) for a in api.authorizers.values()
        )
        flush = flush or bool(self._authorizer_files(old) & set(changed))
        gateway.api = api
        gateway.authorization.api = api
        if flush:
            gateway.authorization.cache.clear()
        self.watch = self._watch_for(api)
        effects = [
            f"{len(replaced)} function(s) restart on their next request" if replaced else "no worker restarted",
            "authorizer cache emptied" if flush else "authorizer cache kept",
        ]
        if api is not old:
            effects.insert(0, f"{len(api.routes)} route(s)")
        self.log(f"reloaded: {names} changed; {'; '.join(effects)}{problem}")

    def _replace_pools(self, gateway, old: Api, api: Api, code_changed: bool) -> list[str]:
        """Bring ``gateway.pools`` to ``api``'s functions; the names of the functions whose workers were replaced."""
        replaced = []
        for name in list(gateway.pools):
            if name not in api.functions:
                gateway.pools.pop(name).renew()
        for name, function in api.functions.items():
            pool = gateway.pools.get(name)
            if pool is None or old.functions.get(name) != function:
                if pool is not None:
                    pool.renew()
                gateway.pools[name] = self.make_pool(function)
                replaced.append(name)
            elif code_changed:
                pool.renew()
                replaced.append(name)
        return replaced

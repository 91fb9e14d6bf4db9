"""Serve ``template.yaml``'s REST API on loopback, the way API Gateway would.

    python -m tools.gateway [--port 3000] [--workers 1] [--runtime python|rie] [--parameter Name=Value ...]

The database is the same as for ``make invoke``: ``MONGODB_URI``, else a server
already on ``DB_PORT``, else a local one started for the server's lifetime.
Variables the template gives a function can be overridden from your shell
(``LOG_LEVEL=DEBUG make serve``); the API stage (and so ``STAGE``) is ``local``
unless ``--parameter StageName=...`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from functools import partial
from pathlib import Path

from tools import rie, samtemplate
from tools.gateway import api as api_model
from tools.gateway.server import Gateway, Log, make_server
from tools.gateway.workers import Pool, ProcessWorker, RieWorker, function_environment
from tools.invoke import local_database

RUNTIMES = {"python": ProcessWorker, "rie": RieWorker}


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def describe_routes(api: api_model.Api) -> list[str]:
    lines = []
    for route in sorted(api.routes, key=lambda route: (route.path, route.method)):
        guard = "open"
        if route.authorizer:
            authorizer = api.authorizers[route.authorizer]
            sources = ", ".join(name for _, name in authorizer.identity)
            guard = f"{authorizer.name} ({authorizer.payload}: {sources}; cached {authorizer.ttl} s)"
        lines.append(f"  {route.method:<7} {route.path:<20} {route.function:<20} {guard}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--template", type=Path, default=samtemplate.TEMPLATE)
    parser.add_argument("--workers", type=int, default=1, help="warm workers per function (default 1)")
    parser.add_argument("--runtime", choices=sorted(RUNTIMES), default="python")
    parser.add_argument("--parameter", type=_parameter, action="append", default=[], metavar="Name=Value")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    log = Log()
    try:
        api = api_model.load(samtemplate.load(args.template), dict(args.parameter))
        if args.runtime == "rie":
            rie.binary()
    except (api_model.TemplateError, rie.RIEError, OSError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with local_database() as uri:
        overrides = {"MONGODB_URI": uri}
        worker = RUNTIMES[args.runtime]
        pools = {name: Pool(args.workers, partial(worker, function, function_environment(function, overrides), log))
                 for name, function in api.functions.items()}
        server = make_server(Gateway(api, pools, log), args.host, args.port)
        log(f"local API Gateway on http://{args.host}:{args.port} (stage {api.stage}, {args.runtime} runtime, "
            f"{args.workers} worker(s) per function)")
        for line in describe_routes(api):
            log(line)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            for pool in pools.values():
                pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

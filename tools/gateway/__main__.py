"""Serve ``template.yaml``'s API on loopback, the way API Gateway would.

    python -m tools.gateway [--port 3000] [--api rest|http] [--authorizer lambda|jwt] [--workers 1]
                            [--runtime python|rie] [--logs human|json] [--db keep|fresh] [--no-reload]
                            [--parameter Name=Value ...]

``--api rest`` (the default) serves the REST API; ``--api http`` the HTTP API
that :mod:`tools.httpapi` derives from the same template (see
:mod:`tools.gateway.httpapi`), with the Lambda authorizer (local tokens work) or
``--authorizer jwt`` (RS256 tokens of ``--parameter JwtIssuer=...``, checked by
the gateway as API Gateway's JWT authorizer does).

The database is chosen as for ``make invoke`` (see :mod:`tools.database`):
``MONGODB_URI``, else a server already on ``DB_PORT``, else a local one started
for the server's lifetime; ``--db fresh`` starts from an empty one. An empty
local database first gets the handler modules' ``SEED`` documents (see :mod:`tools.seed`). Variables
the template gives a function can be overridden from your shell
(``LOG_LEVEL=DEBUG make serve``); the API stage (and so ``STAGE``) is ``local``
unless ``--parameter StageName=...`` says otherwise. Each request prints one
line (``--logs json``: the functions' own log lines too, see
:mod:`tools.gateway.console`). A busy or bad port, a bad option or template: one
line on stderr and exit status 2.

Edits to ``handlers/``, ``shared/``, ``authorizer.py``, the template and
``openapi.yaml`` are picked up by the next request, with one line saying so
(see :mod:`tools.gateway.reload`); ``--no-reload`` (``RELOAD=0``) serves the
code and routes it started with.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from functools import partial
from pathlib import Path

from tools import cli, database, httpapi, rie, samtemplate, seed
from tools.cli import CommandError
from tools.gateway import api as api_model
from tools.gateway import apidocs
from tools.gateway import httpapi as http_model
from tools.gateway.console import MODES, Console, Log
from tools.gateway.http_gateway import HttpGateway
from tools.gateway.reload import Reloader
from tools.gateway.server import Gateway, make_server
from tools.gateway.workers import ROOT, Pool, ProcessWorker, RieWorker, function_environment

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
        if route.authorizer in getattr(api, "jwt", {}):
            configuration = api.jwt[route.authorizer]
            guard = f"{route.authorizer} (JWT authorizer: issuer {configuration.issuer})"
        elif route.authorizer:
            authorizer = api.authorizers[route.authorizer]
            sources = ", ".join(name for _, name in authorizer.identity)
            guard = f"{authorizer.name} ({authorizer.payload}: {sources}; cached {authorizer.ttl} s)"
        lines.append(f"  {route.method:<7} {route.path:<20} {route.function:<20} {guard}")
    return lines


def describe_caching(api: api_model.Api) -> list[str]:
    """What each authorizer's cache means for a token that expires."""
    return [
        f"{authorizer.name} answers are cached {authorizer.ttl} s per token: as on API Gateway, a token keeps "
        f"working for up to {authorizer.ttl} s after it expires"
        for authorizer in api.authorizers.values()
        if authorizer.ttl > 0
    ]


def describe_stage(api: api_model.Api, environ=os.environ) -> list[str]:
    """A warning when the shell's ``STAGE`` overrides the API's stage for the functions."""
    stage = environ.get("STAGE", "").strip()
    if not stage or stage == api.stage:
        return []
    return [
        f"STAGE={stage} from your shell overrides the stage {api.stage} for the functions: outside STAGE=local "
        f"they refuse the local development secret and local tokens, so guarded routes answer 500 or 401; "
        f"unset STAGE (or set it to {api.stage}) to run them locally"
    ]


def _parser() -> cli.Parser:
    parser = cli.Parser(prog="make serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=cli.port, default=3000, help="PORT: the port to listen on (default 3000)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--template", type=Path, default=samtemplate.TEMPLATE)
    parser.add_argument("--api", choices=("rest", "http"), default="rest", help="API: rest or http (API Gateway v2)")
    parser.add_argument(
        "--authorizer",
        choices=(httpapi.LAMBDA, httpapi.JWT),
        default=httpapi.LAMBDA,
        help="AUTHORIZER: the HTTP API's authorizer, lambda or jwt (with --parameter JwtIssuer=)",
    )
    parser.add_argument("--workers", type=cli.positive, default=1, help="WORKERS: warm workers per function")
    parser.add_argument("--runtime", choices=sorted(RUNTIMES), default="python", help="RUNTIME: python or rie")
    parser.add_argument("--logs", choices=MODES, default="human", help="LOGS: json adds the functions' log lines")
    parser.add_argument("--db", choices=("keep", "fresh"), default="keep", help="DB: fresh starts from an empty one")
    parser.add_argument(
        "--no-reload", dest="reload", action="store_false", help="RELOAD=0: keep the code and routes it started with"
    )
    parser.add_argument("--parameter", type=_parameter, action="append", default=[], metavar="Name=Value")
    return parser


def bind(host: str, port: int):
    """The HTTP server bound to ``host:port``; CommandError saying why it cannot be."""
    try:
        return make_server(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} is already in use (another make serve?): stop it, or pick another "
                f"port with PORT={port + 1 if port < 65535 else 3000}"
            ) from None
        if exc.errno == errno.EACCES:
            raise CommandError(f"port {port} needs privileges to listen on: pick one above 1023 with PORT=") from None
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _load_api(args) -> api_model.Api:
    template = samtemplate.load(args.template)
    if args.api == "rest":
        return api_model.load(template, dict(args.parameter))
    try:
        return http_model.load(httpapi.derive(template, args.authorizer), dict(args.parameter))
    except httpapi.DerivationError as exc:
        raise api_model.TemplateError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log = Log()
    try:
        api = _load_api(args)
        if args.runtime == "rie":
            rie.binary()
    except (api_model.TemplateError, rie.RIEError, OSError) as exc:
        raise CommandError(str(exc)) from None
    server = bind(args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with database.chosen(fresh=args.db == "fresh") as chosen:
            worker, environment = RUNTIMES[args.runtime], chosen.environment()

            def make_pool(function: api_model.Function) -> Pool:
                return Pool(args.workers, partial(worker, function, function_environment(function, environment), log))

            pools = {name: make_pool(function) for name, function in api.functions.items()}
            reloader = (
                Reloader(ROOT, args.template.resolve(), partial(_load_api, args), make_pool, log)
                if args.reload
                else None
            )
            flavour = Gateway if args.api == "rest" else HttpGateway
            server.gateway = flavour(api, pools, Console(log, args.logs), reloader)
            log(
                f"local API Gateway on http://{args.host}:{args.port} ({args.api.upper()} API, stage {api.stage}, "
                f"{args.runtime} runtime, "
                f"{args.workers} worker(s) per function, logs {args.logs}, reload {'on' if args.reload else 'off'})"
            )
            log(chosen.describe())
            for line in seed.seed_if_empty(chosen):
                log(line)
            log(f"API docs (Swagger UI, try it out) on http://{args.host}:{args.port}{apidocs.PATH}")
            for line in [*describe_routes(api), *describe_caching(api), *describe_stage(api)]:
                log(line)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                for pool in server.gateway.pools.values():
                    pool.close()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, "make serve"))

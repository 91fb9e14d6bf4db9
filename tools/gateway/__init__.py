"""A local API Gateway (a REST API, or an HTTP API) for ``template.yaml``: ``python -m tools.gateway`` (``make serve``).

Modules: :mod:`~tools.gateway.api` (the template read as routes, functions and
authorizers), :mod:`~tools.gateway.policy` (authorizer policies),
:mod:`~tools.gateway.authorizers` (the authorizer step and its cache),
:mod:`~tools.gateway.proxy` (proxy events and results),
:mod:`~tools.gateway.workers` (warm worker processes),
:mod:`~tools.gateway.runner` (the process inside a Python worker),
:mod:`~tools.gateway.reload` (edits picked up on the next request) and
:mod:`~tools.gateway.server` (the request path and the HTTP server); for ``--api http``,
:mod:`~tools.gateway.httpapi` (the derived HTTP API template read),
:mod:`~tools.gateway.http_gateway` (its request path), :mod:`~tools.gateway.payload2`
(payload format 2.0) and :mod:`~tools.gateway.jwt_authorizer` (API Gateway's JWT authorizer).

This package imports nothing itself: worker processes import only the runner.
"""

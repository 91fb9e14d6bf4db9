"""The database connections the fleet can open, against the database's limit: checked before every deploy.

Every Lambda container of a function given ``MONGODB_URI`` holds, on each
database node, at most

    monitor sockets per member + MONGODB_MAX_POOL_SIZE

(pymongo polls on Lambda: one monitor socket per replica-set member, no
round-trip-time socket; the pool's connections all go to the primary, so the
primary is the node that fills up). The number of containers is the function's
``ReservedConcurrentExecutions`` when the template sets one; the functions
without one share what the account has left (``AccountConcurrency`` minus every
reservation), so together they count as that many containers of the largest.
The worst case must stay within :data:`MAX_FRACTION` of what the node offers
(``DatabaseConnectionLimit`` minus :data:`RESERVED_BY_SERVICE`): the rest is
for everything else that connects (``make indexes``, operators' shells, other
applications, a deploy's old and new containers side by side while idle ones
drain). A limit of 0 is one not declared yet: the arithmetic then names the
smallest Atlas tier the worst case fits, and nothing is refused.
tests/test_fleet.py measures the per-container numbers on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared import config
from tools.checks import sam
from tools.samtemplate import NO_VALUE, Evaluator

LIMIT_PARAMETER = "DatabaseConnectionLimit"
ACCOUNT_PARAMETER = "AccountConcurrency"
MAX_FRACTION = 0.8
RESERVED_BY_SERVICE = 10  # MongoDB Atlas keeps 10 connections per node for its own agents
MONITOR_SOCKETS_PER_MEMBER = 1  # shared.db sets serverMonitoringMode=poll: no streaming, no RTT socket
DEFAULT_POOL_SIZE = config.load({}).mongodb_max_pool_size
# Connections per node of MongoDB Atlas's dedicated tiers (Atlas docs, "Atlas limits").
ATLAS_TIERS = (("M10", 1500), ("M20 or M30", 3000), ("M40", 6000), ("M50", 16000), ("M60", 32000))


@dataclass(frozen=True)
class Share:
    """Functions that can hold ``containers`` containers between them, each with ``per_container`` connections."""

    functions: tuple[str, ...]
    containers: int
    why: str
    per_container: int

    @property
    def connections(self) -> int:
        return self.containers * self.per_container


@dataclass(frozen=True)
class Budget:
    shares: tuple[Share, ...]
    limit: int

    @property
    def worst_case(self) -> int:
        return sum(share.connections for share in self.shares)

    @property
    def declared(self) -> bool:
        return self.limit > 0

    @property
    def allowed(self) -> int:
        return allowed(self.limit)

    def arithmetic(self) -> list[str]:
        """The computation, one line per share, then the total against the limit."""
        lines = [
            f"{', '.join(share.functions)}: {share.containers} containers ({share.why}) x "
            f"({MONITOR_SOCKETS_PER_MEMBER} monitor + {share.per_container - MONITOR_SOCKETS_PER_MEMBER} pool)"
            f" = {share.connections}"
            for share in self.shares
        ]
        if not self.declared:
            fits = next(
                (
                    f"an Atlas {tier} ({limit}) or larger"
                    for tier, limit in ATLAS_TIERS
                    if self.worst_case <= allowed(limit)
                ),
                "no Atlas tier",
            )
            return [
                *lines,
                f"worst case {self.worst_case} connections per database node, which fits {fits} at "
                f"{MAX_FRACTION:.0%}; {LIMIT_PARAMETER} is not declared (0): set it to your database's "
                f"connections per node to have the budget enforced",
            ]
        verdict = "within" if self.worst_case <= self.allowed else "OVER"
        total = (
            f"worst case {self.worst_case} connections per database node, {verdict} the budget of "
            f"{self.allowed} = {MAX_FRACTION:.0%} of ({LIMIT_PARAMETER} {self.limit} - {RESERVED_BY_SERVICE} "
            f"reserved)"
        )
        return [*lines, total]


def allowed(limit: int) -> int:
    """The connections the functions may hold on a node that accepts ``limit``."""
    return int(MAX_FRACTION * (limit - RESERVED_BY_SERVICE))


def _number(evaluator: Evaluator, expression, what: str) -> int | None:
    value = evaluator.value(expression)
    if value is NO_VALUE or value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is {value!r}, not a number") from None


def per_container(variables: dict) -> int:
    """Connections one container of a function with these environment variables holds on a node, at most."""
    pool = config.env_int(variables, "MONGODB_MAX_POOL_SIZE", DEFAULT_POOL_SIZE, 1, 100)
    return MONITOR_SOCKETS_PER_MEMBER + pool


def budget(template: dict, values: dict[str, str]) -> Budget:
    """The worst case of ``template`` deployed with the parameter ``values``; ValueError when it cannot be read."""
    evaluator = Evaluator(template, values)
    if LIMIT_PARAMETER not in values or ACCOUNT_PARAMETER not in values:
        raise ValueError(
            f"the template declares no {LIMIT_PARAMETER} or {ACCOUNT_PARAMETER} parameter: declare "
            f"both (the database's connections per node, Lambda's regional concurrency)"
        )
    account = int(values[ACCOUNT_PARAMETER])
    reserved, unreserved, reserved_total = [], [], 0
    for name, properties in sam.function_properties(template).items():
        variables = {
            key: str(value)
            for key, value in evaluator.value(properties.get("Environment", {}).get("Variables", {})).items()
        }
        containers = _number(
            evaluator, properties.get("ReservedConcurrentExecutions"), f"{name}'s ReservedConcurrentExecutions"
        )
        reserved_total += containers or 0
        if "MONGODB_URI" not in variables:
            continue  # no database address, no connections
        if containers is None:
            unreserved.append((name, per_container(variables)))
        else:
            reserved.append(Share((name,), containers, "reserved", per_container(variables)))
    shares = list(reserved)
    if unreserved:
        left = max(account - reserved_total, 0)
        why = (
            f"unreserved: {ACCOUNT_PARAMETER} {account} - {reserved_total} reserved"
            if reserved_total
            else f"unreserved: {ACCOUNT_PARAMETER} {account}"
        )
        shares.append(Share(tuple(name for name, _ in unreserved), left, why, max(each for _, each in unreserved)))
    return Budget(tuple(shares), int(values[LIMIT_PARAMETER]))


def problems(found: Budget, environment: str) -> list[str]:
    """One problem, with the arithmetic and the ways out, when the worst case exceeds a declared budget."""
    if not found.declared or found.worst_case <= found.allowed:
        return []
    return [
        f"[{environment}] the functions can open more database connections than the budget allows: "
        + "; ".join(found.arithmetic())
        + f". Set ReservedConcurrentExecutions on the database functions, lower MONGODB_MAX_POOL_SIZE, or set "
        f"{LIMIT_PARAMETER} to your database's connections per node (Atlas: M10 1500, M20/M30 3000, "
        f"M40 6000, M50 16000, M60 32000)"
    ]


def check(template: dict) -> tuple[list[str], list[str]]:
    """``(arithmetic, problems)`` for every samconfig.toml environment."""
    lines, found = [], []
    for environment, settings in sorted(sam.environments().items()):
        try:
            values = sam.parameter_values(template, sam.parse_overrides(settings.get("parameter_overrides", "")))
            computed = budget(template, values)
        except (sam.ParameterError, ValueError) as exc:
            found.append(f"[{environment}] connection budget: {exc}")
            continue
        lines += [f"connection budget [{environment}]: {line}" for line in computed.arithmetic()]
        found += problems(computed, environment)
    return lines, found

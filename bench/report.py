"""The benchmark's results as a table, the targets as PASS/FAIL lines, the files under ``results/`` and the docs page.

Everything here works on the plain results dict that :mod:`bench.run` builds
and saves as JSON, so a saved run can be rendered again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.stats import percentile, ratio
from bench.subjects import BARE_API, BOTO3_SECRETS, FASTAPI, FLOOR, INTERPRETER, PLAIN, POWERTOOLS, PRODUCTION

COLD_FLOOR_LIMITS = {"GET /me": 1.15, "GET /health": 1.2, "authorizer": 1.2}
PRODUCTION_CPU_LIMITS = {"GET /me": 1.10, "authorizer": 1.15}
PRODUCTION_RSS_MARGIN_MIB = 3.0
COLD_SPEEDUP_OVER_FASTAPI = 3.0
WARM_ME_MAX_ABOVE_FLOOR_US = 20.0
WARM_P99_OVER_FLOOR_P99 = 1.2
WARM_AUTHORIZER_MAX_RATIO = 1.1
# make bench-instructions: cold starts over their floors, production (secret reference) and plain URI ...
PRODUCTION_INSTRUCTION_LIMITS = {"GET /me": 1.05, "authorizer": 1.06}
PLAIN_INSTRUCTION_LIMITS = {"GET /me": 1.03}
# ... and a warm request's instructions beyond its floor's (its find_one, its jwt.decode).
WARM_ME_MAX_ABOVE_FLOOR_INSTRUCTIONS = 106_000
WARM_AUTHORIZER_MAX_RATIO_INSTRUCTIONS = 1.1
SYSTEM_ORDER = (BARE_API, FLOOR, BOTO3_SECRETS, FASTAPI, POWERTOOLS)
SECRETS_MANAGER = "Secrets Manager"
PHASES = (
    ("secret", "secret_start", "secret_end"),
    ("db connect", "db_start", "query_start"),
    ("1st query", "query_start", "query_end"),
)


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool | None  # None: not measured in this run
    detail: str

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{verdict}  {self.name}: {self.detail}"

    def as_dict(self) -> dict:
        return asdict(self)


def _find(entries: list[dict], **match) -> dict | None:
    return next((entry for entry in entries if all(entry.get(k) == v for k, v in match.items())), None)


def _cold_median(entry: dict) -> float:
    return entry["summary"]["total_ms"]["p50"]


def _cpu_median(entry: dict) -> float:
    return entry["summary"]["cpu_ms"]["p50"]


def _rss_mib(entry: dict) -> float:
    return entry["summary"]["max_rss_kb"]["p50"] / 1024


def _plain(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry.get("config", PLAIN) == PLAIN]


def _deployed(results: dict, route: str, system: str = BARE_API) -> dict | None:
    """The production entry of ``route``: bare-api with Secrets Manager references, or ``system``'s."""
    for entry in results["cold"]:
        wanted = entry["system"] != BARE_API or SECRETS_MANAGER in entry["subject"]
        if entry.get("config") == PRODUCTION and entry["route"] == route and entry["system"] == system and wanted:
            return entry
    return None


def _paired(ours: dict, floor: dict, column: str = "cpu_ms") -> str:
    """The median of the per-round ratios, for the reader: samples of one round ran one after the other."""
    mine, theirs = (entry.get("samples", {}).get(column, []) for entry in (ours, floor))
    if not mine or len(mine) != len(theirs):
        return ""
    return f"; round by round, median {percentile([ratio(a, b) for a, b in zip(mine, theirs, strict=True)], 50):.2f}x"


def production_targets(results: dict) -> list[Target]:
    """The production configuration's targets: CPU against its floors, no AWS SDK, memory, wall time."""
    targets = []
    for route, limit in PRODUCTION_CPU_LIMITS.items():
        name = f"production cold start of {route} (secret reference + TLS) within {limit}x of its floor, CPU time"
        ours, floor = _deployed(results, route), _deployed(results, route, FLOOR)
        if ours is None or floor is None:
            targets.append(Target(name, None, f"no production {route} in this run"))
            continue
        factor = ratio(_cpu_median(ours), _cpu_median(floor))
        detail = (
            f"{_cpu_median(ours):.1f} ms vs floor {_cpu_median(floor):.1f} ms CPU ({factor:.2f}x{_paired(ours, floor)})"
        )
        targets.append(Target(name, factor <= limit, detail))
    deployed = [entry for entry in results["cold"] if entry.get("config") == PRODUCTION and entry["system"] == BARE_API]
    name = "no boto3, botocore or s3transfer in sys.modules after the first request of every production function"
    if not deployed:
        targets.append(Target(name, None, "no production function in this run"))
    else:
        loaded = {entry["subject"]: entry["aws_sdk"] for entry in deployed if entry["aws_sdk"]}
        checked = ", ".join(sorted({entry["function"] for entry in deployed}))
        detail = f"loaded by {loaded}" if loaded else f"none loaded by {checked}"
        targets.append(Target(name, not loaded, detail))
    ours = _deployed(results, "GET /me")
    plain = _find(_plain(results["cold"]), route="GET /me", system=BARE_API)
    name = f"peak memory of production GET /me at most {PRODUCTION_RSS_MARGIN_MIB:.0f} MiB above the plain cold start"
    if ours is None or plain is None:
        targets.append(Target(name, None, "production or plain GET /me not measured in this run"))
    else:
        extra = _rss_mib(ours) - _rss_mib(plain)
        detail = f"{_rss_mib(ours):.1f} MiB vs {_rss_mib(plain):.1f} MiB ({extra:+.1f} MiB)"
        targets.append(Target(name, extra <= PRODUCTION_RSS_MARGIN_MIB, detail))
    floor = _deployed(results, "GET /me", FLOOR)
    round_trip = 2 * (results.get("production") or {}).get("delay_ms", 0.0)
    name = "wall time to the first response of production GET /me at most its floor's plus one round trip"
    if ours is None or floor is None:
        targets.append(Target(name, None, "no production GET /me in this run"))
    else:
        limit = _cold_median(floor) + round_trip
        detail = (
            f"{_cold_median(ours):.1f} ms vs floor {_cold_median(floor):.1f} ms + {round_trip:.0f} ms "
            f"round trip = {limit:.1f} ms"
        )
        targets.append(Target(name, _cold_median(ours) <= limit, detail))
    return targets


def cold_targets(results: dict) -> list[Target]:
    targets = []
    cold = _plain(results["cold"])
    for route, limit in COLD_FLOOR_LIMITS.items():
        name = f"cold start of {route} within {limit}x of its floor"
        ours, floor = _find(cold, route=route, system=BARE_API), _find(cold, route=route, system=FLOOR)
        if ours is None or floor is None:
            targets.append(Target(name, None, f"no {route} event in this run"))
            continue
        factor = ratio(_cold_median(ours), _cold_median(floor))
        detail = f"{_cold_median(ours):.1f} ms vs floor {_cold_median(floor):.1f} ms ({factor:.2f}x)"
        targets.append(Target(name, factor <= limit, detail))
    name = f"cold start of GET /me at least {COLD_SPEEDUP_OVER_FASTAPI}x faster than {FASTAPI}"
    ours, baseline = _find(cold, route="GET /me", system=BARE_API), _find(cold, route="GET /me", system=FASTAPI)
    if ours is None or baseline is None:
        targets.append(Target(name, None, f"GET /me or {FASTAPI} not measured in this run"))
    else:
        speedup = ratio(_cold_median(baseline), _cold_median(ours))
        detail = f"{_cold_median(ours):.1f} ms vs {_cold_median(baseline):.1f} ms ({speedup:.2f}x faster)"
        targets.append(Target(name, speedup >= COLD_SPEEDUP_OVER_FASTAPI, detail))
    return targets


def warm_targets(results: dict) -> list[Target]:
    warm = results["warm"]
    me = _find(warm, route="GET /me", system=BARE_API)
    me_floor = _find(warm, function=me["function"], system=FLOOR) if me else None
    targets = []
    name = f"warm GET /me p50 at most {WARM_ME_MAX_ABOVE_FLOOR_US:.0f} us above the raw find_one"
    p99_name = f"warm GET /me p99 within {WARM_P99_OVER_FLOOR_P99}x of the raw find_one's p99"
    if me is None or me_floor is None:
        targets.append(Target(name, None, "no GET /me event in this run"))
        targets.append(Target(p99_name, None, "no GET /me event in this run"))
    else:
        p50, floor_p50, p99 = me["summary_us"]["p50"], me_floor["summary_us"]["p50"], me["summary_us"]["p99"]
        detail = f"{p50:.1f} us vs find_one {floor_p50:.1f} us (+{p50 - floor_p50:.1f} us) on {me['event']}"
        targets.append(Target(name, p50 - floor_p50 <= WARM_ME_MAX_ABOVE_FLOOR_US, detail))
        floor_p99 = me_floor["summary_us"]["p99"]
        factor = ratio(p99, floor_p99)
        detail = f"p99 {p99:.1f} us vs find_one's p99 {floor_p99:.1f} us ({factor:.2f}x) on {me['event']}"
        targets.append(Target(p99_name, factor <= WARM_P99_OVER_FLOOR_P99, detail))
    ours = _find(warm, route="authorizer", system=BARE_API)
    floor = _find(warm, function=ours["function"], system=FLOOR) if ours else None
    name = f"warm authorizer p50 at most {WARM_AUTHORIZER_MAX_RATIO}x the raw jwt.decode"
    if ours is None or floor is None:
        targets.append(Target(name, None, "no authorizer event in this run"))
    else:
        p50, floor_p50 = ours["summary_us"]["p50"], floor["summary_us"]["p50"]
        factor = ratio(p50, floor_p50)
        detail = f"{p50:.1f} us vs jwt.decode {floor_p50:.1f} us ({factor:.2f}x) on {ours['event']}"
        targets.append(Target(name, factor <= WARM_AUTHORIZER_MAX_RATIO, detail))
    return targets


def check_targets(results: dict) -> list[Target]:
    """Every target, judged on ``results``; SKIP where the run did not measure it."""
    return production_targets(results) + cold_targets(results) + warm_targets(results)


def _label(entry: dict) -> str:
    if entry["system"] == FLOOR:
        tls = ", TLS" if entry.get("config") == PRODUCTION and "pymongo" in entry["subject"] else ""
        return f"floor: {entry['subject']}{tls}"
    if entry["system"] == INTERPRETER:
        return "interpreter: python -c pass"
    if entry["system"] == BARE_API and entry.get("config") == PRODUCTION:
        return f"bare-api, {entry['subject'].partition('(')[2].rstrip(')')}"
    if entry["system"] == BOTO3_SECRETS:
        return "bare-api, boto3 (before)"
    return entry["system"]


def _short(event: str) -> str:
    return event.removeprefix("events/") or "-"


def _functions(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(entry["function"] for entry in entries if entry["function"]))


def _versus(entry: dict, entries: list[dict], value) -> str:
    """``x floor`` for bare-api rows, ``x bare-api`` for baseline rows."""
    if entry["system"] in (BARE_API, BOTO3_SECRETS):
        reference = _find(entries, function=entry["function"], system=FLOOR, route=entry["route"])
        return f"{ratio(value(entry), value(reference)):.2f}x floor" if reference else ""
    if entry["system"] in (FASTAPI, POWERTOOLS):
        reference = _find(entries, function=entry["function"], system=BARE_API, event=entry["event"])
        return f"{ratio(value(entry), value(reference)):.2f}x bare-api" if reference else ""
    return ""


def _phases(entry: dict) -> str:
    """The network phases of a production cold start: medians of their start and end, in ms after the spawn."""
    found = entry.get("phases") or {}
    shown = [
        f"{label} {found[start]['p50']:.1f}-{found[end]['p50']:.1f}"
        for label, start, end in PHASES
        if start in found and end in found
    ]
    return f"{'':<34}network, ms after start: {', '.join(shown)}" if shown else ""


def _cold_rows(entries: list[dict], versus) -> list[str]:
    def row(entry: dict, indent: str) -> str:
        s = entry["summary"]
        spread = f"[{s['total_ms']['p25']:.1f}-{s['total_ms']['p75']:.1f}]"
        importing = f"{s['import_ms']['p50']:.1f}" if entry["system"] != INTERPRETER else "-"
        calling = f"{s['invoke_ms']['p50']:.1f}" if entry["system"] != INTERPRETER else "-"
        cpu = f"{s['cpu_ms']['p50']:.1f}" if "cpu_ms" in s and entry["system"] != INTERPRETER else "-"
        return (
            f"{indent + _label(entry):<34}{_short(entry['event']):<24}{s['total_ms']['p50']:>8.1f} {spread:<15}"
            f"{cpu:>7}{importing:>12}{calling:>10}{_rss_mib(entry):>8.1f}MB  {versus(entry)}"
        ).rstrip()

    lines = [row(entry, "") for entry in entries if entry["system"] == INTERPRETER]
    for function in _functions(entries):
        group = [entry for entry in entries if entry["function"] == function]
        lines.append(f"{function} ({group[0]['route']})")
        for entry in [entry for system in SYSTEM_ORDER for entry in group if entry["system"] == system]:
            lines.append(row(entry, "  "))
            if _phases(entry):
                lines.append(_phases(entry))
    return lines


def _cold_header(title: str) -> list[str]:
    return [
        title,
        f"{'function / system':<34}{'event':<24}{'total':>8} {'spread':<15}{'CPU':>7}{'import+init':>12}"
        f"{'1st call':>10}{'peak RSS':>10}  ratio",
    ]


def production_table(results: dict) -> str:
    """The headline: each function as deployed, against the floor of a TLS client and the old boto3 path."""
    entries = [entry for entry in results["cold"] if entry.get("config") == PRODUCTION]
    if not entries:
        return "Production configuration: not measured in this run (MONGODB_URI set, or --no-production)"
    delay = (results.get("production") or {}).get("delay_ms", 0.0)
    samples = results["settings"]["cold_samples"]
    title = (
        f"Cold start as deployed, ms: median [p25-p75] of {samples} fresh interpreters, process start to first "
        f"response; CPU = user+sys of the process, all threads. Secrets as references in a local AWS endpoint "
        f"over HTTPS, the database over TLS, {delay:g} ms each way to both; ratio in CPU time"
    )
    return "\n".join(_cold_header(title) + _cold_rows(entries, lambda entry: _versus(entry, entries, _cpu_median)))


def cold_table(results: dict) -> str:
    cold = _plain(results["cold"])
    samples = results["settings"]["cold_samples"]
    title = (
        f"Cold start with a plain local URI (the driver floor), ms: median [p25-p75] of {samples} fresh "
        f"interpreters each, process start to first response; ratio in wall time"
    )
    lines = _cold_header(title) + _cold_rows(cold, lambda entry: _versus(entry, cold, _cold_median))
    built = [entry for entry in cold if entry.get("artifact_bytes")]
    if built:
        sizes = ", ".join(f"{entry['function']} {entry['artifact_bytes'] / 2**20:.1f} MB" for entry in built)
        lines.append(f"Deployment artifacts (make build, zipped): {sizes}")
    else:
        lines.append("Deployment artifacts: none built (run `make build` first to list their sizes)")
    return "\n".join(lines)


def costs_table(results: dict) -> str:
    measured = results.get("costs") or []
    if not measured:
        return "Set-up costs: not measured in this run"
    lines = ["Set-up costs, CPU ms: median [p25-p75], each step alone in fresh interpreters after what precedes it"]
    for cost in measured:
        s = cost["cpu_ms"]
        lines.append(f"  {cost['what']:<58}{s['p50']:>8.2f} [{s['p25']:.2f}-{s['p75']:.2f}]")
    return "\n".join(lines)


def warm_table(results: dict) -> str:
    warm = results["warm"]
    settings = results["settings"]
    lines = [
        f"Warm latency, us per invocation (the handler call alone): {settings['warm_count']} invocations per event "
        f"after {settings['warmup']} warm-up, alternating in chunks of {settings['chunk']}",
        f"{'function / system':<34}{'event':<30}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>10}  ratio",
    ]

    def p50(entry: dict) -> float:
        return entry["summary_us"]["p50"]

    for function in _functions(warm):
        entries = [entry for entry in warm if entry["function"] == function]
        lines.append(f"{function}")
        ordered = [entry for system in SYSTEM_ORDER for entry in entries if entry["system"] == system]
        for entry in ordered:
            s = entry["summary_us"]
            versus = _versus(entry, warm, p50)
            floor = _find(warm, function=function, system=FLOOR, route=entry["route"])
            if entry["system"] == BARE_API and floor is not None:
                versus += f" (+{p50(entry) - p50(floor):.1f} us)"
            lines.append(
                f"{'  ' + _label(entry):<34}{_short(entry['event']):<30}{s['p50']:>9.1f}{s['p95']:>9.1f}"
                f"{s['p99']:>9.1f}{s['max']:>10.1f}  {versus}".rstrip()
            )
    return "\n".join(lines)


def header(results: dict) -> str:
    m = results["machine"]
    return (
        f"bare-api benchmark, {results['generated_at']} (commit {m['commit'] or '?'}): {m['cpu_count']} CPUs "
        f"({m['cpu_model']}), {m['implementation']} {m['python']}, {m['platform']}\n"
        f"database: {results['database']}; bytecode: {results['settings']['bytecode']}; "
        f"load average at start {m['load_average'][0]:.2f}; {placement(m.get('cpus') or {})}"
    )


def placement(cpus: dict) -> str:
    """Where the measured processes ran, as :mod:`bench.cpus` placed them."""
    if not cpus:
        return "measured processes shared the CPUs with the servers"
    return (
        f"measured processes on CPU {', '.join(map(str, cpus['measured']))}, servers and harness on CPU "
        f"{', '.join(map(str, cpus['harness']))}"
    )


def render(results: dict) -> str:
    """The whole report: header, cold and warm tables, and one line per target."""
    targets = [Target(**target) for target in results.get("targets", [])] or check_targets(results)
    from bench import first_request

    parts = [
        header(results),
        production_table(results),
        cold_table(results),
        costs_table(results),
        warm_table(results),
        *([first_request.report(results)] if results.get("first_request") else []),
        "Targets",
    ]
    return "\n\n".join(parts) + "\n" + "\n".join(t.line() for t in targets)


def save(results: dict, folder: Path, chart: bool = True) -> list[Path]:
    """Write ``bench-<time>.json``, ``.txt`` and (with ``chart``) ``.png`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"bench-{results['generated_at'].replace(':', '').replace('+0000', 'Z')}"
    paths = [stem.with_suffix(".json"), stem.with_suffix(".txt")]
    paths[0].write_text(json.dumps(results, indent=1))
    paths[1].write_text(render(results) + "\n")
    if chart:
        from bench.chart import draw

        paths.append(draw(results, stem.with_suffix(".png")))
    return paths


def page(results: dict, chart: str | None = None) -> str:
    """The run as a Markdown page: what was run, the chart (a relative link) and the whole report."""
    settings = results["settings"]
    events = settings.get("events") or []
    lines = [
        "# The latest benchmark run",
        "",
        "`make bench` writes this page (and `docs/benchmark.png`) at the end of every run that completes. How a run "
        "works and what the numbers mean: [Performance](performance.md).",
        "",
        f"Run of {results['generated_at']}: {len(events)} events, {settings['cold_samples']} cold starts per "
        f"subject, {settings['warm_count']} warm invocations per event, in {results.get('duration_s', '?')} s.",
    ]
    if chart:
        lines += ["", f"![Cold start and warm latency per system]({chart})"]
    lines += ["", "```text", render(results), "```", ""]
    return "\n".join(lines)


def publish(results: dict, target: Path, chart: Path | None, chart_copy: Path) -> list[Path]:
    """Write the run's :func:`page` to ``target`` and, if there is a ``chart``, copy it to ``chart_copy``.

    Returns the files written. The page links to the copy, relative to its own folder.
    """
    written, link = [target], None
    if chart is not None:
        chart_copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chart, chart_copy)
        written.append(chart_copy)
        link = Path(os.path.relpath(chart_copy, target.parent)).as_posix()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(results, link))
    return written

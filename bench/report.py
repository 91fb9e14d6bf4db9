"""The benchmark's results as a table, the targets as PASS/FAIL lines, and the files under ``results/``.

Everything here works on the plain results dict that :mod:`bench.run` builds
and saves as JSON, so a saved run can be rendered again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.stats import ratio
from bench.subjects import BARE_API, FASTAPI, FLOOR, INTERPRETER, POWERTOOLS

COLD_FLOOR_LIMITS = {"GET /me": 1.15, "GET /health": 1.2, "authorizer": 1.2}
COLD_SPEEDUP_OVER_FASTAPI = 2.5
WARM_ME_MAX_ABOVE_FLOOR_US = 50.0
WARM_P99_OVER_P50 = 2.0
WARM_AUTHORIZER_MAX_RATIO = 1.5
SYSTEM_ORDER = (BARE_API, FLOOR, FASTAPI, POWERTOOLS)


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


def cold_targets(results: dict) -> list[Target]:
    targets = []
    cold = results["cold"]
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
    if me is None or me_floor is None:
        targets.append(Target(name, None, "no GET /me event in this run"))
        targets.append(Target(f"warm GET /me p99 under {WARM_P99_OVER_P50}x p50", None, "no GET /me event"))
    else:
        p50, floor_p50, p99 = me["summary_us"]["p50"], me_floor["summary_us"]["p50"], me["summary_us"]["p99"]
        detail = f"{p50:.1f} us vs find_one {floor_p50:.1f} us (+{p50 - floor_p50:.1f} us) on {me['event']}"
        targets.append(Target(name, p50 - floor_p50 <= WARM_ME_MAX_ABOVE_FLOOR_US, detail))
        floor_p99 = me_floor["summary_us"]["p99"]
        detail = (f"p99 {p99:.1f} us, p50 {p50:.1f} us ({ratio(p99, p50):.2f}x); "
                  f"the raw find_one's own p99 is {ratio(floor_p99, floor_p50):.2f}x its p50")
        name = f"warm GET /me p99 under {WARM_P99_OVER_P50}x p50"
        targets.append(Target(name, p99 < WARM_P99_OVER_P50 * p50, detail))
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
    """Every target of the issue, judged on ``results``; SKIP where the run did not measure it."""
    return cold_targets(results) + warm_targets(results)


def _label(entry: dict) -> str:
    if entry["system"] == FLOOR:
        return f"floor: {entry['subject']}"
    if entry["system"] == INTERPRETER:
        return "interpreter: python -c pass"
    return entry["system"]


def _short(event: str) -> str:
    return event.removeprefix("events/") or "-"


def _functions(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(entry["function"] for entry in entries if entry["function"]))


def _versus(entry: dict, entries: list[dict], value) -> str:
    """``x floor`` for bare-api rows, ``x bare-api`` for baseline rows."""
    if entry["system"] == BARE_API:
        reference = _find(entries, function=entry["function"], system=FLOOR, route=entry["route"])
        return f"{ratio(value(entry), value(reference)):.2f}x floor" if reference else ""
    if entry["system"] in (FASTAPI, POWERTOOLS):
        reference = _find(entries, function=entry["function"], system=BARE_API, event=entry["event"])
        return f"{ratio(value(entry), value(reference)):.2f}x bare-api" if reference else ""
    return ""


def cold_table(results: dict) -> str:
    cold = results["cold"]
    samples = results["settings"]["cold_samples"]
    lines = [
        f"Cold start, ms: median [p25-p75] of {samples} fresh interpreters each, process start to first response",
        f"{'function / system':<34}{'event':<30}{'total':>8} {'spread':<15}{'import+init':>12}{'1st call':>10}"
        f"{'peak RSS':>10}  ratio",
    ]

    def row(entry: dict, indent: str) -> str:
        s = entry["summary"]
        rss_mb = s["max_rss_kb"]["p50"] / 1024
        spread = f"[{s['total_ms']['p25']:.1f}-{s['total_ms']['p75']:.1f}]"
        importing = f"{s['import_ms']['p50']:.1f}" if entry["system"] != INTERPRETER else "-"
        calling = f"{s['invoke_ms']['p50']:.1f}" if entry["system"] != INTERPRETER else "-"
        versus = _versus(entry, cold, _cold_median)
        return (f"{indent + _label(entry):<34}{_short(entry['event']):<30}{s['total_ms']['p50']:>8.1f} {spread:<15}"
                f"{importing:>12}{calling:>10}{rss_mb:>8.1f}MB  {versus}").rstrip()

    for entry in cold:
        if entry["system"] == INTERPRETER:
            lines.append(row(entry, ""))
    for function in _functions(cold):
        entries = [entry for entry in cold if entry["function"] == function]
        lines.append(f"{function} ({entries[0]['route']})")
        lines += [row(entry, "  ") for system in SYSTEM_ORDER for entry in entries if entry["system"] == system]
    built = [entry for entry in cold if entry.get("artifact_bytes")]
    if built:
        sizes = ", ".join(f"{entry['function']} {entry['artifact_bytes'] / 2**20:.1f} MB" for entry in built)
        lines.append(f"Deployment artifacts (make build, zipped): {sizes}")
    else:
        lines.append("Deployment artifacts: none built (run `make build` first to list their sizes)")
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
            lines.append(f"{'  ' + _label(entry):<34}{_short(entry['event']):<30}{s['p50']:>9.1f}{s['p95']:>9.1f}"
                         f"{s['p99']:>9.1f}{s['max']:>10.1f}  {versus}".rstrip())
    return "\n".join(lines)


def header(results: dict) -> str:
    m = results["machine"]
    return (f"bare-api benchmark, {results['generated_at']} (commit {m['commit'] or '?'}): {m['cpu_count']} CPUs "
            f"({m['cpu_model']}), {m['implementation']} {m['python']}, {m['platform']}\n"
            f"database: {results['database']}; bytecode: {results['settings']['bytecode']}; "
            f"load average at start {m['load_average'][0]:.2f}")


def render(results: dict) -> str:
    """The whole report: header, cold and warm tables, and one line per target."""
    targets = [Target(**target) for target in results.get("targets", [])] or check_targets(results)
    parts = [header(results), cold_table(results), warm_table(results), "Targets", *[t.line() for t in targets]]
    return "\n\n".join(parts[:4]) + "\n" + "\n".join(parts[4:])


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

"""One chart of a benchmark run: cold start and warm p50/p99 per system, drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path

from bench.subjects import BARE_API, FASTAPI, FLOOR, PLAIN, POWERTOOLS

SYSTEMS = (BARE_API, FLOOR, FASTAPI, POWERTOOLS)
COLORS = {BARE_API: "#1b7837", FLOOR: "#969696", FASTAPI: "#c51b7d", POWERTOOLS: "#2166ac"}
ROUTES = ("GET /health", "GET /me", "authorizer")


def _entry(entries: list[dict], route: str, system: str) -> dict | None:
    return next(
        (e for e in entries if e["route"] == route and e["system"] == system and e.get("config", PLAIN) == PLAIN), None
    )


def _bars(axis, entries: list[dict], value, title: str, unit: str) -> None:
    width = 0.8 / len(SYSTEMS)
    for index, system in enumerate(SYSTEMS):
        found = [(position, _entry(entries, route, system)) for position, route in enumerate(ROUTES)]
        found = [(position, entry) for position, entry in found if entry is not None]
        if not found:
            continue
        positions = [position + (index - (len(SYSTEMS) - 1) / 2) * width for position, _ in found]
        heights, errors = zip(*(value(entry) for _, entry in found), strict=True)
        axis.bar(
            positions,
            heights,
            width,
            yerr=list(zip(*errors, strict=True)),
            capsize=3,
            label=system,
            color=COLORS[system],
        )
    axis.set_xticks(range(len(ROUTES)), ROUTES)
    axis.set_title(title)
    axis.set_ylabel(unit)
    axis.grid(axis="y", alpha=0.3)


def _cold(entry: dict):
    total = entry["summary"]["total_ms"]
    return total["p50"], (total["p50"] - total["p25"], total["p75"] - total["p50"])


def _warm(entry: dict):
    latency = entry["summary_us"]
    return latency["p50"], (0.0, latency["p99"] - latency["p50"])


def draw(results: dict, path: Path) -> Path:
    """Save the chart of ``results`` as a PNG at ``path``; return the path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (cold_axis, warm_axis) = pyplot.subplots(1, 2, figsize=(12, 5.2), layout="constrained")
    _bars(cold_axis, results["cold"], _cold, "Cold start: median, bar p25-p75", "ms")
    _bars(warm_axis, results["warm"], _warm, "Warm latency: p50, whisker to p99", "µs (log scale)")
    warm_axis.set_yscale("log")
    handles, labels = cold_axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    machine = results["machine"]
    figure.suptitle(
        f"bare-api vs floor and baselines ({machine['cpu_count']} CPUs, Python {machine['python']}, "
        f"{results['generated_at'][:10]})"
    )
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path

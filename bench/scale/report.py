"""The report: results/bench_scale.md (tables and what limited throughput), the .json it is
rendered from, the .png (latency over time, CDF, by turn) and the raw latency series."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME

from bench.profiling import profile_section
from bench.scale.faults import FAULT_TAIL_S, STALLED_S
from bench.scale.load import ENDPOINTS
from tests.support.stack import ROOT

RESULTS = ROOT / "results"
QUICK_RESULTS = RESULTS / "tmp" / "bench-scale-quick"

PHASE_TITLES = {"load": "load", "faults": "load with faults"}


def limits_note(phase: dict[str, Any]) -> list[str]:
    """What bounded throughput in the load phase, from the CPU each process used."""
    cpu = phase["cpu"]
    cores, busy, other = cpu["cores"], cpu["machine_cores_busy"], cpu["other_cores"]
    used = sorted(cpu["cores_used"].items(), key=lambda item: -item[1])
    ms_per_turn = {role: value * cpu["wall_s"] / phase["turns_answered"] * 1000 for role, value in used}

    def per_turn(prefix: str) -> float:
        return sum(value for role, value in ms_per_turn.items() if role.startswith(prefix))

    cluster = busy - other
    rasa = sum(value for role, value in used if role.startswith("rasa"))
    lines = [
        f"The machine's {cores} cores were {busy / cores:.0%} busy during the load ({busy:.2f} cores): "
        + ", ".join(f"{role} {value:.2f}" for role, value in used)
        + f", everything else on the machine {other:.2f}.",
        f"CPU per answered turn: {per_turn('rasa'):.0f} ms in the Rasa servers, {per_turn('actions'):.0f} ms in "
        f"the action servers, {per_turn('postgres'):.0f} ms in PostgreSQL, "
        f"{per_turn('nginx') + per_turn('redis'):.0f} ms in nginx and Redis, {per_turn('bench'):.0f} ms in the "
        "load generator.",
    ]
    if busy >= 0.85 * cores:
        lines.append(
            f"The limit was CPU: the cores were saturated, and the two Rasa servers took {rasa / cluster:.0%} of "
            "the cluster's share (NLU, the policies and the tracker, on one Python event loop per server). More "
            "cores or more Rasa servers raise the throughput; more requests in flight only lengthen the queue."
        )
    else:
        lines.append(
            "The cores were not saturated: the limit was elsewhere (the requests in flight, the lock store "
            "serialising each conversation, or waiting on PostgreSQL)."
        )
    if other > 0.2:
        lines.append(
            f"Other work on the machine took {other:.2f} cores meanwhile: on an idle machine the Rasa servers "
            "would get that CPU too, and the throughput would be higher."
        )
    lines.append(
        f"With {phase['in_flight']} requests in flight and {phase['throughput_turns_s']:.1f} turns/s, a turn spends "
        f"about {phase['in_flight'] / phase['throughput_turns_s']:.1f} s in the servers (Little's law; measured "
        f"p50 {phase['latency']['p50_ms'] / 1000:.1f} s), for about {per_turn(''):.0f} ms of CPU in all processes: "
        "under this load a turn mostly waits for a core."
    )
    return lines


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def both(phases: dict[str, Any], label: str, cell: Callable[[dict[str, Any]], str]) -> list[str]:
    """A row with the same figure for each phase."""
    return [label] + [cell(phases[name]) for name in PHASE_TITLES]


def percentiles(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures[key]:.0f}" for key in ("p50_ms", "p95_ms", "p99_ms"))


def overview_section(phases: dict[str, Any]) -> list[str]:
    rows = [
        both(phases, "conversations completed", lambda p: f"{p['completed']} / {p['conversations']}"),
        both(phases, "conversations with an answer off script", lambda p: str(p["off_script_conversations"])),
        both(phases, "turns answered / messages sent (with retries)",
             lambda p: f"{p['turns_answered']} / {p['messages_sent']}"),
        both(phases, "wall time (s)", lambda p: f"{p['wall_s']:.0f}"),
        both(phases, "throughput (turns/s)", lambda p: f"{p['throughput_turns_s']:.1f}"),
        both(phases, "latency per turn p50 / p95 / p99 (ms)", lambda p: percentiles(p["latency"])),
        both(phases, "wait in the client for a slot, p50 / p95 / p99 (ms)", lambda p: percentiles(p["wait_for_slot"])),
        both(phases, "errors by kind",
             lambda p: ", ".join(f"{kind}: {n}" for kind, n in sorted(p["errors"].items())) or "none"),
        both(phases, "user events stored / messages sent",
             lambda p: f"{p['events']['user_events_stored']} / {p['events']['messages_sent']}"),
        both(phases, "**lost** (answered normally, not stored once)", lambda p: f"**{p['events']['lost']}**"),
        both(phases, "**duplicated** (an attempt id stored twice)", lambda p: f"**{p['events']['duplicated']}**"),
        both(phases, "failed attempts stored all the same", lambda p: str(p["events"]["failed_but_stored"])),
        both(phases, "writes made / expected",
             lambda p: f"{p['writes']['writes_made']} / {p['writes']['writes_expected']}"),
        both(phases, "**double writes**", lambda p: f"**{p['writes']['double_writes']}**"),
        both(phases, "missing / unexpected writes",
             lambda p: f"{p['writes']['missing_writes']} / {p['writes']['unexpected_writes']}"),
    ]  # fmt: skip
    return ["## Load, then the same load with faults", "", *table(["", *PHASE_TITLES.values()], rows)]


def detail_section(phases: dict[str, Any]) -> list[str]:
    by_address = [
        [name] + [percentiles(phases[phase]["latency_by_endpoint"][name]) for phase in PHASE_TITLES]
        for name in ENDPOINTS
    ]
    empty = {"completed": 0, "as_scripted": 0, "conversations": 0}
    by_path = [
        [name]
        + [
            "{completed} / {as_scripted} / {conversations}".format(**phases[phase]["by_path"].get(name, empty))
            for phase in PHASE_TITLES
        ]
        for name in phases["load"]["by_path"]
    ]
    lines = [
        "### Latency by address (ms, p50 / p95 / p99)",
        "",
        *table(["address", *PHASE_TITLES.values()], by_address),
    ]
    lines += ["", "### Paths (completed / as scripted / conversations)", ""]
    lines += table(["path", *PHASE_TITLES.values()], by_path)
    reasons = {**phases["load"]["failure_reasons"], **phases["faults"]["failure_reasons"]}
    if reasons:
        lines += ["", "Conversations that did not complete: " + "; ".join(f"{k}: {n}" for k, n in reasons.items())]
    examples = phases["faults"]["off_script_examples"][:4] + phases["load"]["off_script_examples"][:4]
    if examples:
        lines += ["", "Answers off script (the first of each such conversation, a few):", ""]
        lines += [f"- {e['path']}, turn {e['turn']} {e['sent']!r} → {e['reply'][:160]!r}" for e in examples]
    return lines


def faults_section(phase: dict[str, Any]) -> list[str]:
    rows = []
    for fault in phase["faults"]:
        if not fault["injected"]:
            rows.append([fault["fault"], "–", "–", "–", "–", "not injected: the load had finished"])
            continue
        rows.append([
            fault["fault"], f"{fault['at_s']:.0f}", f"{fault['recovered_s']:.0f}", str(fault["failed_attempts"]),
            f"{fault['slowest_turn_ms']:.0f}", fault["error"] or "",
        ])  # fmt: skip
    header = ["fault", "at (s)", "recovered (s)", "failed attempts", "slowest answered turn (ms)", "note"]
    stalled = phase.get("stalled_turns") or {}
    note = []
    if stalled.get("answered_after_30s"):
        note = [
            "",
            f"{stalled['answered_after_30s']} answered turns took over {STALLED_S:.0f} s; "
            f"{stalled['retrying_a_cut_off_message']} of them retried a message cut off inside a killed server: "
            "that conversation's lock ticket stays taken until the server has restarted and given it back "
            f"(at most Rasa's lock lifetime, {LOCK_LIFETIME} s).",
        ]
    return [
        "### Faults",
        "",
        "Seconds from the start of the phase. Failed attempts: those that ended between the fault and "
        f"{FAULT_TAIL_S:.0f} s after recovery; the slowest answered turn in the air meanwhile.",
        "",
        *table(header, rows),
        *note,
    ]


def cost_section(cost: dict[str, Any]) -> list[str]:
    (first5, last5), (first200, last200) = cost["windows"]["turn 5"], cost["windows"]["turn 200"]
    row = [
        f"{cost['median_ms']['turn 5']:.0f}", f"{cost['median_ms']['turn 200']:.0f}", f"{cost['ratio']:.2f}×",
        f"≤ {cost['target']}× ({'pass' if cost['pass'] else '**miss**'})",
    ]  # fmt: skip
    return [
        "## Constant cost",
        "",
        f"After the load, alone on the cluster: {cost['pairs']} conversations of {cost['turns']} turns; median "
        f"latency of their turns {first200}-{last200} against turns {first5}-{last5} of as many fresh conversations "
        f"({cost['samples_per_window']} turns each, the same mix of order lookups and questions), each late turn "
        "sent right after an early one, to the same address, so that other work on the machine weighs on both "
        "alike.",
        "",
        *table(["turn 5 (ms)", "turn 200 (ms)", "turn 200 / turn 5", "target"], [row]),
    ]


def resources_section(phases: dict[str, Any]) -> list[str]:
    load, faults = phases["load"], phases["faults"]
    memory_rows = [
        [name, *(f"{mb:.0f}" for mb in (load["rss_before_mb"][name], load["rss_after_mb"][name],
                                         faults["rss_after_mb"][name]))]
        for name in load["rss_before_mb"]
    ]  # fmt: skip
    cpu_rows = [
        both(phases, role, lambda p, r=role: f"{p['cpu']['cores_used'][r]:.2f}") for role in load["cpu"]["cores_used"]
    ]
    cpu_rows.append(both(phases, "everything else on the machine", lambda p: f"{p['cpu']['other_cores']:.2f}"))
    cpu_rows.append(both(phases, "**machine**", lambda p: f"**{p['cpu']['machine_cores_busy']:.2f}**"))
    return [
        "## Memory (RSS, MB)",
        "",
        *table(["server", "before the load", "after the load", "after the faults"], memory_rows),
        "",
        "A server killed and restarted in the fault phase shows its new process.",
        "",
        "## CPU (cores used, on average over the phase)",
        "",
        *table(["process", *PHASE_TITLES.values()], cpu_rows),
    ]


def markdown(report: dict[str, Any]) -> str:
    phases = report["phases"]
    quick = " (this run: --quick)" if report["quick"] else ""
    lines = [
        "# Scale-out benchmark",
        "",
        f"{report['date']}, {report['cores']} cores, Python {report['python']}; regenerate with "
        f"`make bench-scale`{quick}. Wall time {report['wall_s'] / 60:.1f} min, of which "
        f"{report['startup_s']:.0f} s to start the cluster.",
        "",
        "The cluster of `make test-scale` (tests/support/cluster.py): nginx in front of 2 Rasa servers and 2 "
        "action servers, PostgreSQL tracker store (`WindowedSQLTrackerStore`), Redis lock store, "
        f"{report.get('order_store', 'one order store')}. {report['conversations']} conversations open at once, "
        "each a whole SPEC §4 path on an order of its own; turn i of conversation c goes to "
        "[nginx, rasa 1, rasa 2][(c+i) % 3], from the "
        f"conversation's own loopback address; at most {report['in_flight']} requests in flight. On an error, a "
        f"timeout or \"try again\" the buyer waits 1-2 s and sends the same text again, to the next address (at "
        f"most {report['retries']} times).",
        "",
        *overview_section(phases),
        "",
        *detail_section(phases),
        "",
        *faults_section(phases["faults"]),
        "",
        *cost_section(report["constant_cost"]),
        "",
        *resources_section(phases),
        "",
        "## What limited throughput",
        "",
        *(f"- {line}" for line in report["limits"]),
        "",
        *profile_section(report.get("profile", {})),
        "![latency over time, latency CDF, latency by turn of one long conversation](bench_scale.png)",
    ]
    return "\n".join(lines) + "\n"


def plot_phase(axis: Any, points: list, faults: list[dict[str, Any]], title: str) -> None:
    """Every request's latency at the moment it ended (so that errors line up with the fault
    that caused them); errors in red; faults shaded."""
    ok = [(t, s * 1000) for t, s, kind, *_ in points if kind == "ok"]
    bad = [(t, s * 1000) for t, s, kind, *_ in points if kind != "ok"]
    if ok:
        axis.scatter(*zip(*ok, strict=True), s=2, alpha=0.3, label="answered")
    if bad:
        axis.scatter(*zip(*bad, strict=True), s=14, marker="x", color="red", label="error / try again")
    for fault in faults:
        if fault["injected"]:
            axis.axvspan(fault["at_s"], max(fault["recovered_s"], fault["at_s"] + 1), color="orange", alpha=0.25)
            axis.annotate(fault["fault"], (fault["at_s"], 0.97), xycoords=("data", "axes fraction"), rotation=90,
                          va="top", fontsize=7)  # fmt: skip
    axis.set(
        yscale="log", xlabel="seconds since the phase began (end of the request)", ylabel="latency (ms)", title=title
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)


def plot_cdf(axis: Any, series: dict[str, list]) -> None:
    for phase, label in PHASE_TITLES.items():
        values = sorted(s * 1000 for _, s, kind, *_ in series[phase] if kind == "ok")
        if values:
            axis.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
    axis.set(xscale="log", xlabel="latency of an answered turn (ms)", ylabel="share of turns", title="Latency CDF")
    axis.grid(alpha=0.3)
    axis.legend()


def plot_length(axis: Any, cost: dict[str, Any]) -> None:
    turns = cost["latency_ms_by_turn"]
    axis.plot(range(1, len(turns) + 1), turns, lw=0.8)
    for name, (first, last) in cost["windows"].items():
        axis.axvspan(first, last, color="green", alpha=0.2)
        axis.annotate(f"{name}: {cost['median_ms'][name]:.0f} ms", (first, 0.95), xycoords=("data", "axes fraction"),
                      fontsize=8, ha="left" if first < len(turns) / 2 else "right")  # fmt: skip
    title = f"A long conversation · turn 200 / turn 5 = {cost['ratio']:.2f}"
    axis.set(xlabel="turn", ylabel="latency (ms)", title=title)
    axis.grid(alpha=0.3)


def plot(report: dict[str, Any], series: dict[str, list], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():  # matplotlib's own pyparsing deprecations
        warnings.simplefilter("ignore")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
        for axis, phase in zip(axes[0], PHASE_TITLES, strict=True):
            plot_phase(axis, series[phase], report["phases"][phase]["faults"], PHASE_TITLES[phase].capitalize())
        plot_cdf(axes[1][0], series)
        plot_length(axes[1][1], report["constant_cost"])
        fig.suptitle(f"{report['date']} · {report['cores']} cores · {report['conversations']} conversations open "
                     f"at once · {report['in_flight']} requests in flight")  # fmt: skip
        fig.tight_layout()
        fig.savefig(path, dpi=110)


def series_path(quick: bool) -> Path:
    """Where every request's (start, latency, outcome) of the last run is kept, for --report-only."""
    return RESULTS / "tmp" / f"bench_scale_series{'_quick' if quick else ''}.json"


def write_report(report: dict[str, Any], series: dict[str, list], out: Path) -> str:
    """results/bench_scale.{json,md,png}; the raw latency series goes under results/tmp."""
    series_path(report["quick"]).write_text(json.dumps(series))
    (out / "bench_scale.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    plot(report, series, out / "bench_scale.png")
    text = markdown(report)
    (out / "bench_scale.md").write_text(text)
    return text

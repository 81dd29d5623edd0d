"""The report's figures (matplotlib, SVG text): a timeline per strategy, the distributions
of outage, degraded time and disruption, and duration against disruption per run.

Figures that do not mislead: every timeline panel has its own time axis, in minutes or
hours; any number of workloads get distinct lines (ten colours times four dash patterns,
then markers), with the legend outside the plot; the control plane, the add-ons and each
pool's roll are shaded and faults marked; runs that halted or rolled back are drawn as red
crosses, never as if they had finished."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "midair", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
          "#bcbd22")
DASHES = ("-", "--", ":", "-.")
MARKERS = ("", "o", "s", "^", "v", "D", "x", "+")
PHASE_COLORS = ("#fbb4ae", "#b3cde3", "#ccebc5", "#fed9a6", "#decbe4", "#ffffcc")
HALTED = "#a33"


def line_style(k: int) -> dict:
    """The k-th workload's line: every k gets a combination no other k below 320 has."""
    return {"color": COLORS[k % len(COLORS)], "linestyle": DASHES[(k // len(COLORS)) % len(DASHES)],
            "marker": MARKERS[(k // (len(COLORS) * len(DASHES))) % len(MARKERS)], "markevery": 0.1}


def time_unit(end_s: float) -> tuple[float, str]:
    """Minutes, or hours for runs past two hours."""
    return (3600.0, "hours") if end_s > 7200 else (60.0, "minutes")


def disruption(metrics: dict) -> float:
    """Pods whose containers were stopped by the upgrade: evicted or restarted in place."""
    return metrics["pods_evicted"] + metrics["pods_restarted"]


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def timeline(runs: dict[str, dict]) -> str:
    """``runs``: label -> {"api": [(t, up)], "workloads": {key: [(t, ready, desired)]}, "end": t,
    "phases": [(name, first, last)], "faults": [t], "halted": bool}."""
    keys = sorted({k for run in runs.values() for k in run["workloads"]})
    style = {key: line_style(k) for k, key in enumerate(keys)}
    fig, axes = plt.subplots(len(runs), 1, figsize=(9, 2.6 * len(runs)), squeeze=False)
    for ax, (label, run) in zip(axes[:, 0], runs.items()):
        unit, unit_name = time_unit(run["end"])
        phases = run.get("phases", [])
        for k, (name, first, last) in enumerate(phases):  # one lane each above the lines: phases overlap
            y = 1.04 + 0.07 * k
            ax.broken_barh([(first / unit, max(last - first, unit / 100) / unit)], (y, 0.05),
                           color=PHASE_COLORS[k % len(PHASE_COLORS)], edgecolor="#999", lw=0.4, zorder=1)
            ax.text(last / unit, y + 0.025, f" {name}", fontsize=6.5, va="center", ha="left", color="#555")
        for t in run.get("faults", []):
            ax.axvline(t / unit, color="#555", lw=0.8, ls=":", zorder=1)
        points = run["api"] + [(run["end"], run["api"][-1][1])]
        for (t0, up), (t1, _) in zip(points, points[1:]):
            if not up:
                ax.axvspan(t0 / unit, t1 / unit, color="#d62728", alpha=0.25, lw=0, zorder=1)
        for key in keys:
            series = run["workloads"].get(key)
            if not series:
                continue
            xs, ys = [], []
            for t, ready, desired in series + [(run["end"], series[-1][1], series[-1][2])]:
                if xs:
                    xs.append(t / unit)
                    ys.append(ys[-1])
                xs.append(t / unit)
                ys.append(min(1.0, ready / desired) if desired else 1.0)  # a surge pod is not above 100%
            ax.plot(xs, ys, lw=1.1, label=key.split("/")[-1], zorder=2, **style[key])
        ax.set_ylim(-0.05, 1.06 + 0.07 * len(phases))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlim(0, run["end"] / unit)
        ax.set_ylabel("ready / desired")
        ax.set_xlabel(f"{unit_name} since the upgrade started")
        ended = " (halted)" if run.get("halted") else ""
        ax.set_title(f"{label}: a representative run{ended} (red: API unavailable)", loc="left",
                     color=HALTED if ended else "#222")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[1:, 0]:
        for h, lb in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lb, h)
    fig.legend(seen.values(), seen.keys(), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False,
               title="workloads", title_fontsize=7)
    fig.tight_layout()
    return _svg(fig)


def _stopped(halted: dict[str, list[bool]] | None, label: str, n: int) -> list[bool]:
    return list(halted.get(label, [False] * n)) if halted else [False] * n


def distributions(rows_by_label: dict[str, list[dict]], halted: dict[str, list[bool]] | None = None) -> str:
    """One dot per run; a run that halted or rolled back is a red cross. Times in minutes. Long labels
    (``midair recommend``'s candidates) turn the boxes on their side, labels on the left."""
    panels = (("outage_s", "outage (min)"), ("degraded_s", "degraded (min)"), (None, "pods disrupted"))
    labels = list(rows_by_label)
    flat = max(len(label) for label in labels) > 14
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 0.45 * len(labels) + 1.2) if flat else (9.5, 3.0), sharey=flat)
    for ax, (metric, title) in zip(axes, panels):
        data = [[(disruption(r) if metric is None else r[metric] / 60) for r in rows_by_label[label]]
                for label in labels]
        ax.boxplot(data, showfliers=False, orientation="horizontal" if flat else "vertical")
        for i, (label, values) in enumerate(zip(labels, data), 1):
            stopped = _stopped(halted, label, len(values))
            offsets = [((j * 0.618) % 1 - 0.5) * 0.3 for j in range(len(values))]
            done = [(i + o, v) for o, v, h in zip(offsets, values, stopped) if not h]
            cut = [(i + o, v) for o, v, h in zip(offsets, values, stopped) if h]
            if done:
                ax.scatter(*zip(*[(v, p) if flat else (p, v) for p, v in done]), s=8,
                           color=COLORS[(i - 1) % len(COLORS)], alpha=0.7, zorder=3)
            if cut:
                ax.scatter(*zip(*[(v, p) if flat else (p, v) for p, v in cut]), s=14, color=HALTED, marker="x",
                           lw=0.9, zorder=4, label="halted or rolled back" if i == 1 else None)
        if flat:
            ax.set_yticks(range(1, len(labels) + 1), labels, fontsize=7)
            ax.invert_yaxis() if ax is axes[0] else None
        else:
            ax.set_xticks(range(1, len(labels) + 1), labels, rotation=15, ha="right")
        ax.set_title(title, loc="left")
    if halted and any(any(v) for v in halted.values()):
        fig.legend(handles=[plt.Line2D([], [], color=HALTED, marker="x", ls="", label="halted or rolled back")],
                   loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    fig.tight_layout()
    return _svg(fig)


def duration_vs_disruption(rows_by_label: dict[str, list[dict]], halted: dict[str, list[bool]] | None = None) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    longest = max((r["duration_s"] for rows in rows_by_label.values() for r in rows), default=0.0)
    unit, unit_name = time_unit(longest)
    for k, (label, rows) in enumerate(rows_by_label.items()):
        stopped = _stopped(halted, label, len(rows))
        done = [r for r, h in zip(rows, stopped) if not h]
        cut = [r for r, h in zip(rows, stopped) if h]
        if done:
            ax.scatter([r["duration_s"] / unit for r in done], [disruption(r) for r in done], s=14,
                       color=COLORS[k % len(COLORS)], alpha=0.75, label=label)
        if cut:
            ax.scatter([r["duration_s"] / unit for r in cut], [disruption(r) for r in cut], s=22, marker="x",
                       color=COLORS[k % len(COLORS)], lw=1.0, label=f"{label} (halted or rolled back)")
    ax.set_xlabel(f"upgrade duration ({unit_name}; for a halted run, until it stopped)")
    ax.set_ylabel("pods disrupted")
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("each point is one run", loc="left")
    return _svg(fig)


STRATEGY_MARKERS = {"inplace": "o", "replace": "s", "surge": "^", "bluegreen": "D"}


def pareto(points: list[dict]) -> str:
    """``midair recommend``'s candidates, one point each at its means: outage against duration and
    against extra node-hours. ``points``: {"label", "strategy", "outage_s", "duration_s",
    "extra_node_hours", "meets", "front", "recommended"}. Filled: meets every expectation; hollow:
    does not; ringed: on the Pareto front; a star: the recommendation."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), sharey=True)
    longest = max((p["duration_s"] for p in points), default=0.0)
    unit, unit_name = time_unit(longest)
    strategies = list(dict.fromkeys(p["strategy"] for p in points))
    for ax, (axis, title) in zip(axes, (("duration_s", f"duration ({unit_name})"),
                                        ("extra_node_hours", "extra node-hours"))):
        scale = unit if axis == "duration_s" else 1.0
        for k, strategy in enumerate(strategies):
            mine = [p for p in points if p["strategy"] == strategy]
            colour = COLORS[k % len(COLORS)]
            marker = STRATEGY_MARKERS.get(strategy, MARKERS[1 + k % (len(MARKERS) - 1)] or "o")
            for meets in (True, False):
                some = [p for p in mine if p["meets"] == meets]
                if some:
                    ax.scatter([p[axis] / scale for p in some], [p["outage_s"] / 60 for p in some], s=26,
                               marker=marker, edgecolors=colour, facecolors=colour if meets else "none", lw=1.0,
                               label=f"{strategy}{'' if meets else ' (fails an expectation)'}", zorder=3)
        front = sorted((p for p in points if p["front"]), key=lambda p: p[axis])
        if front:
            ax.scatter([p[axis] / scale for p in front], [p["outage_s"] / 60 for p in front], s=110,
                       facecolors="none", edgecolors="#333", lw=0.8, zorder=2,
                       label="on the Pareto front" if axis == "duration_s" else None)
        for p in points:
            if p["recommended"]:
                ax.scatter([p[axis] / scale], [p["outage_s"] / 60], s=170, marker="*", color="#e6a100",
                           edgecolors="#333", lw=0.6, zorder=4, label="recommended" if axis == "duration_s" else None)
        ax.set_xlabel(title)
    axes[0].set_ylabel("outage (min, mean over runs)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False, fontsize=7)
    axes[0].set_title("each point is one candidate's means", loc="left")
    fig.tight_layout()
    return _svg(fig)

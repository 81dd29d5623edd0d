"""The report's figures (matplotlib, SVG text): a timeline per strategy, the distributions
of outage, degraded time and disruption, and duration against disruption per run."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "midair", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


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
    """``runs``: label -> {"api": [(t, up)], "workloads": {key: [(t, ready, desired)]}, "end": t}."""
    fig, axes = plt.subplots(len(runs), 1, figsize=(8, 2.1 * len(runs)), sharex=True, squeeze=False)
    for ax, (label, run) in zip(axes[:, 0], runs.items()):
        end = run["end"] / 60
        points = run["api"] + [(run["end"], run["api"][-1][1])]
        for (t0, up), (t1, _) in zip(points, points[1:]):
            if not up:
                ax.axvspan(t0 / 60, t1 / 60, color="#d62728", alpha=0.2, lw=0)
        for k, (key, series) in enumerate(sorted(run["workloads"].items())):
            xs, ys = [], []
            for t, ready, desired in series + [(run["end"], series[-1][1], series[-1][2])]:
                if xs:
                    xs.append(t / 60)
                    ys.append(ys[-1])
                xs.append(t / 60)
                ys.append(min(1.0, ready / desired) if desired else 1.0)  # a surge pod is not above 100%
            ax.plot(xs, ys, lw=1.2, color=COLORS[k % len(COLORS)], label=key.split("/")[-1])
        ax.set_ylim(-0.05, 1.1)
        ax.set_xlim(0, end)
        ax.set_ylabel("ready / desired")
        ax.set_title(f"{label}: a representative run (red: API unavailable)", loc="left")
    axes[-1, 0].set_xlabel("minutes since the upgrade started")
    axes[0, 0].legend(loc="lower left", ncol=4, fontsize=7, frameon=False)
    return _svg(fig)


def distributions(rows_by_label: dict[str, list[dict]]) -> str:
    panels = (("outage_s", "outage (s)"), ("degraded_s", "degraded (s)"), (None, "pods disrupted"))
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
    labels = list(rows_by_label)
    for ax, (metric, title) in zip(axes, panels):
        data = [[(disruption(r) if metric is None else r[metric]) for r in rows_by_label[label]] for label in labels]
        ax.boxplot(data, showfliers=False)
        for i, values in enumerate(data, 1):
            offsets = [((j * 0.618) % 1 - 0.5) * 0.3 for j in range(len(values))]
            ax.scatter([i + o for o in offsets], values, s=8, color=COLORS[(i - 1) % len(COLORS)], alpha=0.7, zorder=3)
        ax.set_xticks(range(1, len(labels) + 1), labels, rotation=15, ha="right")
        ax.set_title(title, loc="left")
    fig.tight_layout()
    return _svg(fig)


def duration_vs_disruption(rows_by_label: dict[str, list[dict]]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for k, (label, rows) in enumerate(rows_by_label.items()):
        ax.scatter([r["duration_s"] / 60 for r in rows], [disruption(r) for r in rows], s=14,
                   color=COLORS[k % len(COLORS)], alpha=0.75, label=label)
    ax.set_xlabel("upgrade duration (minutes)")
    ax.set_ylabel("pods disrupted")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("each point is one run", loc="left")
    return _svg(fig)

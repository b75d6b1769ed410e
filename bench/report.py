"""Aggregates the runs of bench/run.py into per-workload results and a Markdown table.

Per workload key and thread count: Dendrite's figures (its default configuration; others, if run,
under ours_configs), PyTorch's per configuration and its best one (highest median throughput or
lowest median latency), min / median / max over repetitions, the ratio of medians (ours / PyTorch),
the speedup (how many times faster Dendrite is: the ratio, or its inverse for latencies), the
fraction of the FMA peak and the per-process peak RSS.
"""

import statistics
from collections import defaultdict


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def summarise(runs):
    """One side in one configuration: the figure and the extras that the table shows."""
    out = {"value": stats([r["value"] for r in runs])}
    for field in ("peak_fraction", "gflops", "vs_onednn", "onednn_sgemm_gflops", "min_us", "process_max_rss_mb",
                  "loss", "cpu_busy_before"):
        s = stats([r.get(field) for r in runs])
        if s:
            out[field] = s
    out["commands"] = sorted({r["command"] for r in runs})
    return out


def better(a, b, higher_is_better):
    return a > b if higher_is_better else a < b


def aggregate(records, missing):
    groups = defaultdict(list)  # keeps the order in which keys first appeared (W4's shapes in size order)
    for r in records:
        groups[(r["key"], r["run_threads"])].append(r)
    order = {k: i for i, k in enumerate(groups)}
    results = []
    for (key, threads), runs in sorted(groups.items(), key=lambda kv: (kv[0][0].split("/")[0], kv[0][1],
                                                                       order[kv[0]])):
        first = runs[0]
        hib = first["higher_is_better"]
        res = {"key": key, "workload": first["workload"], "name": first["name"], "threads": threads,
               "metric": first["metric"], "unit": first["unit"], "higher_is_better": hib}
        by_config = {"dendrite": defaultdict(list), "pytorch": defaultdict(list)}
        for r in runs:
            by_config[r["impl"]][r["config"]].append(r)
        ours_configs = {c: summarise(rs) for c, rs in by_config["dendrite"].items()}
        peer_configs = {c: summarise(rs) for c, rs in by_config["pytorch"].items()}
        res["ours"] = ours_configs.pop("default", None)
        res["ours_configs"] = ours_configs
        if res["ours"] is None and first["workload"] in missing:
            res["ours_missing"] = missing[first["workload"]]
        res["peer_configs"] = peer_configs
        best = None
        for c, s in peer_configs.items():
            if best is None or better(s["value"]["median"], peer_configs[best]["value"]["median"], hib):
                best = c
        res["peer_best_config"] = best
        res["peer"] = peer_configs.get(best)
        peer_blas = {r.get("blas") for r in runs if r["impl"] == "pytorch" and r.get("blas")}
        if peer_blas:
            res["peer_blas"] = ",".join(sorted(peer_blas))
        if res["ours"] and res["peer"]:
            ratio = res["ours"]["value"]["median"] / res["peer"]["value"]["median"]
            res["ratio"] = ratio
            if first["metric"] != "test_accuracy":  # a ratio of accuracies is no speed
                res["speedup"] = ratio if hib else 1 / ratio
        results.append(res)
    return results


def number(value, unit):
    if value is None:
        return "n/a"
    if unit == "accuracy":
        return f"{value:.4f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def cell(side, unit):
    if not side:
        return "—"
    v = side["value"]
    if v["n"] == 1:
        return number(v["median"], unit)
    return f"{number(v['median'], unit)} ({number(v['min'], unit)}–{number(v['max'], unit)})"


def pair(res, field, fmt):
    parts = []
    for side in (res.get("ours"), res.get("peer")):
        s = side.get(field) if side else None
        parts.append(fmt(s["median"]) if s else "—")
    return " / ".join(parts) if any(p != "—" for p in parts) else ""


def markdown(results, missing, peak_gflops=None):
    lines = [
        "| workload | threads | Dendrite | PyTorch at its best | config | ours / PyTorch | speedup "
        "| % FMA peak (ours / PyTorch) | peak RSS MiB (ours / PyTorch) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours = cell(r.get("ours"), r["unit"]) if r.get("ours") else (
            "not yet" if r.get("ours_missing") else "—")
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else ""
        speedup = f"{r['speedup']:.2f}x" if "speedup" in r else ""
        peak = pair(r, "peak_fraction", lambda v: f"{100 * v:.0f}%")
        rss = pair(r, "process_max_rss_mb", lambda v: f"{v:.0f}") if r["workload"] in ("W1", "W2", "W3") else ""
        accuracy = " test accuracy" if r["key"].endswith("/accuracy") else ""
        what = f"{r['workload']} {r['name']}{accuracy} ({r['unit']})"
        lines.append(f"| {what} | {r['threads']} | {ours} | {cell(r.get('peer'), r['unit'])} | "
                     f"{r.get('peer_best_config') or ''} | {ratio} | {speedup} | {peak} | {rss} |")
    lines.append("")
    lines.append("Medians over the repetitions, (min–max) beside them. speedup: how many times faster Dendrite "
                 "is (for latencies, PyTorch's over ours). % FMA peak: GFLOP/s over "
                 f"{f'{peak_gflops:.0f}' if peak_gflops else 'the FP32 FMA peak of one core'} per thread. "
                 "Peak RSS: each training process's own maximum (wait4).")
    for r in results:
        if r["workload"] == "W4" and r.get("ours") and r["ours"].get("vs_onednn"):
            lines.append(f"- {r['key']}, {r['threads']} thread(s): Dendrite at "
                         f"{100 * r['ours']['vs_onednn']['median']:.0f}% of oneDNN's own sgemm "
                         f"({number(r['ours']['onednn_sgemm_gflops']['median'], '')} GFLOP/s).")
    for r in results:  # "fast by default": our defaults against our tuned settings (--grid full)
        if r.get("ours") and r.get("ours_configs"):
            ours = r["ours"]["value"]["median"]
            tuned = {c: s["value"]["median"] for c, s in r["ours_configs"].items()}
            best = max(tuned.values()) if r["higher_is_better"] else min(tuned.values())
            share = ours / best if r["higher_is_better"] else best / ours
            lines.append(f"- {r['key']}, {r['threads']} thread(s): Dendrite's defaults {number(ours, r['unit'])}, "
                         + ", ".join(f"{c} {number(v, r['unit'])}" for c, v in tuned.items())
                         + f": defaults at {100 * share:.0f}% of the best tuned setting.")
    blas = {r.get("peer_blas") for r in results if r.get("peer_blas")}
    if "reference" in blas:
        lines.append("- **PyTorch ran on the reference BLAS (libblas3)**, not OpenBLAS: its linear layers and GEMMs "
                     "are far below its best here. Install libopenblas0-pthread (or pass --torch-lib-path) and rerun.")
    elif blas:
        lines.append(f"- PyTorch's BLAS: {', '.join(sorted(blas))}.")
    for w, why in sorted(missing.items()):
        if any(r["workload"] == w for r in results):
            lines.append(f"- {w}: Dendrite's side is not available yet ({why}).")
    return "\n".join(lines) + "\n"

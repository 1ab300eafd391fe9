#!/usr/bin/env python3
# gst-trickle: issue 3's target table from two yardstick result folders made
# in one sitting (tests/bench/run.sh with REFERENCE_CMD): gst-trickle's
# medians, the reference server's medians, their ratio and the target.
#
#   python3 tests/bench/targets.py OUT/gst-trickle OUT/reference
#   python3 tests/bench/targets.py A/gst-trickle A/reference B/gst-trickle B/reference
#
# Each value is the median over the runs in the folder's <config>.jsonl.
# With several sittings (pairs of folders), the runs of all sittings are
# pooled for the medians and each sitting's own ratio gets a column; the
# "baseline file" column quotes ../shared/yardstick/BASELINE-reference.md.
import json
import os
import statistics
import sys

# (label, config, metric path, target kind, target ratio)
#   kind "ge": ours / reference >= ratio;  "le": ours / reference <= ratio;
#   "abs_lt": ours < ratio (an absolute bound);  "abs_ge": ours >= ratio
ROWS = [
    ("fanout 1 sub, 32 KiB, unpaced: MB/s", "fanout-s1-c32k-i0", "mb_per_s", "ge", 1.0),
    ("… chunk latency p99 (µs)", "fanout-s1-c32k-i0", "chunk_latency.p99_us", "le", 1.0),
    ("fanout 40 subs, 32 KiB, paced 1 ms: chunk p50 (µs)", "fanout-s40-c32k-i1000", "chunk_latency.p50_us", "le", 1.0),
    ("… chunk p99 (µs)", "fanout-s40-c32k-i1000", "chunk_latency.p99_us", "le", 0.5),
    ("fanout 40 subs, 32 KiB, unpaced: MB/s", "fanout-s40-c32k-i0", "mb_per_s", "ge", 1.0),
    ("… segments lost to 470 (per run)", "fanout-s40-c32k-i0", "error_detail.sub_skipped_by_470", "info", None),
    ("… with `-max-lag 3` (subscribers at the publisher's pace): lost", "fanout-s40-c32k-i0-lag3", "error_detail.sub_skipped_by_470", "abs_lt", 1),
    ("fanout 1 sub, 1300 B chunks: MB/s", "fanout-s1-c1300-i0", "mb_per_s", "ge", 1.0),
    ("fanout 40 subs, 1300 B chunks: MB/s", "fanout-s40-c1300-i0", "mb_per_s", "ge", 1.0),
    ("gap 64 KiB: sub − pub p50 (µs)", "gap-200x64k", "gap_diff.p50_us", "le", 1.0),
    ("… sub − pub p99 (µs)", "gap-200x64k", "gap_diff.p99_us", "abs_lt", 1000),
    ("rate 1 KiB: segments/s", "rate-2000x1k", "segments_per_s", "ge", 1.5),
    ("channels 100 × 30/s × 8 KiB: server CPU %", "channels-100x30fps", "resources.server.cpu_pct", "le", 0.5),
    ("… server peak RSS (MB)", "channels-100x30fps", "resources.server.rss_peak_mb", "le", 0.5),
    ("channels 500 × 30/s: delivered", "channels-500x30fps", "delivered_ratio", "abs_ge", 0.99),
    ("idle 1000 GETs: KB per waiting GET", "idle-1000", "kb_per_conn", "le", 0.5),
    ("… KB per channel", "idle-1000", "kb_per_channel", "le", 0.5),
]


# the reference server's medians in BASELINE-reference.md (another day of
# the same machine kind: for context, not for ratios)
BASELINE = {
    ("fanout-s1-c32k-i0", "mb_per_s"): "767",
    ("fanout-s1-c32k-i0", "chunk_latency.p99_us"): "3814",
    ("fanout-s40-c32k-i1000", "chunk_latency.p50_us"): "548",
    ("fanout-s40-c32k-i1000", "chunk_latency.p99_us"): "2856",
    ("fanout-s40-c32k-i0", "mb_per_s"): "4441",
    ("fanout-s40-c32k-i0", "error_detail.sub_skipped_by_470"): "90,134,35",
    ("fanout-s40-c32k-i0-lag3", "error_detail.sub_skipped_by_470"): "0,0,0",
    ("fanout-s1-c1300-i0", "mb_per_s"): "251",
    ("fanout-s40-c1300-i0", "mb_per_s"): "3877",
    ("gap-200x64k", "gap_diff.p50_us"): "12",
    ("gap-200x64k", "gap_diff.p99_us"): "1938",
    ("rate-2000x1k", "segments_per_s"): "7148",
    ("channels-100x30fps", "resources.server.cpu_pct"): "40",
    ("channels-100x30fps", "resources.server.rss_peak_mb"): "68.9",
    ("channels-500x30fps", "delivered_ratio"): "0.55",
    ("idle-1000", "kb_per_conn"): "19.2",
    ("idle-1000", "kb_per_channel"): "6.0",
}


def load(folder, config):
    # folder may be a list of folders: their runs are pooled
    if isinstance(folder, (list, tuple)):
        return [r for f in folder for r in load(f, config)]
    p = os.path.join(folder, config + ".jsonl")
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p) if l.strip().startswith("{")]


def get(r, path):
    for k in path.split("."):
        if not isinstance(r, dict):
            return None
        r = r.get(k)
    return r


def median(folder, config, path):
    v = [get(r, path) for r in load(folder, config)]
    v = [x for x in v if isinstance(x, (int, float))]
    return (statistics.median(v), len(v)) if v else (None, 0)


def fmt(x):
    if x is None:
        return "-"
    if abs(x) < 10 and x != int(x):
        return "%.3g" % x
    return "%.0f" % x


def main():
    args = sys.argv[1:]
    if len(args) < 2 or len(args) % 2:
        sys.exit("usage: targets.py OURS REF [OURS2 REF2 ...]")
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    ours, ref = [p[0] for p in pairs], [p[1] for p in pairs]
    many = len(pairs) > 1
    head = "| yardstick row | baseline file | reference | gst-trickle | ratio |"
    if many:
        head += "".join(" sitting %d |" % (i + 1) for i in range(len(pairs)))
    print(head + " target | met |")
    print("|---" * (head.count("|") + 1) + "|")
    for label, config, path, kind, target in ROWS:
        o, n_o = median(ours, config, path)
        r, n_r = median(ref, config, path)
        ratio = o / r if o is not None and r and kind != "info" else None
        if kind == "ge":
            tgt, met = "≥ %g×" % target, ratio is not None and ratio >= target
        elif kind == "le":
            tgt, met = "≤ %g×" % target, ratio is not None and ratio <= target
        elif kind == "abs_lt":
            tgt, met = "< %g" % target, o is not None and o < target
        elif kind == "abs_ge":
            tgt, met = "≥ %g" % target, o is not None and o >= target
        else:
            tgt, met = "", None
        runs = [str(get(x, path)) for x in load(ours, config)]
        rruns = [str(get(x, path)) for x in load(ref, config)]
        if kind in ("info", "abs_lt") and path.startswith("error_detail"):
            o_s, r_s = ",".join(runs) or "-", ",".join(rruns) or "-"
        else:
            o_s, r_s = fmt(o), fmt(r)
        if ratio is None:
            ratio_s = ""
        elif target and kind in ("ge", "le") and abs(ratio - target) < 0.005:
            ratio_s = "%.3f×" % ratio   # too close to the target for 2 digits
        else:
            ratio_s = "%.2f×" % ratio
        if o is None or (r is None and kind in ("ge", "le")):
            verdict = "not run"
        elif met is None:
            verdict = ""
        else:
            verdict = "yes" if met else "**no**"
        per = ""
        if many:
            for po, pr in pairs:
                a, _ = median(po, config, path)
                b, _ = median(pr, config, path)
                per += " %s |" % ("%.2f×" % (a / b) if a is not None and b
                                  and kind in ("ge", "le") else "")
        print("| %s | %s | %s | %s | %s |%s %s | %s |" % (
            label, BASELINE.get((config, path), ""), r_s, o_s, ratio_s, per,
            tgt, verdict))
    print()
    print("runs per cell: gst-trickle %d, reference %d; %d sitting(s)" % (
        max(len(load(ours, c)) for _, c, *_ in ROWS),
        max(len(load(ref, c)) for _, c, *_ in ROWS), len(pairs)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns the bench's Markdown output at several worker counts into the
scaling table and plot of docs/PERFORMANCE.md.

    python3 benches/runtime/plot_scaling.py OUT.png w1.md w2.md w4.md w8.md w16.md

Each input is the stdout of one `BENCH_WORKERS=N runtime --bench ...` run;
N is read from its "Median ns/op ... (N workers" line. Prints the Markdown
table (median ns/op per runtime and worker count) and writes the plot
(needs matplotlib).
"""
import re
import sys

RUNTIMES = ["windlass", "tokio", "smol"]


def parse(path):
    text = open(path).read()
    workers = int(re.search(r"\((\d+) workers", text).group(1))
    median = text.split("Minimum ns/op")[0]
    rows = {}
    for line in median.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.match(r"^[a-z_]+$", cells[0]) and cells[0] != "workload":
            rows[cells[0]] = [float(c) for c in cells[1:4]]
    return workers, rows


def main():
    out, files = sys.argv[1], sys.argv[2:]
    runs = sorted(parse(f) for f in files)
    workers = [w for w, _ in runs]
    names = list(runs[0][1].keys())
    print("| workload | runtime | " + " | ".join(f"{w} w" for w in workers) + " |")
    print("|---|---|" + "---:|" * len(workers))
    for n in names:
        for i, rt in enumerate(RUNTIMES):
            vals = " | ".join(f"{rows[n][i]:.1f}" for _, rows in runs)
            print(f"| {n} | {rt} | {vals} |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 3
    rows_n = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.2 * rows_n))
    for ax, n in zip(axes.flat, names):
        for i, rt in enumerate(RUNTIMES):
            ax.plot(workers, [rows[n][i] for _, rows in runs], marker="o", label=rt)
        ax.set_xscale("log", base=2)
        ax.set_xticks(workers)
        ax.set_xticklabels([str(w) for w in workers])
        ax.set_yscale("log")
        ax.set_title(n)
        ax.set_xlabel("workers")
        ax.set_ylabel("ns/op (median, lower is better)")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend()
    fig.suptitle("windlass vs tokio vs smol, 1-16 workers (16-core host, 2026-12-04)")
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns the bench's Markdown output at several worker counts into the
scaling table and plot of docs/PERFORMANCE.md.

    python3 benches/runtime/plot_scaling.py OUT.png w1.md w2.md w4.md w8.md w16.md

Each input is the stdout of one `BENCH_WORKERS=N runtime --bench ...` run;
N is read from its "Median ns/op ... (N workers" line. Prints the Markdown
table (median ns/op per runtime and worker count) and writes the plot
(needs matplotlib; without it, only the table is printed).

Several inputs may have the same N (the passes of
`benches/runtime/device-run.sh`, `$OUT/a-scaling-w*-p*.md`): each cell is
then the median over them, and a second table gives windlass/tokio per pass,
so a goal "in every run" can be read off. An input cut short (no table) is
skipped with a note.
"""
import statistics
import re
import sys

RUNTIMES = ["windlass", "tokio", "smol"]


def parse(path):
    text = open(path).read()
    m = re.search(r"\((\d+) workers", text)
    if m is None:
        print(f"note: {path} has no table (cut short?); skipped", file=sys.stderr)
        return None
    workers = int(m.group(1))
    median = text.split("Minimum ns/op")[0]
    rows = {}
    for line in median.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.match(r"^[a-z_]+$", cells[0]) and cells[0] != "workload":
            rows[cells[0]] = [float(c) for c in cells[1:4]]
    return workers, rows


def merge(passes):
    """One table from several passes at the same worker count: the median
    of each cell over the passes that have it."""
    names = [n for n in passes[0] if all(n in p for p in passes)]
    return {
        n: [statistics.median(p[n][i] for p in passes) for i in range(len(RUNTIMES))]
        for n in names
    }


def main():
    out, files = sys.argv[1], sys.argv[2:]
    parsed = [r for r in (parse(f) for f in files) if r is not None]
    by_workers = {}
    for w, rows in parsed:
        by_workers.setdefault(w, []).append(rows)
    runs = [(w, merge(by_workers[w])) for w in sorted(by_workers)]
    workers = [w for w, _ in runs]
    names = list(runs[0][1].keys())
    print("| workload | runtime | " + " | ".join(f"{w} w" for w in workers) + " |")
    print("|---|---|" + "---:|" * len(workers))
    for n in names:
        for i, rt in enumerate(RUNTIMES):
            vals = " | ".join(f"{rows[n][i]:.1f}" for _, rows in runs)
            print(f"| {n} | {rt} | {vals} |")
    print("\nwindlass/tokio per pass:\n")
    print("| workload | " + " | ".join(f"{w} w" for w in workers) + " |")
    print("|---|" + "---:|" * len(workers))
    for n in names:
        cells = []
        for w in workers:
            cells.append(", ".join(f"{p[n][0] / p[n][1]:.2f}" for p in by_workers[w] if n in p))
        print(f"| {n} | " + " | ".join(cells) + " |")
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot written", file=sys.stderr)
        return

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
    fig.suptitle(f"windlass vs tokio vs smol, {workers[0]}-{workers[-1]} workers")
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == "__main__":
    main()

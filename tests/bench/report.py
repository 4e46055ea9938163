#!/usr/bin/env python3
"""Print the results of tests/bench/run.sh as Markdown.

Usage: report.py OUT_DIR

Reads, from OUT_DIR: meta.tsv, status.tsv, hyperfine-N.json (one per round), rss.tsv,
throughput.tsv (all written by run.sh).
"""
import json
import os
import statistics
import sys


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    return rows


def ms(x):
    return "%.2f" % (x * 1000.0)


def main():
    out = sys.argv[1]
    meta_rows = read_tsv(os.path.join(out, "meta.tsv"))
    meta = {r[0]: r[1] if len(r) > 1 else "" for r in meta_rows}
    notes = [r[1] for r in meta_rows if r[0] == "note" and len(r) > 1]
    status = read_tsv(os.path.join(out, "status.tsv"))
    names = {r[0]: r[1] for r in status}
    measured = meta.get("measured", "").split()

    # One hyperfine-N.json per round; hyperfine keeps the order of the commands given.
    rounds = []
    n = 1
    while os.path.exists(os.path.join(out, "hyperfine-%d.json" % n)):
        with open(os.path.join(out, "hyperfine-%d.json" % n)) as f:
            rounds.append(dict(zip(measured, json.load(f)["results"])))
        n += 1
    # All rounds' samples together, for the table of times.
    results = {}
    for key in measured:
        per = [r[key] for r in rounds if key in r]
        if not per:
            continue
        times = [t for r in per for t in r.get("times", [])]
        codes = [c for r in per for c in r.get("exit_codes", [])]
        results[key] = {
            "median": statistics.median(times),
            "mean": statistics.mean(times),
            "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
            "min": min(times),
            "times": times,
            "exit_codes": codes,
        }

    def ratio(a, b):
        """The median over rounds of the ratio of medians within each round."""
        per = [r[a]["median"] / r[b]["median"] for r in rounds if a in r and b in r]
        return statistics.median(per) if per else None

    print("# gocker start-up benchmark\n")
    for k in ("machine", "runs", "rootfs", "spec"):
        if k in meta:
            print("- %s: %s" % (k, meta[k]))
    for n in notes:
        print("- note: %s" % n)
    print()

    print("## Start-up time (%d rounds, each one hyperfine run of every command; `/bin/true`)\n" % len(rounds))
    floor = results.get("floor")
    print("| command | median ms | mean ± σ ms | min ms | × floor | failed runs |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, name, st in status:
        res = results.get(key)
        if res is None:
            why = st if st != "ok" else "no result (hyperfine failed?)"
            print("| %s | %s | | | | |" % (name, why.replace("|", "/")))
            continue
        fails = sum(1 for c in res.get("exit_codes", []) if c not in (0, None))
        r = ratio(key, "floor") if floor else None
        rel = "%.2f" % r if r is not None else ""
        print("| %s | %s | %s ± %s | %s | %s | %d/%d |" % (
            name, ms(res["median"]), ms(res["mean"]), ms(res["stddev"]),
            ms(res["min"]), rel, fails, len(res.get("times", []))))
    print()

    print("## Ratios (median over rounds of the ratio of medians in each round)\n")
    print("| ratio | value |")
    print("|---|---:|")
    pairs = [
        ("gocker_rw", "floor", "gocker run --rootfs-rw / floor"),
        ("gocker", "floor_ovl", "gocker run (copy-on-write root) / floor --overlay"),
        ("gocker", "gocker_rw", "gocker run / gocker run --rootfs-rw (the copy-on-write root's cost)"),
        ("gocker_edev", "floor_edev", "gocker run --rootfs-rw / floor, rootfs with an empty /dev"),
        ("gocker_cg", "floor_cg", "gocker run --rootfs-rw --cpus -m / floor --cgroup"),
        ("gocker_rw", "crun", "gocker run --rootfs-rw / crun run (both on the rootfs itself)"),
        ("gocker_rw", "runc", "gocker run --rootfs-rw / runc run (both on the rootfs itself)"),
        ("gocker", "bwrap", "gocker run / bwrap"),
        ("script", "hand", "emit-script output / hand.sh"),
        ("gocker_oci", "runc_oci", "gocker / runc, create+start+wait+delete (target <= 0.3)"),
        ("gocker_oci", "crun_oci", "gocker / crun, create+start+wait+delete"),
        ("gocker_oci", "gocker", "gocker create+start+wait+delete / gocker run (target <= 1.5)"),
    ]
    for a, b, label in pairs:
        if a in results and b in results:
            v = "%.2f" % ratio(a, b)
        else:
            miss = [names.get(k, k) for k in (a, b) if k not in results]
            v = "n/a (%s not measured)" % ", ".join(miss)
        print("| %s | %s |" % (label, v))
    print()

    print("## Peak RSS (/usr/bin/time -v, max resident set, KiB)\n")
    rss = read_tsv(os.path.join(out, "rss.tsv"))
    if rss:
        print("| command | median KiB | max KiB | runs |")
        print("|---|---:|---:|---|")
        for row in rss:
            key, vals = row[0], row[1].split() if len(row) > 1 else []
            nums = [int(v) for v in vals if v.isdigit()]
            if nums:
                print("| %s | %d | %d | %s |" % (names.get(key, key), statistics.median(nums), max(nums), " ".join(vals)))
            else:
                print("| %s | n/a | | %s |" % (names.get(key, key), " ".join(vals)))
    else:
        print("(not measured)")
    for key in ("gocker", "crun"):
        if key not in [r[0] for r in rss]:
            print("\n%s: not measured (%s)" % (names.get(key, key), dict((r[0], r[2]) for r in status).get(key, "?")))
    print()

    print("## Throughput (wall time for a batch of containers)\n")
    tput = read_tsv(os.path.join(out, "throughput.tsv"))
    if tput:
        print("| command | mode | n | wall ms | containers/s | failed |")
        print("|---|---|---:|---:|---:|---:|")
        for key, mode, n, wall, fails in tput:
            n, wall = int(n), int(wall)
            rate = "%.1f" % (n * 1000.0 / wall) if wall > 0 else ""
            mode = "sequential" if mode == "seq" else "parallel (%d at once)" % n
            print("| %s | %s | %d | %d | %s | %s |" % (names.get(key, key), mode, n, wall, rate, fails))
    else:
        print("(not measured)")
    for key in ("gocker", "crun"):
        if key not in [r[0] for r in tput]:
            print("\n%s: not measured (%s)" % (names.get(key, key), dict((r[0], r[2]) for r in status).get(key, "?")))


if __name__ == "__main__":
    main()

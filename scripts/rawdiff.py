#!/usr/bin/env python3
"""Worst node-voltage difference between two SPICE rawfiles, relative to each node's swing.

    python3 scripts/rawdiff.py REFERENCE.raw CANDIDATE.raw [--from T]

Prints one JSON object: nodes (node voltages in the reference), ref_points, cand_points,
worst_rel (worst |difference| over the node's swing, at the reference's time points t >= T,
the candidate linearly interpolated), worst_node, worst_time. Standard library only; reads
binary and ASCII rawfiles (first plot, real data). Used by scripts/bench-ngspice.sh as a
check independent of `freqprop compare`.
"""
import bisect
import json
import struct
import sys


def read_raw(path):
    data = open(path, "rb").read()
    pos = 0
    nvars = npoints = None
    names = []
    in_vars = False
    binary = None
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line = data[pos:end].decode("latin-1").rstrip("\r")
        pos = end + 1
        low = line.strip().lower()
        if low.startswith("binary:"):
            binary = True
            break
        if low.startswith("values:"):
            binary = False
            break
        if in_vars:
            words = line.split()
            if len(words) >= 2:
                names.append(words[1])
            continue
        if low.startswith("no. variables:"):
            nvars = int(line.split(":", 1)[1])
        elif low.startswith("no. points:"):
            npoints = int(line.split(":", 1)[1])
        elif low.startswith("flags:") and "complex" in low:
            raise SystemExit(f"{path}: complex data")
        elif low.startswith("variables:"):
            in_vars = True
    if binary is None or nvars is None or npoints is None or len(names) != nvars:
        raise SystemExit(f"{path}: not a readable rawfile")
    cols = [[] for _ in range(nvars)]
    if binary:
        vals = struct.unpack_from("<%dd" % (nvars * npoints), data, pos)
        for k in range(nvars):
            cols[k] = list(vals[k::nvars])
    else:
        tokens = data[pos:].decode("latin-1").split()
        step = nvars + 1
        for i in range(npoints):
            for k in range(nvars):
                cols[k].append(float(tokens[i * step + 1 + k].split(",")[0]))
    return names, cols


def canonical(name):
    n = name.strip().lower()
    if n.endswith("#branch"):
        return f"i({n[:-7]})"
    if (n.startswith("v(") or n.startswith("i(")) and n.endswith(")"):
        return n
    return f"v({n})"


def interp(t, y, x):
    k = bisect.bisect_left(t, x)
    if k == 0:
        return y[0]
    if k >= len(t):
        return y[-1]
    t0, t1 = t[k - 1], t[k]
    if t1 <= t0:
        return y[k]
    return y[k - 1] + (y[k] - y[k - 1]) * (x - t0) / (t1 - t0)


def main():
    args = sys.argv[1:]
    start = 0.0
    if "--from" in args:
        i = args.index("--from")
        start = float(args[i + 1])
        del args[i:i + 2]
    ref_names, ref = read_raw(args[0])
    cand_names, cand = read_raw(args[1])
    cand_index = {canonical(n): k for k, n in enumerate(cand_names)}
    t_ref, t_cand = ref[0], cand[0]
    # only where the candidate has data: no extrapolation
    t_begin, t_end = t_cand[0], t_cand[-1]
    idx = [i for i, t in enumerate(t_ref) if max(start, t_begin) <= t <= t_end * (1 + 1e-12)]
    worst = (0.0, None, None)
    nodes = 0
    missing = []
    for k, name in enumerate(ref_names[1:], start=1):
        c = canonical(name)
        if not c.startswith("v("):
            continue
        nodes += 1
        if c not in cand_index:
            missing.append(c)
            continue
        y_ref, y_cand = ref[k], cand[cand_index[c]]
        window = [y_ref[i] for i in idx]
        swing = max(max(window) - min(window), 1e-6)
        for i in idx:
            d = abs(interp(t_cand, y_cand, t_ref[i]) - y_ref[i]) / swing
            if d > worst[0]:
                worst = (d, c, t_ref[i])
    print(json.dumps({"nodes": nodes, "ref_points": len(t_ref), "cand_points": len(t_cand),
                      "worst_rel": worst[0] if not missing else None, "worst_node": worst[1],
                      "worst_time": worst[2], "missing": missing}))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Time ngspice and freqprop on every deck of the cross-validation corpus (tests/ngspice/*.cir)
# and write docs/performance.md.
#
# For each deck: `ngspice -b -r` and `freqprop simulate --no-h5 --raw` (release build; the
# same output, one binary rawfile), each timed as a whole command (wall clock, start-up
# included), and `freqprop simulate --raw -o OUT.h5` (the rawfile and the HDF5 file, as
# users run it) timed beside them; `freqprop compare ngspice.raw freqprop.raw
# --json` (its JSON is kept in out/bench-ngspice/DECK.compare.json); and an independent
# worst difference from scripts/rawdiff.py (worst |difference| over the node's swing, after
# the first 1% of the run).
#
# Environment: FREQPROP (a freqprop binary to use instead of building one), OUT (work dir,
# default out/bench-ngspice), DOC (default docs/performance.md), REPEAT (the fewest runs of
# each program per deck, alternating, median reported; default 9), MIN_SECONDS (more turns,
# up to REPEAT_MAX (default 31), until freqprop's runs of a deck add up to this many seconds;
# default 3: like hyperfine's 3 s, so that a burst of a shared machine's noise covers few of
# a fast deck's runs), REPEAT_SMALL (the fewest runs when both medians are under 0.2 s, where
# a millisecond of noise is several percent of the ratio; default 15). Times are taken with
# bash's $EPOCHREALTIME: no process is started inside the timed window, and a sync(1) before
# each command (outside it) leaves it nothing of the last one's output to write back. DECKS (names of
# decks, space separated, e.g. "random_network mesh30"): only these (a check; the whole
# corpus by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=${OUT:-out/bench-ngspice}
doc=${DOC:-docs/performance.md}
mkdir -p "$out"

command -v ngspice >/dev/null || { echo "bench-ngspice: ngspice is not installed (scripts/setup-system.sh)" >&2; exit 1; }
if [ -z "${FREQPROP:-}" ]; then
    cargo build --release --bin freqprop
    FREQPROP="${CARGO_TARGET_DIR:-target}/release/freqprop"
fi
[ -x "$FREQPROP" ] || { echo "bench-ngspice: no freqprop binary at $FREQPROP" >&2; exit 1; }

repeat=${REPEAT:-9}
repeat_small=${REPEAT_SMALL:-15}
repeat_max=${REPEAT_MAX:-31}
min_seconds=${MIN_SECONDS:-3}
[ "$repeat_max" -ge "$repeat" ] || repeat_max=$repeat
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench-ngspice: needs bash 5 (\$EPOCHREALTIME)" >&2; exit 1; }
# $EPOCHREALTIME is the wall clock in seconds from a shell variable: no process started
# (date(1) inside the timed window added a millisecond to each run). Its decimal point
# follows LC_NUMERIC
export LC_NUMERIC=C
median() { python3 -c "import statistics, sys; print('%.3f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
least() { python3 -c "import sys; print('%.3f' % min(map(float, sys.argv[1:])))" "$@"; }
# freqprop's seconds ($2) over ngspice's ($1), to three decimals
ratio_to() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) / max(float(sys.argv[1]), 1e-9)))" "$1" "$2"; }
secs() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# Run a command with its output to the log $1, after a sync, and set `elapsed` to its wall
# seconds ($EPOCHREALTIME around it alone); returns the command's status. The sync leaves
# the command nothing of another's output to write back: ngspice does not fsync its 12 MB
# rawfile, and freqprop's fsync then committed the file system's journal with ngspice's data
# and the deleted files in it (random_network, measured: freqprop's median 0.096–0.105 s
# after ngspice, 0.084–0.088 s with a sync between).
timed() {
    local log=$1
    shift
    sync
    local t0=$EPOCHREALTIME
    "$@" >"$log" 2>&1
    local rc=$? t1=$EPOCHREALTIME
    elapsed=$(secs "$t0" "$t1")
    return "$rc"
}

# TSTOP of a deck's .tran line, in seconds
tstop() {
    python3 - "$1" <<'PY'
import re, sys
scale = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "m": 1e-3, "mil": 25.4e-6, "u": 1e-6,
         "n": 1e-9, "p": 1e-12, "f": 1e-15}
for line in open(sys.argv[1]):
    w = line.split()
    if w and w[0].lower() == ".tran":
        m = re.match(r"([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)(meg|mil|[tgkmunpf])?", w[2].lower())
        print(float(m.group(1)) * scale.get(m.group(2) or "", 1.0))
        break
PY
}

rows=()
failures=0
decks=()
if [ -n "${DECKS:-}" ]; then
    for name in $DECKS; do
        [ -f "tests/ngspice/$name.cir" ] || { echo "bench-ngspice: no deck tests/ngspice/$name.cir" >&2; exit 1; }
        decks+=("tests/ngspice/$name.cir")
    done
else
    decks=(tests/ngspice/*.cir)
fi
for deck in "${decks[@]}"; do
    name=$(basename "$deck" .cir)
    ng_raw="$out/$name.ngspice.raw"
    fp_raw="$out/$name.freqprop.raw"
    fp_h5="$out/$name.freqprop.h5"
    rm -f "$ng_raw" "$fp_raw" "$fp_h5"
    echo "== $name" >&2

    # runs of each program, alternating, so that a slow moment of a shared machine falls on
    # both; the median of each is reported. At least REPEAT turns (REPEAT_SMALL on decks
    # where both medians are under 0.2 s), and more, up to REPEAT_MAX, until freqprop's runs
    # add up to MIN_SECONDS
    ng_times=(); fp_times=(); h5_times=(); ng_ok=1; fp_ok=1
    runs=$repeat
    k=0
    while [ "$k" -lt "$runs" ]; do
        k=$((k + 1))
        rm -f "$ng_raw" "$fp_raw" "$fp_h5"
        timed "$out/$name.ngspice.log" ngspice -b -r "$ng_raw" "$deck" || ng_ok=0
        ng_times+=("$elapsed")
        timed "$out/$name.freqprop.log" "$FREQPROP" simulate "$deck" --no-h5 --raw "$fp_raw" ||
            fp_ok=0
        fp_times+=("$elapsed")
        rm -f "$fp_h5" "$fp_raw.h5run"
        timed "$out/$name.freqprop-h5.log" \
            "$FREQPROP" simulate "$deck" -o "$fp_h5" --raw "$fp_raw.h5run" || fp_ok=0
        h5_times+=("$elapsed")
        [ "$ng_ok" = 1 ] && [ "$fp_ok" = 1 ] || break
        if [ "$k" = "$repeat" ] && [ "$repeat_small" -gt "$repeat" ] &&
            python3 -c "import sys; sys.exit(max(map(float, sys.argv[1:])) >= 0.2)" \
                "$(median "${ng_times[@]}")" "$(median "${fp_times[@]}")"; then
            runs=$repeat_small
        fi
        if [ "$k" = "$runs" ] && [ "$runs" -lt "$repeat_max" ] &&
            python3 -c "import sys; sys.exit(sum(map(float, sys.argv[2:])) >= float(sys.argv[1]))" \
                "$min_seconds" "${fp_times[@]}"; then
            runs=$((runs + 1))
        fi
    done
    ng_s=$(median "${ng_times[@]}")
    fp_s=$(median "${fp_times[@]}")
    h5_s=$(median "${h5_times[@]}")

    nodes="?"; steps="?"; worst="n/a"; verdict="n/a"
    if [ "$ng_ok" = 1 ]; then
        nodes=$(python3 scripts/rawdiff.py "$ng_raw" "$ng_raw" | python3 -c "import json,sys; print(json.load(sys.stdin)['nodes'])")
    fi
    if [ "$ng_ok" = 1 ] && [ "$fp_ok" = 1 ]; then
        from=$(python3 -c "import sys; print('%g' % (0.01 * float(sys.argv[1])))" "$(tstop "$deck")")
        if "$FREQPROP" compare "$ng_raw" "$fp_raw" --from "$from" --json >"$out/$name.compare.json" 2>"$out/$name.compare.log"; then
            verdict="pass"
        else
            verdict="fail"
        fi
        diff_json=$(python3 scripts/rawdiff.py "$ng_raw" "$fp_raw" --from "$from")
        steps=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print('%d / %d' % (d['ref_points'], d['cand_points']))" "$diff_json")
        worst=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); w=d['worst_rel']; print('missing %d nodes' % len(d['missing']) if w is None else '%.2e (%s)' % (w, d['worst_node']))" "$diff_json")
        ratio=$(ratio_to "$ng_s" "$fp_s")
        # an accepted step against one factorization and one solve (untimed run)
        over_limit=$("$FREQPROP" simulate "$deck" --no-h5 --raw "$out/$name.limit.raw" --json 2>/dev/null |
            python3 -c "import json,sys; v=json.load(sys.stdin).get('step_over_limit'); print('n/a' if v is None else '%.2f' % v)" || echo "n/a")
        rm -f "$out/$name.limit.raw"
        least_ratio=$(ratio_to "$(least "${ng_times[@]}")" "$(least "${fp_times[@]}")")
        h5_ratio=$(ratio_to "$ng_s" "$h5_s")
    else
        failures=$((failures + 1))
        ratio="n/a"; least_ratio="n/a"; h5_ratio="n/a"; h5_s="n/a"; over_limit="n/a"
        [ "$ng_ok" = 1 ] || ng_s="failed"
        [ "$fp_ok" = 1 ] || fp_s="failed: $(tail -n 1 "$out/$name.freqprop.log" | tr '|' '/' | cut -c1-60)"
    fi
    rows+=("| $name | $nodes | $steps | $k | $ng_s | $fp_s | $ratio | $least_ratio | $h5_s | $h5_ratio | $over_limit | $worst | $verdict |")
done

tmp="$doc.tmp"
{
    echo "# Performance against ngspice"
    echo
    echo "Written by \`make bench-ngspice\` (scripts/bench-ngspice.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
    echo "$(ngspice --version 2>/dev/null | grep -m1 -o 'ngspice-[0-9.]*' || echo ngspice), freqprop release build."
    echo
    echo "Each deck of the cross-validation corpus (tests/ngspice/, see validation.md) is run by"
    echo "\`ngspice -b -r\` and by \`freqprop simulate --no-h5 --raw\` (the same output: one binary"
    echo "rawfile); times are wall clock of the whole command,"
    echo "start-up included (bash's \$EPOCHREALTIME around each command): the median of at least"
    echo "$repeat runs of each ($repeat_small where both medians are under 0.2 s), and of more, up to"
    echo "$repeat_max, until freqprop's runs of the deck add up to ${min_seconds} s (so that a burst of a shared"
    echo "machine's noise covers few of a fast deck's runs; \"runs\" in the table),"
    echo "taken in turn (ngspice, freqprop, freqprop with HDF5, ngspice, …) so that a slow moment of"
    echo "a shared machine falls on both, each after a \`sync\` outside its timed window so that no"
    echo "command writes back another's output (ngspice does not fsync its rawfile, and freqprop's"
    echo "fsync used to commit ngspice's 12 MB with its own). Steps are the points"
    echo "written (ngspice / freqprop). The worst difference is the largest |freqprop − ngspice| of"
    echo "any node voltage over that node's"
    echo "swing, after the first 1% of the run (scripts/rawdiff.py); \"compare\" is the verdict of"
    echo "\`freqprop compare ngspice.raw freqprop.raw --from T --json\` at its default tolerance"
    echo "(T = 1% of TSTOP). Ratio = freqprop s / ngspice s: below 1, freqprop is faster."
    echo "\"Least\" is the same ratio of each program's least time over its runs: what each costs"
    echo "when the machine adds least (the medians of a shared machine move by ±10% between runs)."
    echo "\"+ HDF5\" is \`freqprop simulate --raw -o OUT.h5\`, run in the same turns: the rawfile and the"
    echo "HDF5 file (the waveforms again, chunked by signal, with the netlist and the run's summary)."
    echo "On decks that run in well under a second both programs' times are dominated by start-up"
    echo "and, for freqprop, by writing its outputs through a temporary file, fsync and rename."
    echo
    echo "| circuit | nodes | steps | runs | ngspice s | freqprop s | ratio | least | + HDF5 s | ratio | ÷ limit | worst difference | compare |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Where freqprop's time goes on a deck: \`freqprop simulate DECK --stats\` splits it into device"
    echo "evaluation, assembly, factorization, solves and the rest (Newton's convergence tests, step"
    echo "control and output), and counts the factorizations and the Newton iterations that reused"
    echo "one, and what an accepted step cost against one factorization and one solve at the run's"
    echo "averages (the hardware's limit for a Newton iteration that refactors: \"÷ limit\" in the"
    echo "table, from one more run with \`--json\`'s \`step_over_limit\`). On the larger decks most"
    echo "iterations reuse the held factorization (chord steps, see architecture.md), so the"
    echo "triangular solves and the device loads dominate, and a step costs less than that limit."
    echo
    echo "See also [scaling.md](scaling.md) (a diode mesh from 1k to 100k nodes, with ngspice on the"
    echo "same decks: \`make bench-scale\`) and [training-performance.md](training-performance.md)"
    echo "(training throughput and parallel speedup: \`make bench-training\`)."
} >"$tmp"
mv "$tmp" "$doc"
echo "bench-ngspice: wrote $doc ($failures deck(s) failed to run)" >&2

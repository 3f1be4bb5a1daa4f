#!/usr/bin/env bash
# An --out directory belongs to one run: a second run on a directory that
# holds a record, or that a live run holds (flock), is refused with one line;
# of two runs started together on one directory exactly one trains and the
# directory holds one consistent record; an --out that cannot be written is
# refused before training; a failed write of the record leaves no run.json
# naming files it did not write; and `report` refuses a directory whose files
# do not match its run.json.
# usage: test_record_dir.sh PATH/TO/cnn-train   (needs $CNN_DATA_DIR/mnist)
. "$(dirname "$0")/cli_test_lib.sh" "$@"

need_mnist
train=("$bin" mnist --data-dir "$CNN_DATA_DIR/mnist" --epochs 1 --idle-seconds 0 --quiet)

# one_error NAME PATTERN: NAME.err holds exactly one "cnn-train:" line, matching PATTERN
one_error() {
    [ "$(grep -c '^cnn-train: ' "$tmp/$1.err")" = 1 ] && grep '^cnn-train: ' "$tmp/$1.err" | grep -qE -- "$2" ||
        fail "$1: expected one error line matching '$2', got: $(cat "$tmp/$1.err")"
}
run_id() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$1/run.json"; }

# a second run on a directory holding a record: refused, the record untouched
"${train[@]}" --out "$tmp/a" >"$tmp/a1.out" 2>"$tmp/a1.err" || fail "first run on $tmp/a failed: $(cat "$tmp/a1.err")"
id=$(run_id "$tmp/a")
"${train[@]}" --out "$tmp/a" >"$tmp/a2.out" 2>"$tmp/a2.err"
[ $? = 1 ] || fail "a second run on a directory holding a record was not refused with exit 1"
one_error a2 "already holds the record of another run.*choose another --out"
grep -q '^final test accuracy' "$tmp/a2.out" && fail "the refused run trained"
[ "$(run_id "$tmp/a")" = "$id" ] || fail "the refused run replaced the record"
"$bin" report "$tmp/a" >/dev/null 2>"$tmp/ra.err" || fail "report refused an intact record: $(cat "$tmp/ra.err")"

# two runs started together on one directory: exactly one trains; one consistent record
"${train[@]}" --out "$tmp/c" >"$tmp/c1.out" 2>"$tmp/c1.err" &
p1=$!
"${train[@]}" --out "$tmp/c" >"$tmp/c2.out" 2>"$tmp/c2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ "$r1$r2" = 01 ]; then loser=c2; elif [ "$r1$r2" = 10 ]; then loser=c1; else loser=; fi
[ -n "$loser" ] || fail "two concurrent runs on one --out exited $r1 and $r2 (expected one 0, one 1)"
[ -n "$loser" ] && one_error "$loser" "(in use by another cnn-train run|already holds the record).*choose another --out"
"$bin" report "$tmp/c" >/dev/null 2>"$tmp/rc.err" || fail "the contested directory's record is not consistent: $(cat "$tmp/rc.err")"

# an --out that cannot be written: refused before training
: >"$tmp/plainfile"
"${train[@]}" --out "$tmp/plainfile/run" >"$tmp/w.out" 2>"$tmp/w.err"
[ $? = 1 ] || fail "an --out under a regular file was not refused with exit 1"
one_error w "choose another --out"
grep -q '^final test accuracy' "$tmp/w.out" && fail "the run with an unusable --out trained"
if [ "$(id -u)" != 0 ]; then
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    "${train[@]}" --out "$tmp/ro" >"$tmp/ro.out" 2>"$tmp/ro.err"
    [ $? = 1 ] || fail "a read-only --out was not refused with exit 1"
    one_error ro "cannot write in .*choose another --out"
fi

# a failed write of the record: one line, exit 1, no run.json naming files it did not write
for name in emissions.csv run.json; do
    CNN_TEST_FAIL_RECORD=$name "${train[@]}" --out "$tmp/f-$name" >"$tmp/f.out" 2>"$tmp/f-$name.err"
    [ $? = 1 ] || fail "an injected failure writing $name did not exit 1"
    one_error "f-$name" "$name failed"
    [ -e "$tmp/f-$name/run.json" ] && fail "a failed write of $name left a run.json"
    "$bin" report "$tmp/f-$name" >/dev/null 2>&1 && fail "report accepted the incomplete record of f-$name"
done

# a record mixing two runs' files: report refuses it and names the file
"${train[@]}" --out "$tmp/b" --seed 2 >/dev/null 2>&1 || fail "run b failed"
cp "$tmp/b/epochs.csv" "$tmp/a/epochs.csv"
"$bin" report "$tmp/a" >/dev/null 2>"$tmp/mix.err"
[ $? = 1 ] || fail "report accepted a record mixing two runs"
one_error mix "epochs.csv is not the one run.json .* names"

finish test_record_dir

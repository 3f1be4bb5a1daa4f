# Sourced by the shell tests of the command-line tools (bash):
#   . "$(dirname "$0")/cli_test_lib.sh" "$@"
# sets bin (the tool, $1), tmp (a directory removed at exit) and fails, and
# gives fail MESSAGE (one failed check), need_mnist (skip, exit 77, without
# $CNN_DATA_DIR/mnist) and finish NAME (the closing line and exit code).
set -u
bin=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

need_mnist() {
    if [ -z "${CNN_DATA_DIR:-}" ] || [ ! -d "$CNN_DATA_DIR/mnist" ]; then
        echo "note: CNN_DATA_DIR/mnist is missing; nothing to train on"
        exit 77
    fi
}

finish() {
    if [ "$fails" -gt 0 ]; then
        echo "$1: $fails check(s) FAILED"
        exit 1
    fi
    echo "$1: all checks passed"
    exit 0
}

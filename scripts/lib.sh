# Shared by scripts/nat-to-mooncake and scripts/telemetry-to-mooncake:
# finding the binaries, usage errors, and writing the output atomically.
# shellcheck shell=bash

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_bin="$script_dir/../bin"

# find_bin NAME: prints the path of a trace-* binary: on PATH, else in the
# repository's build output (make build).
find_bin() {
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  elif [ -x "$repo_bin/$1" ]; then
    echo "$repo_bin/$1"
  else
    echo "$prog: cannot find $1 on PATH or in $repo_bin: run 'make build' (or 'make install')" >&2
    exit 3
  fi
}

usage_error() {
  echo "$prog: error: $1" >&2
  echo "Run '$prog --help' for usage." >&2
  exit 2
}

# need_value FLAG VALUE...: the flag's value must be there and not a flag.
need_value() {
  if [ $# -lt 2 ] || { [ "${2#--}" != "$2" ] && [ "$2" != "-" ]; }; then
    usage_error "argument $1: expected one argument"
  fi
}

need_int() {
  case "$2" in
    ''|*[!0-9]*) usage_error "argument $1: invalid int value: '$2'" ;;
  esac
}

# default_output INPUT: INPUT without its extension, plus _mooncake.jsonl.
default_output() {
  local base=${1##*/} dir=
  [ "$base" != "$1" ] && dir=${1%/*}/
  case "$base" in
    ?*.*) base=${base%.*} ;;
  esac
  echo "$dir${base}_mooncake.jsonl"
}

# run_to_output OUTPUT CMD...: runs a pipeline function into a temporary file
# beside OUTPUT and renames it on success; on failure, or on SIGINT/SIGTERM
# (which also stop the pipeline's stages), nothing is left behind.
run_to_output() {
  local out=$1; shift
  # Globals, so that the traps still see them when the function has returned.
  run_tmp=$(mktemp "$(dirname -- "$out")/.$(basename -- "$out").XXXXXX") || exit 3
  run_pid=
  trap 'rm -f "$run_tmp"' EXIT
  trap 'stop_pipeline; rm -f "$run_tmp"; exit 130' INT TERM
  # In the background, so that a signal is handled at once, not after the
  # pipeline has finished.
  "$@" > "$run_tmp" &
  run_pid=$!
  wait "$run_pid"
  mv -f "$run_tmp" "$out"
  trap - EXIT INT TERM
  echo "" >&2
  echo "Saved $(wc -l < "$out" | tr -d ' ') entries to $out" >&2
}

# stop_pipeline ends the stages of the running pipeline.
stop_pipeline() {
  [ -n "${run_pid:-}" ] || return 0
  if command -v pkill >/dev/null 2>&1; then
    pkill -TERM -P "$run_pid" 2>/dev/null || true
  fi
  kill -TERM "$run_pid" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
}

# Shared by scripts/nat-to-mooncake and scripts/telemetry-to-mooncake:
# finding the binaries, usage errors, and writing the output atomically.
# Everything but the pipeline, mv and wc runs inside bash: a fork costs
# ~5-10 ms on small virtual machines, as much as converting 50 MB.
# shellcheck shell=bash

# With stderr closed (2>&-) every message would fail the script: send them
# nowhere instead. (Closed, fd 2 may hold the script file, read-only: on
# Linux its flags tell; elsewhere the test is skipped.)
stderr_writable() {
  [ -d /proc/self/fdinfo ] || return 0
  [ -e /proc/self/fdinfo/2 ] || return 1
  local key value
  while read -r key value; do
    if [ "$key" = flags: ]; then
      case "$value" in *[12]) return 0 ;; *) return 1 ;; esac
    fi
  done < /proc/self/fdinfo/2
  return 0
}
stderr_writable || exec 2>/dev/null

script_dir=${BASH_SOURCE[0]%/*}
[ "$script_dir" != "${BASH_SOURCE[0]}" ] || script_dir=.
repo_bin="$script_dir/../bin"

# find_bin VAR NAME: sets VAR to the path of the trace-* binary NAME: on
# PATH, else in the repository's build output (make build).
find_bin() {
  local dir dirs
  IFS=: read -r -a dirs <<< "${PATH-}"
  for dir in "${dirs[@]}" "$repo_bin"; do
    if [ -f "${dir:-.}/$2" ] && [ -x "${dir:-.}/$2" ]; then
      printf -v "$1" '%s' "${dir:-.}/$2"
      return
    fi
  done
  echo "$prog: cannot find $2 on PATH or in $repo_bin: run 'make build' (or 'make install')" >&2
  exit 3
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
    -[0-9]*) usage_error "argument $1: '$2' is negative: give a whole number, 0 or more" ;;
    ''|*[!0-9]*) usage_error "argument $1: invalid int value: '$2' (give a whole number, 0 or more)" ;;
  esac
}

# same_file A B: whether A and B name one file: the same existing file
# (also through links), or the same path once made absolute.
same_file() {
  [ -n "$1" ] && [ -n "$2" ] || return 1
  [ "$1" -ef "$2" ] && return 0
  [ "$(realpath -m -- "$1")" = "$(realpath -m -- "$2")" ]
}

# distinct_paths INPUT OUTPUT TABLE: a usage error, before anything is
# written, when two of them name one file (the output would overwrite the
# trace or the prefix table).
distinct_paths() {
  if [ -d "$2" ] && [ "${emit:-rows}" != weka ]; then usage_error "--output-file $2 is a folder: give the path of a file"; fi
  if same_file "$1" "$2"; then usage_error "--input-file and --output-file name the same file ($2): it would be overwritten"; fi
  if same_file "$2" "$3"; then usage_error "--output-file and --table name the same file ($2): the table would be overwritten"; fi
  if same_file "$1" "$3"; then usage_error "--input-file and --table name the same file ($1)"; fi
}

# default_output VAR INPUT [SUFFIX]: sets VAR to INPUT without its
# extension, plus SUFFIX (default _mooncake.jsonl).
default_output() {
  local base=${2##*/} dir=
  [ "$base" != "$2" ] && dir=${2%/*}/
  case "$base" in
    ?*.*) base=${base%.*} ;;
  esac
  printf -v "$1" '%s' "$dir${base}${3-_mooncake.jsonl}"
}

# run_to_output OUTPUT CMD...: runs a pipeline function into a temporary file
# beside OUTPUT and renames it on success; on failure, or on SIGINT/SIGTERM
# (which also stop the pipeline's stages), nothing is left behind.
run_to_output() {
  local out=$1; shift
  # Globals, so that the traps still see them when the function has returned.
  # A new file beside OUTPUT (noclobber: never one that exists).
  local dir=. base=${out##*/} n
  [ "$base" != "$out" ] && dir=${out%/*}
  for n in 1 2 3 4 5 6 7 8; do
    run_tmp="${dir:-/}/.$base.$$.$RANDOM"
    if (set -C; : > "$run_tmp") 2>/dev/null; then break; fi
    run_tmp=
  done
  if [ -z "$run_tmp" ]; then
    echo "$prog: cannot create a temporary file in ${dir:-/}" >&2
    exit 3
  fi
  run_pid=
  trap 'rm -f "$run_tmp"; rm -rf "$stage_dir"' EXIT
  trap 'stop_pipeline; rm -f "$run_tmp"; exit 130' INT
  trap 'stop_pipeline; rm -f "$run_tmp"; exit 143' TERM
  # In the background, so that a signal is handled at once, not after the
  # pipeline has finished.
  "$@" <&0 > "$run_tmp" & # <&0: a background job's stdin is /dev/null otherwise (--input-file -)
  run_pid=$!
  wait "$run_pid"
  mv -f "$run_tmp" "$out"
  trap 'rm -rf "$stage_dir"' EXIT
  trap - INT TERM
  [ -n "${quiet:-}" ] && return 0
  echo "" >&2
  n=$(wc -l < "$out")
  echo "Saved $((n)) entries to $out" >&2
}

# run_to_dir DIR CMD...: runs a pipeline function whose last stage writes
# the folder DIR itself (trace-hash --emit weka --out-dir DIR, which makes it
# whole at the end or not at all); SIGINT/SIGTERM stop the stages.
run_to_dir() {
  local out=$1; shift
  run_pid=
  trap 'stop_pipeline; exit 130' INT
  trap 'stop_pipeline; exit 143' TERM
  "$@" <&0 &
  run_pid=$!
  wait "$run_pid"
  trap - INT TERM
  [ -n "${quiet:-}" ] && return 0
  local files=("$out"/*.json)
  echo "" >&2
  echo "Saved ${#files[@]} traces to $out" >&2
}

# stage_dir: a temporary folder for the standard error of the pipeline's
# stages after the first, removed at exit.
stage_dir=$(mktemp -d "${TMPDIR:-/tmp}/agenttrace.XXXXXX")
trap 'rm -rf "$stage_dir"' EXIT

# finish_stages STATUS...: called right after the pipeline with its
# PIPESTATUS. The first stage writes to stderr as it runs (its progress and
# errors); the others' stderr was kept in $stage_dir/2, /3, ...: when every
# stage succeeded it is printed in order (the statistics and the aiperf
# command come last); otherwise only the first failing stage's is, so the
# run ends with the error that stopped it and shows no statistics of a file
# never written. Returns that stage's status.
finish_stages() {
  local i=1 status
  for status in "$@"; do
    if [ "$status" != 0 ]; then
      [ "$i" = 1 ] || cat "$stage_dir/$i" >&2
      return "$status"
    fi
    i=$((i + 1))
  done
  for ((i = 2; i <= $#; i++)); do
    cat "$stage_dir/$i" >&2
  done
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

# Sourced by bench/gpu_check.sh and bench/gpu_tune.sh (not run by itself): the output folder and log of a
# session on a GPU machine, and `part`, which runs one part of it under its own time limit.
#   . bench/gpu_parts.sh OUTDIR
# sets out (OUTDIR), log (OUTDIR/log) and summary (one line per part, for the end of the output).
out=${1:?usage: . bench/gpu_parts.sh OUTDIR}
mkdir -p "$out"
log=$out/log
summary=()

# part NAME SECONDS COMMAND…: runs one part under its limit, its output into the log; returns its status.
part() {
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s)
  echo "=== $name: $* ($(date -u +%T))" | tee -a "$log"
  timeout --kill-after=5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  summary+=("$name: rc $rc in $(($(date +%s) - start)) s")
  echo "=== $name: rc $rc" | tee -a "$log"
  # After each part, so that a run cut short still leaves what it measured.
  [ -d bench/results ] && tar -czf "$out/results.tar.gz" bench/results
  return $rc
}

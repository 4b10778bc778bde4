#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine runs `prepare --shard i/3` as a job array;
# the parts merged must equal a single-process `prepare` bit for bit (x, y, subject, split).
#
# Needs root (it installs slurm-wlm and munge with apt-get when they are missing, and starts
# munged, slurmctld and slurmd). Skips with exit 0, printing why, only when the packages cannot
# be installed. Everything it writes lives in one temporary directory, removed on exit, and the
# daemons it started are stopped on exit however it ends. The cluster listens on its own ports
# and is driven through SLURM_CONF, so it does not meet another SLURM installation's daemons.
#
# Usage: tests/cluster/slurm.sh            (from anywhere; builds the debug eeglens if needed)
#        EEGLENS=/path/to/eeglens tests/cluster/slurm.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
say() { printf 'slurm test: %s\n' "$*"; }
fail() { printf 'slurm test: FAILED: %s\n' "$*" >&2; exit 1; }

# --- the packages ---------------------------------------------------------------------------
need_packages() {
  ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null
}
if need_packages; then
  if [ "$(id -u)" != 0 ]; then
    say "SKIPPED: slurm-wlm and munge are not installed and installing them needs root"
    exit 0
  fi
  if ! command -v apt-get >/dev/null; then
    say "SKIPPED: slurm-wlm and munge are not installed and there is no apt-get to install them"
    exit 0
  fi
  say "installing slurm-wlm and munge"
  if ! log=$( (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    slurm-wlm munge) 2>&1); then
    say "SKIPPED: apt-get could not install slurm-wlm and munge:"
    printf '%s\n' "$log" | tail -n 5
    exit 0
  fi
  need_packages && fail "apt-get installed slurm-wlm and munge, but sbatch, slurmctld, slurmd or munged is missing"
fi
[ "$(id -u)" = 0 ] || fail "starting munged, slurmctld and slurmd needs root"

# --- cleanup, whatever happens -----------------------------------------------------------------
tmp=$(mktemp -d /tmp/eeglens-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()           # daemons started here, stopped in reverse order
made_run_munge="" # /run/munge was created here
made_key=""       # /etc/munge/munge.key was created here
started_munged="" # munged was started here (its files are under /run/munge)
cleanup() {
  local rc=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    scancel --quiet --user=root >/dev/null 2>&1
  fi
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do
    kill "${pids[k]}" 2>/dev/null
    for _ in $(seq 50); do kill -0 "${pids[k]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pids[k]}" 2>/dev/null
    wait "${pids[k]}" 2>/dev/null
  done
  if [ "$rc" != 0 ]; then
    for f in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/logs/*; do
      [ -f "$f" ] && { echo "--- $f (last lines)"; tail -n 20 "$f"; }
    done
  fi
  [ -n "$made_key" ] && rm -f /etc/munge/munge.key
  [ -n "$started_munged" ] && rm -f /run/munge/eeglens-test-munged.*
  [ -n "$made_run_munge" ] && rm -rf /run/munge
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge ---------------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged is already running; using it"
else
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    made_key=1
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  if [ ! -d /run/munge ]; then
    mkdir -p /run/munge
    made_run_munge=1
  fi
  chown munge:munge /run/munge
  chmod 755 /run/munge
  # In the foreground, in the background: its pid is known at once.
  setpriv --reuid=munge --regid=munge --init-groups munged --foreground --force \
    --pid-file=/run/munge/eeglens-test-munged.pid --log-file=/run/munge/eeglens-test-munged.log \
    --seed-file=/run/munge/eeglens-test-munged.seed >"$tmp/munged.out" 2>&1 &
  pids+=($!)
  started_munged=1
  for _ in $(seq 100); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || fail "munged did not start"
fi

# --- a one-node cluster on localhost (addressed as 127.0.0.1: the host name need not resolve) ---
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/logs" "$tmp/parts"
# Ports away from the defaults (6817/6818), so a real installation's daemons are not met.
port=$((16000 + RANDOM % 2000))
cat >"$tmp/slurm.conf" <<EOF
ClusterName=eeglens-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"

# In the foreground (-D), in the background: their pids are known at once, without waiting for
# pid files that the daemons write only after they return.
slurmctld -D -c -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 120); do
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { cat "$tmp"/slurm*.out >&2; fail "a daemon exited (pid $p)"; }
  done
  if scontrol ping >/dev/null 2>&1; then
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
  fi
  sleep 0.5
done
[ "$state" = idle ] || fail "node $host is not idle after 60 s (state: ${state:-no answer})"
say "cluster up: node $host idle, $cpus CPUs"

# --- the binary and the data -------------------------------------------------------------------------
if [ -z "${EEGLENS:-}" ]; then
  (cd "$repo" && cargo build -q --bin eeglens)
  EEGLENS="${CARGO_TARGET_DIR:-$repo/target}/debug/eeglens"
fi
[ -x "$EEGLENS" ] || fail "no eeglens binary at $EEGLENS"
export EEGLENS
bids="$tmp/bids"
"$EEGLENS" synth --out "$bids" --subjects 8 --minutes 0.2 --quiet >/dev/null || fail "eeglens synth failed"
"$EEGLENS" prepare "$bids" --label sex --out "$tmp/single.safetensors" --quiet >"$tmp/logs/single.out" 2>&1 ||
  fail "the single-process eeglens prepare failed"

# --- prepare --shard i/3 as a job array, then merge ------------------------------------------
cat >"$tmp/prepare-shards.sbatch" <<'EOF'
#!/bin/bash
#SBATCH --job-name=eeglens-prepare
#SBATCH --array=0-2
#SBATCH --cpus-per-task=1
set -euo pipefail
"$EEGLENS" prepare bids --label sex \
  --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
  --out "parts/part-$SLURM_ARRAY_TASK_ID.safetensors" --quiet
EOF
submit() { sbatch --wait --quiet --chdir="$tmp" --output="$tmp/logs/%x-%A_%a.out" "$@"; }
t0=$(date +%s)
submit "$tmp/prepare-shards.sbatch" || fail "the prepare array failed (sbatch --wait exit $?)"
say "array 0-2 of prepare --shard finished in $(($(date +%s) - t0)) s"
for i in 0 1 2; do
  [ -s "$tmp/parts/part-$i.safetensors" ] || fail "task $i wrote no part"
done
grep -h '^shard ' "$tmp"/logs/eeglens-prepare-*.out | sed 's/^/  /'
"$EEGLENS" merge "$tmp"/parts/part-*.safetensors --out "$tmp/merged.safetensors" >"$tmp/logs/merge.out" 2>&1 ||
  fail "eeglens merge failed"

# --- bitwise comparison, independent of eeglens: each tensor's bytes --------------------------------
# safetensors: 8-byte little-endian header length, the JSON header, then the data; a tensor's
# entry gives its byte range in the data. (Inside the metadata, quotes are escaped, so the
# pattern only finds the tensors' own entries.)
tensor_sha() { # FILE NAME -> sha256 of the tensor's bytes, and its dtype and shape
  local file=$1 name=$2 n entry range a b
  n=$(od -An -t u8 -N 8 "$file" | tr -d ' ')
  entry=$(head -c $((8 + n)) "$file" | tail -c "$n" |
    grep -o "\"$name\":{\"dtype\":\"[A-Z0-9]*\",\"shape\":\[[0-9,]*\],\"data_offsets\":\[[0-9]*,[0-9]*\]}") ||
    fail "$file: no tensor $name"
  range=$(printf '%s' "$entry" | sed 's/.*"data_offsets":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/')
  read -r a b <<<"$range"
  [ "$b" -gt "$a" ] || fail "$file: tensor $name is empty"
  printf '%s %s\n' "$(tail -c +$((8 + n + a + 1)) "$file" | head -c $((b - a)) | sha256sum | cut -d' ' -f1)" \
    "$(printf '%s' "$entry" | sed 's/"data_offsets".*//')"
}
for t in x y subject split; do
  s=$(tensor_sha "$tmp/single.safetensors" "$t")
  m=$(tensor_sha "$tmp/merged.safetensors" "$t")
  [ "$s" = "$m" ] || fail "tensor $t differs: single $s, merged $m"
  say "tensor $t identical (${s%% *})"
done

# --- a finished array rerun is a no-op: the parts are not rewritten ----------------------------------
before=$(sha256sum "$tmp"/parts/part-*.safetensors)
submit "$tmp/prepare-shards.sbatch" || fail "rerunning the finished prepare array failed"
[ "$(sha256sum "$tmp"/parts/part-*.safetensors)" = "$before" ] || fail "a rerun rewrote a part"
grep -q "already" "$tmp"/logs/eeglens-prepare-*.out || fail "a rerun task did not say it was already done"
say "rerun of the finished array: no-op"

# --- a failing task fails the array ---------------------------------------------------------------------
cat >"$tmp/failing.sbatch" <<'EOF'
#!/bin/bash
#SBATCH --job-name=eeglens-failing
#SBATCH --array=0-1
set -euo pipefail
# Task 1 asks for shard 5 of 3, which prepare refuses.
"$EEGLENS" prepare bids --label sex --shard "$((SLURM_ARRAY_TASK_ID * 5))/3" \
  --out "parts/failing-$SLURM_ARRAY_TASK_ID.safetensors" --quiet
EOF
if submit "$tmp/failing.sbatch"; then
  fail "sbatch --wait exited 0 although task 1 of the failing array failed"
fi
grep -q -- "--shard" "$tmp"/logs/eeglens-failing-*_1.out || fail "the failing task's log does not say why"
say "an array with a failing task: sbatch --wait exits non-zero"
say "passed"

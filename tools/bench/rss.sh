#!/usr/bin/env bash
# Runs a command and samples its resident set from /proc every 0.2 s: prints the peaks of
# RssAnon (heap, stacks: what the process itself holds), RssFile (file-backed pages, such as a
# memory-mapped epoch store, which the kernel can drop and re-read) and VmHWM (peak RSS), and
# the command's user+sys CPU seconds. For BENCHMARKS.md; Linux only.
# Usage: tools/bench/rss.sh COMMAND [ARGS...]
set -uo pipefail
"$@" &
pid=$!
anon=0 file=0 hwm=0 cpu=0
while kill -0 "$pid" 2>/dev/null; do
  if s=$(cat "/proc/$pid/status" 2>/dev/null); then
    a=$(awk '/^RssAnon:/ {print $2}' <<<"$s"); f=$(awk '/^RssFile:/ {print $2}' <<<"$s")
    h=$(awk '/^VmHWM:/ {print $2}' <<<"$s")
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    c=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)
    [ -n "$c" ] && [ "$c" -gt "$cpu" ] && cpu=$c
  fi
  sleep 0.2
done
wait "$pid"
rc=$?
tck=$(getconf CLK_TCK)
printf 'rss: exit %s; peak RssAnon %d MiB, peak RssFile %d MiB, VmHWM %d MiB; cpu %.1f s (user+sys)\n' \
  "$rc" $((anon / 1024)) $((file / 1024)) $((hwm / 1024)) "$(awk -v c="$cpu" -v t="$tck" 'BEGIN { print c / t }')"
exit "$rc"

# The summary table of bench/run_all.sh: reads the combined JSON, emits one
# row object {metric, value, spread, target, verdict} per line. Verdicts:
# PASS / FAIL against a target, "info" without one, SKIP when not measured.

def r(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
def ms_us: . / 1000 | r(2);
def mib: . / 1024 | r(1);
def row(m; v; s; t; verdict): {metric: m, value: v, spread: s, target: t, verdict: verdict};
def skip(m; why): row(m; why; ""; ""; "SKIP");
def pass(ok): if ok then "PASS" else "FAIL" end;
def plural(n): if n == 1 then "" else "s" end;

.results as $r
| (
  # --- crash -> respawn -------------------------------------------------------
  ($r.crash_respawn) as $c
  | if $c == null then skip("crash → respawn (SIGKILL → new main)"; "not run")
    else
      (if $c.floor != null then
         row("crash → respawn, bare waitpid+posix_spawn loop";
             "\($c.floor.median_us | ms_us) ms";
             "\($c.floor.median_us | ms_us) / \($c.floor.p99_us | ms_us) ms";
             "(floor)"; "info")
       else empty end),
      (if $c.arbor != null then
         row("crash → respawn, arbor (SIGKILL → new main)";
             "\($c.arbor.median_us | ms_us) ms = \($c.ratio | r(2))× floor";
             "\($c.arbor.median_us | ms_us) / \($c.arbor.p99_us | ms_us) ms";
             "median ≤ \($c.target_ratio)× floor"; pass($c.ratio != null and $c.ratio <= $c.target_ratio
                                                      and $c.arbor.complete))
       else skip("crash → respawn, arbor"; "not measured") end)
    end
),
(
  # --- control plane ------------------------------------------------------------
  ($r.control_plane) as $p
  | if $p == null then skip("CLI round trip (arbor status)"; "not run")
    else
      row("CLI round trip: arbor status, 100 instances"; "\($p.status_100.median_ms | r(2)) ms";
          "\($p.status_100.median_ms | r(2)) / \($p.status_100.p99_ms | r(2)) ms";
          "median < \($p.status_target_ms) ms"; pass($p.status_100.median_ms < $p.status_target_ms)),
      row("CLI round trip: arbor status --json, 100 instances";
          "\($p.status_json_100.median_ms | r(2)) ms";
          "\($p.status_json_100.median_ms | r(2)) / \($p.status_json_100.p99_ms | r(2)) ms"; ""; "info")
    end
),
(
  # --- scale ------------------------------------------------------------------
  ($r.scale) as $s
  | if $s == null then skip("daemon at 1 / 100 / 1000 instances"; "not run")
    else $s.counts[] as $c | $c.instances as $n
    | row("daemon RSS, \($n) instance\(plural($n))"; "\($c.daemon.rss_kb | mib) MiB";
          "anon \($c.daemon.anon_kb | mib), file \($c.daemon.file_kb | mib), PSS \($c.daemon.pss_kb | mib); peak \($c.time_v.max_rss_kb | mib) (time -v)";
          (if $n == 100 then "≤ 10 MB (9765 KiB)" else "" end);
          (if $n == 100 then pass($c.daemon.rss_kb <= 9765.625) else "info" end)),
      row("daemon idle CPU, \($n) instance\(plural($n))"; "\($c.idle.cpu_percent | r(2)) % of a core";
          "\($c.idle.wakeups_per_s | r(1)) wake-ups/s over \($c.idle.seconds | round) s";
          "~0 (≤ 0.1 %)"; pass($c.idle.cpu_percent <= 0.1)),
      row("start \($n) instance\(plural($n)) (launch → status all running)";
          "\($c.start.status_all_running_ms | r(0)) ms";
          "last main() at \($c.start.stamps.last_ms | r(0)) ms\(if $c.floor then "; floor \($c.floor.start.last_ms | r(0)) ms" else "" end)";
          ""; "info"),
      (if ($c.mass_kill | length) > 0 then
         ($c.mass_kill | map(.status_all_running_ms // 1e12) | max) as $worst
         | ($c.mass_kill | map(.all_ms) | max) as $worst_main
         | row("recover \($n) after a mass SIGKILL (→ status all running, new pids)";
               "\($worst | r(0)) ms (worst of \($c.mass_kill | length))";
               "all new main() by \($worst_main | r(0)) ms; per instance \($c.mass_kill[-1].median_ms | r(0)) / \($c.mass_kill[-1].p99_ms | r(0)) ms; floor \(if $c.floor then ($c.floor.mass_kill | map(.all_ms) | max | r(0) | tostring) + " ms" else "-" end)";
               (if $n == 1000 then "< 2000 ms" else "" end);
               (if $n == 1000 then pass($worst < 2000) else "info" end)),
           row("lost exits, \($n) × \($c.mass_kill | length) mass kill\(plural($c.mass_kill | length))";
               "\($c.mass_kill | map(.lost_exits) | add)";
               "restarts +1: \($c.mass_kill | map(.restarts_plus_one) | min)/\($n); one exit event: \($c.mass_kill | map(.exit_events.exactly_one) | min)/\($n)";
               "0, each restarts +1"; pass($c.mass_kill | map(.ok) | all))
       else empty end)
    end
),
(
  # --- log pump -----------------------------------------------------------------
  ($r.log_throughput) as $l
  | if $l == null then skip("log pump throughput under a flood"; "not run")
    else
      row("log pump throughput (\($l.pump.line_bytes)-byte lines, flat out)";
          "\($l.pump.bytes_per_s / 1e6 | r(1)) MB/s";
          "\($l.pump.lines_per_s | r(0)) lines/s; daemon CPU \($l.pump.daemon_cpu_percent | r(0)) %";
          ""; "info"),
      row("crash → respawn beside the flood (vs. flood stopped)";
          "\($l.respawn_flood.median_us | ms_us) ms = \($l.median_ratio | r(2))× quiet";
          "\($l.respawn_flood.median_us | ms_us) / \($l.respawn_flood.p99_us | ms_us) ms (quiet \($l.respawn_quiet.median_us | ms_us) / \($l.respawn_quiet.p99_us | ms_us))";
          ""; "info")
    end
),
(
  # --- HTTP (bench/http/http_recovery.sh: first_ok_ms / dead_ms summaries) --
  ($r.http) as $h
  | if $h == null then skip("crash → HTTP 200 (example app)"; "not measured")
    else
      (if $h.first_ok_ms != null then
         row("crash → HTTP 200, example app (SIGKILL → first 200)";
             "\($h.first_ok_ms.median | r(2)) ms";
             "\($h.first_ok_ms.median | r(2)) / \($h.first_ok_ms.p99 | r(2)) ms";
             ""; "info")
       else row("crash → HTTP 200 (example app)"; "see JSON"; ""; ""; "info") end),
      (if $h.dead_ms != null then
         row("  of which SIGKILL → process gone"; "\($h.dead_ms.median | r(2)) ms";
             "\($h.dead_ms.median | r(2)) / \($h.dead_ms.p99 | r(2)) ms"; ""; "info")
       else empty end)
    end
)

"""Self-tests of scripts/lib (stdlib unittest): each check passes a good input and fails a bad one.

    python3 -m unittest discover -s scripts/lib -t scripts/lib      (as .ci/run does)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fuzzlog  # noqa: E402
import loadtools  # noqa: E402
import logfmt  # noqa: E402
import nginxlog  # noqa: E402
import nginxsite  # noqa: E402
import status  # noqa: E402

WRK_CLEAN = """Running 5s test @ http://127.0.0.1:36177/hello/x
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.23ms    2.34ms  45.67ms   90.00%
    Req/Sec    53.2k     2.1k   56.0k    80.00%
  Latency Distribution
     50%  0.90ms
     75%  1.20ms
     90%  2.00ms
     99%  9.20ms
  267710 requests in 5.03s, 30.12MB read
Requests/sec:  53234.12
Transfer/sec:      5.99MB
"""
WRK_ERRORS = WRK_CLEAN.replace("Requests/sec:", "  Socket errors: connect 0, read 64, write 1, timeout 2\n"
                               "  Non-2xx or 3xx responses: 3\nRequests/sec:")


def status_json(phase="serving", generation=2, desired=2, states=("ready", "ready"), gens=None, pid=100):
    gens = gens or [generation] * len(states)
    return {"master": {"pid": pid, "uptime_ms": 1000, "generation": generation, "workers": desired, "phase": phase,
                       "in_rotation": True, "app": "http", "binds": ["127.0.0.1:1"], "restarts": 0,
                       "connection_limit": 0},
            "workers": [{"pid": 200 + i, "slot": i, "generation": g, "state": s, "age_ms": 5, "requests": 7,
                         "connections": 1, "rss_bytes": 1, "last_heartbeat_ms": 1}
                        for i, (s, g) in enumerate(zip(states, gens))]}


def run_checks(*args):
    return subprocess.run([sys.executable, os.path.join(HERE, "checks.py"), *args], capture_output=True, text=True)


class StatusTests(unittest.TestCase):
    def test_a_generation_is_ready_only_with_every_desired_worker_of_it_ready(self):
        self.assertEqual(status.generation_ready(status_json()), 2)
        self.assertIsNone(status.generation_ready(status_json(states=("ready", "booting"))))
        self.assertIsNone(status.generation_ready(status_json(gens=[2, 1])))
        self.assertIsNone(status.generation_ready(status_json(phase="upgrading")))

    def test_unmet_names_each_failed_condition(self):
        st = status_json(states=("ready", "retiring", "ready"))
        self.assertEqual(status.unmet(st, ready_count=2, desired=2), [])
        self.assertEqual(len(status.unmet(st, master=101, is_steady=True, without=[201])), 3)
        self.assertEqual(status.unmet(None), ["no status (the master does not answer)"])

    def test_the_cli_fails_a_status_that_does_not_meet_the_conditions(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(status_json(states=("ready", "booting")), f)
        try:
            ok = run_checks("status", "--file", f.name, "--ready", "1", "--print", "pid", "generation")
            self.assertEqual((ok.returncode, ok.stdout), (0, "100 2\n"))
            bad = run_checks("status", "--file", f.name, "--generation-ready")
            self.assertEqual(bad.returncode, 1)
            self.assertIn("not ready", bad.stderr)
        finally:
            os.unlink(f.name)


class LogfmtTests(unittest.TestCase):
    LOG = ('ts=2026-12-02T00:00:00.001Z level=info msg=listening addr=127.0.0.1:4321\n'
           'ts=2026-12-02T00:00:00.002Z level=info msg="worker ready" pid=12 slot=0 generation=1\n'
           'ts=2026-12-02T00:00:00.003Z level=error msg="worker exited" pid=12 status=signal:9 reason="a \\"b\\""\n')

    def test_quoted_values_and_escapes(self):
        r = logfmt.parse(self.LOG.splitlines()[2])
        self.assertEqual((r["msg"], r["reason"], r["status"]), ("worker exited", 'a "b"', "signal:9"))

    def test_events_by_message_and_fields(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(self.LOG)
        try:
            recs = logfmt.records(f.name)
            self.assertEqual(logfmt.listening_port(recs), 4321)
            self.assertEqual(len(logfmt.matching(recs, "worker ready", [("pid", "12")])), 1)
            self.assertEqual(len(logfmt.matching(recs, "worker ready", [("pid", "13")])), 0)
            self.assertEqual(len(logfmt.problems(recs)), 1)
            self.assertEqual(run_checks("log-field", f.name, "worker exited", "status", "pid=12").stdout, "signal:9\n")
            self.assertEqual(run_checks("log-field", f.name, "worker exited", "status", "pid=99").returncode, 1)
            self.assertEqual(logfmt.listening_port(logfmt.records(f.name, offset=len(self.LOG.splitlines()[0]) + 1)), None)
        finally:
            os.unlink(f.name)


class LoadToolTests(unittest.TestCase):
    def test_wrk_figures_and_failures(self):
        clean = loadtools.wrk(WRK_CLEAN)
        self.assertEqual((clean["requests"], clean["rps"], clean["p99_ms"], clean["max_latency"]),
                         (267710, 53234.12, 9.2, "45.67ms"))
        self.assertAlmostEqual(clean["mbps"], 5.99 * 1048576 / 1e6)
        self.assertEqual(loadtools.wrk_failed(clean), 0)
        self.assertEqual(loadtools.wrk_failed(loadtools.wrk(WRK_ERRORS)), 64 + 1 + 2 + 3)

    def test_wrk_that_printed_nothing_fails_the_cli(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("unable to connect to 127.0.0.1:1 Connection refused\n")
        try:
            r = run_checks("wrk", f.name, "requests", "failed")
            self.assertEqual((r.returncode, r.stdout), (1, "- 0\n"))
        finally:
            os.unlink(f.name)

    def test_ab_round_with_failed_or_non_2xx_requests_fails(self):
        good = "Complete requests:      50000\nFailed requests:        0\nRequests per second:    9876.54 [#/sec] (mean)\n"
        self.assertIsNone(loadtools.ab_problem(loadtools.ab(good), 50000))
        self.assertIn("failed=3", loadtools.ab_problem(loadtools.ab(good.replace("        0", "        3")), 50000))
        self.assertIn("non2xx=7", loadtools.ab_problem(loadtools.ab(good + "Non-2xx responses:      7\n"), 50000))
        self.assertIn("complete=49999", loadtools.ab_problem(loadtools.ab(good.replace("50000", "49999")), 50000))

    def test_echo_load_with_errors_fails(self):
        self.assertIsNone(loadtools.echo_load_problem("rps=51087.9 p50_us=537 p99_us=12664 max_us=43252 errors=0"))
        self.assertEqual(loadtools.echo_load_problem("rps=51087.9 errors=3"), "errors=3")
        self.assertEqual(loadtools.echo_load_problem("connect failed"), "no rps= in its output")


class NginxLogTests(unittest.TestCase):
    def line(self, status, ups='200', addr="10.200.1.2:8080", method="GET", msec="1000.000"):
        return f'{msec} {status} "{ups}" "{addr}" {method} "/hello/x" 0.001'

    def test_access_counts_failures_retries_and_the_stop(self):
        r = nginxlog.access([self.line(200), self.line(502, "502"), self.line(200, "502, 200", "a:1, b:2"),
                             self.line(499, "-", msec="1999.950"), self.line(499, "-", msec="1000.000"),
                             "garbage"], stop_ms=2000000)
        self.assertEqual((r["requests"], r["non2xx"], r["stop499"], r["retried"]), (5, 3, 1, 1))
        self.assertEqual(r["hosts"], {"10.200.1.2:8080": 4, "b:2": 1})

    def test_a_post_must_reach_the_hosts_405(self):
        r = nginxlog.access([self.line(405, "405", method="POST"), self.line(502, "502", method="POST"),
                             self.line(405, "502, 405", method="POST")], post_status=405)
        self.assertEqual((r["post"], r["post_bad"], r["get_bad"]), (3, 1, 0))

    def test_error_log_kinds(self):
        r = nginxlog.errors([
            "2026/12/02 [error] 1#1: *1 upstream prematurely closed connection while reading",
            "2026/12/02 [error] 1#1: *2 connect() failed (111: Connection refused) while connecting",
            "2026/12/02 [error] 1#1: *3 upstream timed out (110) while connecting to upstream",
            "2026/12/02 [notice] 1#1: signal process started",
            "2026/12/02 [alert] 1#1: something else"])
        self.assertEqual((r["total"], r["premature"], r["connect"], r["ctimeout"], r["other"]), (4, 1, 1, 1, 1))
        self.assertEqual(len(r["connect_lines"]), 2)


class FuzzLogTests(unittest.TestCase):
    FINAL = "#1024 DONE cov: 812 ft: 3001 corp: 140/9Kb exec/s: 3000\nstat::number_of_executed_units: 180000\n" \
            "stat::average_exec_per_sec:     3000\n"

    def test_verdicts(self):
        self.assertEqual(fuzzlog.verdict(self.FINAL, 0), "ok")
        self.assertEqual(fuzzlog.verdict("==1==ERROR: LeakSanitizer: detected memory leaks", 1), "leak")
        self.assertEqual(fuzzlog.verdict("==1== ERROR: libFuzzer: timeout after 10 seconds", 1), "timeout")
        self.assertEqual(fuzzlog.verdict("Fatal error: fuzz invariant failed", 1), "crash")

    def test_result_line_and_report(self):
        self.assertEqual(fuzzlog.result("request-parser", self.FINAL, 0), "request-parser ok 180000 3000 812 3001 140/9Kb -")
        crash = "noise\nFatal error: fuzz invariant failed: x\n#0 frame\nTest unit written to /a/crash-1\n"
        self.assertEqual(fuzzlog.result("t", crash, 77).split(), ["t", "crash", "?", "?", "?", "?", "?", "/a/crash-1"])
        self.assertEqual(fuzzlog.report(crash)[0], "Fatal error: fuzz invariant failed: x")


class NginxSiteTests(unittest.TestCase):
    SITE = ("upstream supervisor {\n    server 127.0.0.1:8080 max_fails=0;\n    keepalive 32;\n"
            "    keepalive_timeout 4s;\n}\nserver {\n    listen 80;\n    proxy_connect_timeout 5s;\n}\n")

    def render(self, text, **kw):
        with tempfile.TemporaryDirectory() as d:
            with open(f"{d}/site", "w") as f:
                f.write(text)
            nginxsite.render(f"{d}/site", f"{d}/out", "test", "127.0.0.1:9", **kw)
            with open(f"{d}/out") as f:
                return f.read()

    def test_the_edits(self):
        out = self.render(self.SITE, address="127.0.0.1:7", keepalive="10s")
        self.assertIn("server 127.0.0.1:7 max_fails=0;", out)
        self.assertIn("keepalive_timeout 10s;", out)
        self.assertIn("listen 127.0.0.1:9;", out)
        out = self.render(self.SITE, servers=["a:1 down", "b:2"], zone="z", connect_timeout="1s")
        self.assertIn("    server a:1 down;\n    server b:2;", out)
        self.assertIn("zone z 64k;", out)
        self.assertIn("proxy_connect_timeout 1s;", out)
        self.assertEqual(nginxsite.upstream_keepalive_ms_text(self.SITE), 4000)

    def test_a_site_this_cannot_edit_is_refused(self):
        with self.assertRaises(ValueError):
            self.render(self.SITE.replace("listen 80;", "listen 80;\n    listen 81;"), address="x:1")
        with self.assertRaises(ValueError):
            self.render(self.SITE.replace("    keepalive_timeout 4s;\n", ""), address="x:1", keepalive="10s")


if __name__ == "__main__":
    unittest.main()

"""The plots (svg.py, benchplot.py, timelineplot.py, plot.py) against known numbers: the bars,
points, marks and labels they draw, escaping, and empty, missing and zero input.

Run with the rest: python3 -m unittest discover -s scripts/lib -t scripts/lib"""

import contextlib
import io
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

import benchplot
import plot
import svg
import timelineplot

NS = "{http://www.w3.org/2000/svg}"


def parse(document):
    return ET.fromstring(document)


def by_class(root, tag, cls):
    return [e for e in root.iter(NS + tag) if cls in (e.get("class") or "").split()]


def texts(root, cls):
    return [e.text for e in by_class(root, "text", cls)]


BENCH = """\
# size conns server rps mbps p99_ms errors req_cpu_s
13B 100 nginx 100000 20 1.5 0 200000
13B 100 supervisor 150000 30 1 0 250000
13MB 1000 nginx 100 1300 800 0 120
13MB 1000 supervisor 0 0 - 4 -
13KB 100 nginx - - - - -
13KB 100 supervisor 5000 65 12 0 9000
"""


class SvgTests(unittest.TestCase):
    def test_text_is_escaped(self):
        doc = svg.Svg(100, 100)
        doc.text(1, 2, 'a<b>&"c\'')
        root = parse(doc.render())
        self.assertEqual([e.text for e in root.iter(NS + "text")], ['a<b>&"c\''])

    def test_si_reads_like_an_axis(self):
        self.assertEqual([svg.si(v) for v in (0, 7, 12.5, 950, 1200, 34000, 1.5e6, None)],
                         ["0", "7", "12.5", "950", "1.2k", "34k", "1.5M", "n/a"])

    def test_linear_ticks_cover_the_peak_from_zero(self):
        self.assertEqual(svg.linear_ticks(83000), [0, 20000, 40000, 60000, 80000, 100000])
        self.assertEqual(svg.linear_ticks(0), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0])

    def test_log_decades_ignore_zero_and_missing(self):
        self.assertEqual(svg.log_decades([0, None, 150, 120000]), (100.0, 1000000.0))
        self.assertEqual(svg.log_decades([0, None]), (1.0, 10.0))
        self.assertEqual(svg.log_decades([1000]), (100.0, 1000.0))
        self.assertEqual(svg.log_decades([10, 20]), (1.0, 100.0))

    def test_axis_maps_ends_and_clamps(self):
        a = svg.Axis(top=10, bottom=110, lo=1, hi=100, log=True)
        self.assertEqual((a.y(1), a.y(10), a.y(100), a.y(0), a.y(1e9)), (110, 60, 10, 110, 10))
        flat = svg.Axis(top=10, bottom=110, lo=0, hi=0)
        self.assertEqual(flat.y(5), 110)

    def test_write_refuses_a_broken_document_and_leaves_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.svg")
            with self.assertRaises(ET.ParseError):
                svg.write(path, "<svg><text>unclosed</svg>")
            self.assertEqual(os.listdir(d), [])
            svg.write(path, svg.Svg(10, 10).render())
            self.assertEqual(os.listdir(d), ["x.svg"])


class BenchPlotTests(unittest.TestCase):
    def setUp(self):
        self.cells, self.rows = benchplot.parse_rows(BENCH)
        self.root = parse(benchplot.render(self.cells, self.rows, "T <1>", ["sub & more", "line 2"]))

    def test_cells_in_first_seen_order(self):
        self.assertEqual(self.cells, [("13B", "100"), ("13MB", "1000"), ("13KB", "100")])

    def test_a_bar_per_positive_figure_in_every_panel(self):
        # Each panel: 6 slots, one figure missing in all, one 0 (req/s, MB/s: no bar) or missing.
        bars = by_class(self.root, "rect", "bar")
        self.assertEqual(len(bars), 4 * 4)
        self.assertEqual(len(by_class(self.root, "rect", "supervisor")), 4 * 2)
        titles = [b.find(NS + "title").text for b in bars]
        self.assertIn("supervisor 13B c=100: requests/s = 150000", titles)
        self.assertIn("nginx 13MB c=1000: MB/s (10^6 bytes/s, headers + bodies) = 1300", titles)

    def test_bars_are_taller_for_bigger_figures(self):
        heights = {b.find(NS + "title").text.split(" = ")[0]: float(b.get("height"))
                   for b in by_class(self.root, "rect", "bar")}
        self.assertGreater(heights["supervisor 13B c=100: requests/s"], heights["nginx 13B c=100: requests/s"])
        self.assertGreater(heights["nginx 13B c=100: requests/s"], heights["nginx 13MB c=1000: requests/s"])

    def test_figures_ratios_and_gaps_are_labelled(self):
        values = texts(self.root, "value")
        self.assertIn("150k", values)
        self.assertIn("0!", values)  # zero with errors: a label, no bar
        self.assertEqual(texts(self.root, "ratio")[:3], ["1.50x", "0.00x", "-"])
        self.assertEqual(texts(self.root, "missing").count("n/a"), 4 + 2)
        self.assertEqual(texts(self.root, "cell")[:2], ["13B", "c=100"])

    def test_title_and_subtitle_are_escaped(self):
        self.assertEqual(texts(self.root, "title"), ["T <1>"])
        self.assertEqual(texts(self.root, "subtitle"), ["sub & more", "line 2"])

    def test_no_cells_still_draws_a_valid_figure(self):
        root = parse(benchplot.render([], {}, "t", []))
        self.assertEqual(texts(root, "empty"), ["no cells: the benchmark produced no results"])
        self.assertEqual(by_class(root, "rect", "bar"), [])

    def test_a_missing_row_reads_failed(self):
        cells, rows = benchplot.parse_rows("13B 100 nginx 1 1 1 0 1\n")
        root = parse(benchplot.render(cells, rows, "t", ["s"]))
        self.assertEqual(texts(root, "missing"), ["failed"] * 4)

    def test_bad_rows_are_named(self):
        for text, want in (("13B 100 nginx 1 2\n", "want 8 fields"),
                           ("13B 100 apache 1 1 1 0 1\n", "unknown server"),
                           ("13B 100 nginx x 1 1 0 1\n", "not a number"),
                           ("13B 100 nginx nan 1 1 0 1\n", "not a figure"),
                           ("13B 100 nginx -5 1 1 0 1\n", "not a figure")):
            with self.assertRaisesRegex(benchplot.BadInput, want):
                benchplot.parse_rows(text)

    def test_ratio_never_divides_by_zero(self):
        self.assertIsNone(benchplot.ratio(5, 0))
        self.assertIsNone(benchplot.ratio(None, 5))
        self.assertEqual(benchplot.ratio(0, 5), 0)


T0 = 1_700_000_000_000


class TimelinePlotTests(unittest.TestCase):
    def test_series_fills_gaps_and_drops_partial_edges(self):
        counts = {T0: (3, 0), T0 + 100: (100, 0), T0 + 300: (50, 2), T0 + 400: (7, 0)}
        self.assertEqual(timelineplot.series(100, counts),
                         [(T0 + 100, 1000.0, 0.0), (T0 + 200, 0.0, 0.0), (T0 + 300, 500.0, 20.0)])
        self.assertEqual(timelineplot.series(100, {}), [])
        self.assertEqual(timelineplot.series(100, {T0: (5, 0)}), [])

    def test_parse_timeline_and_events(self):
        self.assertEqual(timelineplot.parse_timeline(f"# bucket_ms 250\n{T0} 4 1\n"), (250, {T0: (4, 1)}))
        self.assertEqual(timelineplot.parse_events(f"{T0} signal HUP 1\n{T0 + 5} done generation 2 ready\n"),
                         [(T0, "signal", "HUP 1"), (T0 + 5, "done", "generation 2 ready")])
        for bad in (f"{T0} 4\n# bucket_ms 100\n", f"{T0} 4 1\n", "# bucket_ms 0\n", f"# bucket_ms 100\n{T0} -1 0\n"):
            with self.assertRaises(timelineplot.BadInput):
                timelineplot.parse_timeline(bad)
        with self.assertRaises(timelineplot.BadInput):
            timelineplot.parse_events(f"{T0} maybe HUP\n")

    def test_log_ts_to_epoch_ms(self):
        self.assertEqual(timelineplot.epoch_ms("2023-11-14T22:13:20.250Z"), T0 + 250)
        self.assertIsNone(timelineplot.epoch_ms("yesterday"))
        self.assertIsNone(timelineplot.epoch_ms(None))

    def render(self, scenarios):
        return parse(timelineplot.render(scenarios, "t", ["s"]))

    def test_points_follow_the_counts_and_marks_carry_labels(self):
        pts = [(T0 + i * 100, 1000.0 * (i + 1), 0.0) for i in range(4)] + [(T0 + 400, 0.0, 30.0)]
        events = [(T0 + 150, "signal", "HUP <1>"), (T0 + 250, "done", "ready"), (T0 + 99999, "signal", "late")]
        root = self.render([timelineplot.Scenario("hup", pts, events, "per 100 ms")])
        line = by_class(root, "polyline", "rate")
        self.assertEqual(len(line), 1)
        ys = [float(p.split(",")[1]) for p in line[0].get("points").split()]
        self.assertEqual(len(ys), 2 * len(pts))  # a step per bucket
        self.assertEqual(ys[0], ys[1])
        self.assertGreater(ys[0], ys[2])  # 1000/s is drawn below 2000/s
        self.assertEqual(max(ys), ys[-1])  # the empty bucket sits on the zero line
        self.assertEqual(texts(root, "mark-label"), ["HUP <1>"])  # escaped; outside the run: not drawn
        self.assertEqual(len(by_class(root, "line", "done")), 1)
        self.assertEqual(len(by_class(root, "rect", "bad")), 1)
        self.assertEqual(texts(root, "panel-title"), ["hup"])

    def test_close_marks_get_separate_label_rows(self):
        pts = [(T0 + i * 100, 10.0, 0.0) for i in range(50)]
        events = [(T0 + 1000 + i, "signal", f"HUP {i}") for i in range(4)]
        root = self.render([timelineplot.Scenario("hup", pts, events, "")])
        ys = [e.get("y") for e in by_class(root, "text", "mark-label")]
        self.assertEqual(len(set(ys[:3])), 3)

    def test_a_repeated_label_is_written_once_with_its_count(self):
        pts = [(T0 + i * 100, 10.0, 0.0) for i in range(50)]
        events = [(T0 + 500 * i, "signal", "recycle") for i in range(1, 4)] + [(T0 + 2000, "signal", "USR2")]
        root = self.render([timelineplot.Scenario("recycle", pts, events, "")])
        self.assertEqual(texts(root, "mark-label"), ["recycle (x3)", "USR2"])
        self.assertEqual(len(by_class(root, "line", "mark")), 4)

    def test_empty_and_all_zero_scenarios_draw(self):
        root = self.render([timelineplot.Scenario("usr2", [], [], "no timeline.txt"),
                            timelineplot.Scenario("kill9", [(T0, 0.0, 0.0), (T0 + 100, 0.0, 0.0)], [], "")])
        self.assertEqual(texts(root, "empty"), ["no full bucket of load recorded"])
        self.assertEqual(texts(self.render([]), "empty"), ["no scenarios recorded"])

    def test_load_reads_a_scenario_directory(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(timelineplot.load("x", d).points, [])
            with open(os.path.join(d, "timeline.txt"), "w") as f:
                f.write("# bucket_ms 100\n" + "".join(f"{T0 + i * 100} 10 0\n" for i in range(5)))
            with open(os.path.join(d, "events.txt"), "w") as f:
                f.write(f"{T0 + 200} signal HUP 1\n")
            with open(os.path.join(d, "server.log"), "w") as f:
                f.write('ts=2023-11-14T22:13:20.300Z level=info msg="recycling worker" pid=5 slot=0\n'
                        'ts=2023-11-14T22:13:20.310Z level=info msg="worker ready" pid=6 slot=0\n')
            with open(os.path.join(d, "wrk.txt"), "w") as f:
                f.write("  5000 requests in 5.00s, 1.00MB read\n  Socket errors: connect 0, read 3, write 0, timeout 0\n")
            s = timelineplot.load("hup", d)
            self.assertEqual(len(s.points), 3)
            self.assertEqual(s.events, [(T0 + 200, "signal", "HUP 1"), (T0 + 300, "signal", "recycle")])
            self.assertEqual(s.summary, "per 100 ms; wrk: 5,000 requests, 3 failed (socket errors + non-2xx/3xx)")


class PlotCommandTests(unittest.TestCase):
    def setUp(self):
        quiet = contextlib.redirect_stderr(io.StringIO())
        quiet.__enter__()
        self.addCleanup(quiet.__exit__, None, None, None)

    def test_bench_writes_a_parsable_file_and_bad_input_writes_none(self):
        with tempfile.TemporaryDirectory() as d:
            rows, out = os.path.join(d, "rows.txt"), os.path.join(d, "out.svg")
            with open(rows, "w") as f:
                f.write(BENCH)
            self.assertEqual(plot.main(["bench", rows, out, "--note", "n"]), 0)
            root = ET.parse(out).getroot()
            self.assertEqual(texts(root, "subtitle")[1], "n")
            self.assertIn("commit ", texts(root, "subtitle")[0])
            with open(rows, "w") as f:
                f.write("garbage\n")
            os.unlink(out)
            self.assertEqual(plot.main(["bench", rows, out]), 1)
            self.assertEqual(plot.main(["bench", os.path.join(d, "missing"), out]), 1)
            self.assertFalse(os.path.exists(out))
            self.assertEqual(sorted(os.listdir(d)), ["rows.txt"])

    def test_usage(self):
        self.assertEqual(plot.main(["bench"]), 3)
        self.assertEqual(plot.main(["timeline", "out.svg", "nodir"]), 1)
        self.assertEqual(plot.main([]), 3)


if __name__ == "__main__":
    unittest.main()

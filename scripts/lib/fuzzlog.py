"""What libFuzzer printed for one target: the verdict, the final figures, the saved input."""

import re


def verdict(text, status):
    """ok, or what ended the run: leak, timeout, out-of-memory or crash (an invariant, a sanitizer
    report, a Swift trap)."""
    if status == 0:
        return "ok"
    if "ERROR: LeakSanitizer" in text:
        return "leak"
    if "libFuzzer: timeout" in text:
        return "timeout"
    if "libFuzzer: out-of-memory" in text:
        return "out-of-memory"
    return "crash"


def final_stat(text, name):
    """`stat::NAME: N` of -print_final_stats, as text, or '?'."""
    found = re.findall(rf"^stat::{name}: *(\d+)", text, re.M)
    return found[-1] if found else "?"


def status_field(text, name):
    """The last `#N ... NAME: V` progress line's V (cov, ft, corp), or '?'."""
    found = [m.group(1) for line in text.splitlines() if re.match(r"^#\d+", line)
             for m in [re.search(rf"{name}: ([0-9/]*[a-zA-Z]*)", line)] if m]
    return found[-1] if found else "?"


def artifact(text):
    found = re.findall(r"Test unit written to (\S+)", text)
    return found[-1] if found else "-"


def result(target, text, status):
    """One result line: target verdict execs execs/s cov ft corpus artifact."""
    return " ".join([target, verdict(text, status), final_stat(text, "number_of_executed_units"),
                     final_stat(text, "average_exec_per_sec"), status_field(text, "cov"), status_field(text, "ft"),
                     status_field(text, "corp"), artifact(text)])


def report(text):
    """From the first line that names the failure (invariant, sanitizer, libFuzzer, Swift), 60
    lines; else the last 40."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines)
                  if re.search(r"fuzz invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Fatal error", line)),
                 None)
    return lines[first:first + 60] if first is not None else lines[-40:]

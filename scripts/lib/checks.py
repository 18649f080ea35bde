#!/usr/bin/env python3
"""The scripts' judging and parsing, called from bash as `checks SUBCOMMAND ...` (scripts/lib.sh).

Python's standard library only. Exit status: 0 yes / passed, 1 no / failed (the reason on
stderr), 3 usage. Subcommands:

  status (--supervisor BIN --pidfile FILE | --file JSON) [conditions] [--print FIELD...]
        `supervisor status --json` meets every condition: --master PID, --not-master PID,
        --phase P, --in-rotation yes|no, --ready N, --desired N, --generation-ready [MIN] (every
        desired worker of the master's generation, at least MIN, ready), --without PID (not
        listed), --steady; then prints the --print fields (status.summary's names) on one line
  log-port LOG                          the port of the first `msg=listening addr=127.0.0.1:PORT`
  log-count LOG MSG [K=V...] [--from N] how many events with that msg (and fields)
  log-field LOG MSG KEY [K=V...] [--from N] [--last] [--nth N]
                                        KEY of the first (last, N-th) such event
  log-problems LOG                      the warn/error/critical lines (exit 0 either way)
  wrk OUT [FIELD...]                    wrk's figures (loadtools.wrk's names, failed = every
                                        socket error + non-2xx/3xx); 1 if wrk printed none
  ab OUT WANT                           an ab round of WANT requests all answered 200; prints req/s
  echo-load LINE                        an echo-load result line with rps= and errors=0
  fuzz-result TARGET STATUS LOG         one result line of scripts/fuzz
  fuzz-report LOG                       the lines of LOG that say what went wrong
  nginx-access LOG OFFSET STOP_MS OUT [--post-status N]   access log summary, as JSON to OUT
  nginx-errors LOG OFFSET OUT           error log summary ([warn]+ by kind), as JSON to OUT
  json FILE KEY...                      one value of a JSON file (lists and objects as JSON)
  json-lines FILE KEY... [--prefix P]   a list of a JSON file, one item a line (after P)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzzlog  # noqa: E402
import loadtools  # noqa: E402
import logfmt  # noqa: E402
import nginxlog  # noqa: E402
import status as status_mod  # noqa: E402


class Usage(Exception):
    pass


def fail(*lines):
    for line in lines:
        print(line, file=sys.stderr)
    return 1


def take(args, flag, convert=str, default=None):
    """Removes `flag VALUE` from args; its value, or default."""
    if flag not in args:
        return default
    i = args.index(flag)
    if i + 1 >= len(args):
        raise Usage(f"{flag} needs a value")
    value = args[i + 1]
    del args[i:i + 2]
    try:
        return convert(value)
    except ValueError:
        raise Usage(f"{flag}: bad value {value!r}")


def take_all(args, flag, convert=str):
    out = []
    while flag in args:
        out.append(take(args, flag, convert))
    return out


def has(args, flag):
    if flag in args:
        args.remove(flag)
        return True
    return False


def value_text(v):
    if v is None:
        return "-"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def cmd_status(args):
    binary, pidfile, path = take(args, "--supervisor"), take(args, "--pidfile"), take(args, "--file")
    fields = []
    while "--print" in args:
        i = args.index("--print")
        j = i + 1
        while j < len(args) and not args[j].startswith("--"):
            j += 1
        fields += args[i + 1:j]
        del args[i:j]
    gen_min = None
    if "--generation-ready" in args:
        i = args.index("--generation-ready")
        if i + 1 < len(args) and args[i + 1].isdigit():
            gen_min = int(args[i + 1])
            del args[i:i + 2]
        else:
            gen_min = 0
            del args[i]
    conditions = dict(master=take(args, "--master", int), not_master=take(args, "--not-master", int),
                      phase=take(args, "--phase"), in_rotation=take(args, "--in-rotation"),
                      ready_count=take(args, "--ready", int), desired=take(args, "--desired", int),
                      min_generation_ready=gen_min, without=take_all(args, "--without", int),
                      is_steady=has(args, "--steady"))
    if args:
        raise Usage("status: unknown arguments " + " ".join(args))
    if path:
        with open(path) as f:
            st = json.load(f)
    elif binary and pidfile:
        st = status_mod.fetch(binary, pidfile)
    else:
        raise Usage("status needs --supervisor BIN --pidfile FILE, or --file JSON")
    unmet = status_mod.unmet(st, **conditions)
    if unmet:
        return fail("; ".join(unmet))
    if fields:
        s = status_mod.summary(st)
        unknown = [f for f in fields if f not in s]
        if unknown:
            raise Usage("status --print: unknown fields " + " ".join(unknown))
        print(" ".join(value_text(s[f]) for f in fields))
    return 0


def log_query(args):
    offset = take(args, "--from", int, 0)
    last = has(args, "--last")
    nth = take(args, "--nth", int)
    if len(args) < 2:
        raise Usage("needs LOG MSG")
    path, msg, rest = args[0], args[1], args[2:]
    return path, msg, rest, offset, last, nth


def pairs(words):
    out = []
    for w in words:
        if "=" not in w:
            raise Usage(f"not KEY=VALUE: {w!r}")
        out.append(tuple(w.split("=", 1)))
    return out


def cmd_log_count(args):
    path, msg, rest, offset, _, _ = log_query(args)
    print(len(logfmt.matching(logfmt.records(path, offset), msg, pairs(rest))))
    return 0


def cmd_log_field(args):
    path, msg, rest, offset, last, nth = log_query(args)
    if not rest:
        raise Usage("log-field needs LOG MSG KEY")
    key, where = rest[0], pairs(rest[1:])
    found = [r for r in logfmt.matching(logfmt.records(path, offset), msg, where) if key in r]
    if nth is not None:
        found = found[nth - 1:nth] if nth >= 1 else []
    if not found:
        return 1
    print(found[-1 if last else 0][key])
    return 0


def cmd_log_port(args):
    if len(args) != 1:
        raise Usage("log-port LOG")
    port = logfmt.listening_port(logfmt.records(args[0]))
    if port is None:
        return 1
    print(port)
    return 0


def cmd_log_problems(args):
    if len(args) != 1:
        raise Usage("log-problems LOG")
    try:
        with open(args[0], errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return 0
    for line in lines:
        if logfmt.parse(line).get("level") in ("warn", "warning", "error", "critical"):
            print(line)
    return 0


def cmd_wrk(args):
    if not args:
        raise Usage("wrk OUT [FIELD...]")
    with open(args[0], errors="replace") as f:
        r = loadtools.wrk(f.read())
    r["failed"] = loadtools.wrk_failed(r)
    r["socket_errors"] = sum(r[k] for k in loadtools.SOCKET_ERRORS)
    fields = args[1:] or ["requests", "rps", "p99_ms", "failed"]
    unknown = [f for f in fields if f not in r]
    if unknown:
        raise Usage("wrk: unknown fields " + " ".join(unknown))
    print(" ".join(value_text(r[f]) for f in fields))
    return 0 if r["requests"] is not None and r["rps"] is not None else 1


def cmd_ab(args):
    if len(args) != 2:
        raise Usage("ab OUT WANT")
    with open(args[0], errors="replace") as f:
        r = loadtools.ab(f.read())
    problem = loadtools.ab_problem(r, int(args[1]))
    if problem:
        return fail(problem)
    print(int(r["rps"]) if r["rps"] is not None else "-")
    return 0


def cmd_echo_load(args):
    if len(args) != 1:
        raise Usage("echo-load LINE")
    problem = loadtools.echo_load_problem(args[0])
    return fail(problem) if problem else 0


def cmd_fuzz_result(args):
    if len(args) != 3:
        raise Usage("fuzz-result TARGET STATUS LOG")
    with open(args[2], errors="replace") as f:
        print(fuzzlog.result(args[0], f.read(), int(args[1])))
    return 0


def cmd_fuzz_report(args):
    if len(args) != 1:
        raise Usage("fuzz-report LOG")
    with open(args[0], errors="replace") as f:
        print("\n".join(fuzzlog.report(f.read())))
    return 0


def cmd_nginx_access(args):
    post = take(args, "--post-status", int)
    if len(args) != 4:
        raise Usage("nginx-access LOG OFFSET STOP_MS OUT [--post-status N]")
    r = nginxlog.access(nginxlog.read_from(args[0], args[1]), float(args[2]), post)
    with open(args[3], "w") as f:
        json.dump(r, f)
    return 0


def cmd_nginx_errors(args):
    if len(args) != 3:
        raise Usage("nginx-errors LOG OFFSET OUT")
    r = nginxlog.errors(nginxlog.read_from(args[0], args[1]))
    with open(args[2], "w") as f:
        json.dump(r, f)
    return 0


def json_at(path, keys):
    """The value at KEY... (list indices as numbers) of the JSON file at path."""
    with open(path) as f:
        v = json.load(f)
    for k in keys:
        v = v[int(k)] if isinstance(v, list) else v[k]
    return v


def cmd_json(args):
    if len(args) < 2:
        raise Usage("json FILE KEY...")
    print(value_text(json_at(args[0], args[1:])))
    return 0


def cmd_json_lines(args):
    prefix = take(args, "--prefix", str, "")
    if len(args) < 2:
        raise Usage("json-lines FILE KEY... [--prefix P]")
    for item in json_at(args[0], args[1:]):
        print(prefix + value_text(item))
    return 0


COMMANDS = {"status": cmd_status, "log-port": cmd_log_port, "log-count": cmd_log_count, "log-field": cmd_log_field,
            "log-problems": cmd_log_problems, "wrk": cmd_wrk, "ab": cmd_ab, "echo-load": cmd_echo_load,
            "fuzz-result": cmd_fuzz_result, "fuzz-report": cmd_fuzz_report, "nginx-access": cmd_nginx_access,
            "nginx-errors": cmd_nginx_errors, "json": cmd_json,
            "json-lines": cmd_json_lines}


def main(argv):
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 3
    handler = COMMANDS.get(argv[0])
    try:
        if handler is None:
            raise Usage(f"unknown subcommand {argv[0]!r}")
        return handler(list(argv[1:]))
    except Usage as e:
        print(f"checks.py: {e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

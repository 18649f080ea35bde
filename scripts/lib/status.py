"""`supervisor status --json` (Sources/Supervisor/StatusReport.swift): the master's own account of
its state, read instead of its log wherever the state is there.

{"master": {"pid", "uptime_ms", "generation", "workers" (desired), "phase" (serving, stopping,
upgrading), "in_rotation", "app", "binds", "restarts", "connection_limit"},
 "workers": [{"pid", "slot", "generation", "state" (booting, ready, retiring, killed, recycling),
              "age_ms", "requests", "connections", "rss_bytes", "last_heartbeat_ms"}]}"""

import json
import subprocess


def fetch(binary, pidfile, timeout=5):
    """The status of the master PIDFILE names, or None when it does not answer."""
    try:
        p = subprocess.run([binary, "status", "--json", "--pidfile", pidfile], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def ready(st, generation=None):
    """The workers that are ready (of that generation, if given)."""
    return [w for w in st["workers"] if w["state"] == "ready" and (generation is None or w["generation"] == generation)]


def generation_ready(st):
    """The master's generation when every one of its desired workers of it is ready, else None."""
    m = st["master"]
    if m["phase"] != "serving":
        return None
    return m["generation"] if len(ready(st, m["generation"])) >= m["workers"] else None


def steady(st, master=None, desired=None, generation=None, exclude=()):
    """Serving with exactly its desired workers, all ready (of `generation`, none in `exclude`)."""
    if not st:
        return False
    m = st["master"]
    if master is not None and m["pid"] != master:
        return False
    if desired is not None and m["workers"] != desired:
        return False
    if m["phase"] != "serving":
        return False
    ws = st["workers"]
    if len(ws) != m["workers"] or any(w["state"] != "ready" for w in ws):
        return False
    if generation is not None and any(w["generation"] != generation for w in ws):
        return False
    return not any(w["pid"] in exclude for w in ws)


def summary(st):
    """The figures the scripts print and judge, by name."""
    m = st["master"]
    return {"pid": m["pid"], "phase": m["phase"], "in_rotation": "yes" if m["in_rotation"] else "no",
            "generation": m["generation"], "desired": m["workers"], "ready": len(ready(st)),
            "requests": sum(w.get("requests", 0) for w in st["workers"]),
            "generation_ready": generation_ready(st) or "-",
            "workers": ",".join(str(w["pid"]) for w in ready(st, m["generation"])) or "-"}


def unmet(st, master=None, not_master=None, phase=None, in_rotation=None, ready_count=None, desired=None,
          min_generation_ready=None, without=(), is_steady=False):
    """What of the conditions the status does not meet (empty: all are met)."""
    if not st:
        return ["no status (the master does not answer)"]
    m, s, out = st["master"], summary(st), []
    if master is not None and m["pid"] != master:
        out.append(f"master {m['pid']}, want {master}")
    if not_master is not None and m["pid"] == not_master:
        out.append(f"master is still {not_master}")
    if phase is not None and m["phase"] != phase:
        out.append(f"phase {m['phase']}, want {phase}")
    if in_rotation is not None and s["in_rotation"] != in_rotation:
        out.append(f"in_rotation {s['in_rotation']}, want {in_rotation}")
    if ready_count is not None and s["ready"] != ready_count:
        out.append(f"{s['ready']} ready, want {ready_count}")
    if desired is not None and m["workers"] != desired:
        out.append(f"{m['workers']} desired, want {desired}")
    if min_generation_ready is not None:
        g = generation_ready(st)
        if g is None or g < min_generation_ready:
            out.append(f"generation {m['generation']} not ready with {m['workers']} workers"
                       f" (want generation >= {min_generation_ready} ready)")
    left = sorted(set(without) & {w["pid"] for w in st["workers"]})
    if left:
        out.append(f"worker(s) {left} still listed")
    if is_steady and not steady(st):
        out.append("not steady (every desired worker ready, nothing booting or retiring)")
    return out

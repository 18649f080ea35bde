"""Processes from /proc, by PID (a zombie is not alive)."""

import glob
import os


def stat(pid):
    """(state, ppid, pgid) of PID, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2])


def alive(pid):
    st = stat(pid) if pid else None
    return st is not None and st[0] not in ("Z", "X")


def children(pid):
    """PID's live children."""
    out = []
    for path in glob.glob("/proc/[0-9]*/stat"):
        st = stat(path.split("/")[2])
        if st and st[1] == int(pid) and st[0] != "Z":
            out.append(int(path.split("/")[2]))
    return out


def open_files_under(pids, prefix):
    """The files under PREFIX that PIDS hold open (a deleted temp file shows only this way)."""
    found = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(prefix):
                found.append(target)
    return found

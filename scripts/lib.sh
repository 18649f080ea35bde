# scripts/lib.sh: the helpers every script under scripts/ shares, one version of each.
#
#   here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); source "$here/lib.sh"
#
# Sets `here` (scripts/), `top` (the repository) and `prog` (the script's name, for messages; a
# script may set it before sourcing). Bash orchestrates; judging and parsing (wrk/ab output, the
# server's log, `supervisor status --json`, nginx's logs) are Python, in scripts/lib/, called
# through `checks`.
# Needs bash 5 (EPOCHREALTIME).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
prog=${prog:-$(basename "$0")}
((BASH_VERSINFO[0] >= 5)) || { echo "$prog: needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }

# --- messages and arguments ----------------------------------------------------------------------
# The header comment of the script (line 2 up to `set -euo`) is its --help.
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "$prog: $*" >&2; exit 2; }           # usage or environment: exit 2
say() { echo "$prog: $*" >&2; }                   # progress and warnings, on stderr
report() { echo "$prog: $*"; }                    # the script's own report, on stdout
need_arg() { (($# >= 2)) || die "$1 needs a value"; }
# is_uint V: a whole number above 0 (leading zeros are decimal, not octal).
is_uint() { [[ $1 =~ ^[0-9]{1,18}$ ]] && ((10#$1 > 0)); }
# uint_in V MIN MAX: a whole number (at most 4 digits) in MIN..MAX.
uint_in() { [[ $1 =~ ^[0-9]{1,4}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }
abs_path() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

# checks SUBCOMMAND ARGS...: the Python side (scripts/lib/checks.py; `checks --help`).
# (-S: no site-packages to scan; stdlib only, and half the start-up time of a poll)
checks() { python3 -S "$here/lib/checks.py" "$@"; }

# --- time ------------------------------------------------------------------------------------------
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }

# wait_until WHAT SECONDS CMD...: poll CMD every $wait_poll s (default 0.05) until it succeeds.
# Gives up (1, with `why` set) after SECONDS, at once when CMD returns 2 (CMD set `why` itself), or
# when the function named in `guard` (if set) fails on a turn (it sets `why`; the condition is
# tried once more first: it may have come true while the guard looked).
guard="" why="" wait_poll=0.05
wait_until() {
    local what=$1 t0 deadline rc
    t0=$(now_ms)
    deadline=$((t0 + $2 * 1000))
    shift 2
    while :; do
        rc=0
        "$@" || rc=$?
        ((rc == 0)) && return 0
        ((rc == 2)) && return 1
        if [[ -n $guard ]] && ! "$guard"; then
            "$@" && return 0
            why="$why, while waiting for $what (after $(secs_since "$t0") s)"
            return 1
        fi
        (($(now_ms) < deadline)) || { why="timed out waiting for $what ($(secs_since "$t0") s)"; return 1; }
        sleep "$wait_poll"
    done
}

# --- processes (by PID, from /proc: a zombie is not running) --------------------------------------
# stat_field PID N: field N (1-based, after the comm) of /proc/PID/stat: 1 state, 2 ppid, 3 pgid.
stat_field() {
    local s
    [[ -n $1 ]] || return 1
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    read -r -a s <<<"$s"
    echo "${s[$2 - 1]}"
}
running() { local s; s=$(stat_field "$1" 1) && [[ $s != Z && $s != X ]]; }
pgid_of() { stat_field "$1" 3; }
# proc_match COLUMN VALUE: the live processes whose stat field COLUMN (as stat_field) is VALUE.
proc_match() {
    local f s
    for f in /proc/[0-9]*/stat; do
        s=$(cat "$f" 2>/dev/null) || continue
        s=${s##*) }
        read -r -a s <<<"$s"
        [[ ${s[$1 - 1]} == "$2" && ${s[0]} != Z ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
    done
    return 0
}
group_pids() { proc_match 3 "$1"; }   # PGID: its live processes
children() { proc_match 2 "$1"; }     # PID: its live children
group_alive() { [[ -n $(group_pids "$1") ]]; }

# stop_pids SIGNAL PID...: signal all, wait up to $stop_grace_s (10) s for all, then SIGKILL what
# is left (with its process group when it leads one), reap. Sets stop_killed (the PIDs killed),
# stop_statuses[PID] (each one's status from `wait`: 127 when it was not our child) and
# stop_status (the last PID's).
stop_grace_s=10
declare -A stop_statuses=()
stop_pids() {
    local sig=$1 p deadline left
    shift
    stop_killed="" stop_status=0
    for p in "$@"; do running "$p" && { kill -"$sig" "$p" 2>/dev/null || true; }; done
    deadline=$(($(now_ms) + stop_grace_s * 1000))
    while :; do
        left=()
        for p in "$@"; do running "$p" && left+=("$p"); done
        ((${#left[@]})) || break
        if (($(now_ms) >= deadline)); then
            say "warning: pid ${left[*]} ignored SIG$sig for $stop_grace_s s; killing"
            for p in "${left[@]}"; do
                [[ $(pgid_of "$p") == "$p" ]] && kill -KILL -- "-$p" 2>/dev/null
                kill -KILL "$p" 2>/dev/null || true
            done
            stop_killed=${left[*]}
            break
        fi
        sleep 0.05
    done
    for p in "$@"; do
        stop_status=0
        wait "$p" 2>/dev/null || stop_status=$?
        stop_statuses[$p]=$stop_status
    done
    return 0
}

# sweep_groups SECONDS PGID...: wait up to SECONDS for the groups to empty (workers die with their
# master), then SIGKILL what is left. Sets swept (the PIDs killed); 1 if it had to kill.
sweep_groups() {
    local s=$1 g deadline
    shift
    deadline=$(($(now_ms) + s * 1000))
    while :; do
        swept=""
        for g in "$@"; do swept+=" $(group_pids "$g")"; done
        swept=$(echo $swept)
        [[ -n $swept ]] && (($(now_ms) < deadline)) || break
        sleep 0.05
    done
    [[ -z $swept ]] && return 0
    for g in "$@"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    return 1
}

# stop_server PID [PGID...]: a server started in its own session (PGID = PID): SIGTERM, SIGKILL to
# its group after 10 s, reap, then 2 s for the rest of the group(s) to go, swept and named.
# Sets stop_status (its exit status) and stop_note (empty when clean); 0 if clean (it exited in
# time, with any status, and left nothing behind).
stop_server() {
    local pid=$1
    shift
    stop_note=""
    [[ -n $pid ]] || { stop_status=0; return 0; }
    stop_pids TERM "$pid"
    [[ -z $stop_killed ]] || stop_note+="pid $pid ignored SIGTERM for $stop_grace_s s (killed its group); "
    local status=$stop_status
    sweep_groups 2 "$pid" "$@" || stop_note+="left running after pid $pid exited: $swept (killed); "
    stop_status=$status
    stop_note=${stop_note%; }
    [[ -z $stop_note ]]
}

# start_session LOG CMD...: CMD in a session of its own (PGID = PID, so its whole tree can be
# stopped by PID), stdout and stderr to LOG, no stdin, without fd 9 (a script's lock). Sets
# started (its PID). A background child of a non-interactive shell is not a group leader, so
# setsid(1) calls setsid() in place without forking: $! is CMD.
start_session() {
    local log=$1
    shift
    setsid "$@" >"$log" 2>&1 </dev/null 9>&- &
    started=$!
}

# read_pidfile FILE: the pid it holds, if it holds one.
read_pidfile() {
    local p
    p=$(cat "$1" 2>/dev/null) || return 1
    p=${p//[[:space:]]/}
    [[ $p =~ ^[0-9]+$ ]] && echo "$p"
}

# exit_text STATUS (from `wait`): "exit status N" or "killed by signal N".
exit_text() {
    local s=$1
    if ((s > 128)); then echo "killed by signal $((s - 128))$( ((s == 137)) && echo ' (SIGKILL)')"; else echo "exit status $s"; fi
}

# on_exit FUNC: FUNC RC runs once at exit (INT exits 130, TERM 143: scripts may set their own
# INT/TERM traps after this); the script then exits with RC.
on_exit() {
    exit_hook=$1
    trap 'lib_exit_trap' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
lib_exit_trap() {
    local rc=$?
    trap - EXIT INT TERM
    "$exit_hook" "$rc"
    exit "$rc"
}

# start_watchdog SECONDS: TERM to this script after SECONDS (a background loop of 1 s sleeps that
# ends by itself once the script is gone). Sets watchdog; stop_watchdog ends it.
watchdog=""
start_watchdog() {
    (
        end=$(($(date +%s) + $1))
        while (($(date +%s) < end)); do sleep 1; kill -0 $$ 2>/dev/null || exit 0; done
        kill -TERM $$ 2>/dev/null
    ) 9>&- &
    watchdog=$!
}
stop_watchdog() {
    [[ -n $watchdog ]] || return 0
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    watchdog=""
}

# make_work: work=a fresh temp dir for this run. finish_work RC KEEP [WHAT]: keep it (and say so)
# when RC is not 0 or KEEP is 1, else remove it.
make_work() { work=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX"); }
finish_work() {
    if (($1 != 0 || $2)); then say "${3:-logs} kept in $work"; else rm -rf "$work"; fi
}

# --- ports -----------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }   # PORT [HOST]
# port_conns PORT [STATES]: server-side TCP connections on local PORT in those /proc/net/tcp states
# (default 01: ESTABLISHED).
port_conns() {
    awk -v p="$(printf ':%04X' "$1")" -v s="${2:-01}" '$2 ~ p"$" && index(" " s " ", " " $4 " ")' /proc/net/tcp /proc/net/tcp6 2>/dev/null | wc -l
}
# wait_port PID PORT [SECONDS=30]: until PORT accepts connections; 1 (said) if PID exits first.
wait_port() {
    local pid=$1 port=$2 deadline=$(($(now_ms) + ${3:-30} * 1000))
    while (($(now_ms) < deadline)); do
        running "$pid" || { say "server pid $pid exited during startup"; return 1; }
        port_open "$port" && return 0
        sleep 0.05
    done
    say "server pid $pid not accepting on port $port after ${3:-30} s"
    return 1
}
# wait_quiet PORT: up to 10 s until no connection to PORT is open or closing server-side (01
# ESTABLISHED, 08 CLOSE_WAIT), so one load run does not start on the last one's leftovers.
wait_quiet() {
    local n deadline=$(($(now_ms) + 10000))
    while :; do
        n=$(port_conns "$1" "01 08")
        ((n == 0)) && return 0
        (($(now_ms) < deadline)) || break
        sleep 0.1
    done
    say "warning: $n connections to port $1 still open after 10 s"
}

# --- the machine -------------------------------------------------------------------------------------
# find_tool NAME: its path (PATH, then /usr/sbin), or nothing.
find_tool() { command -v "$1" 2>/dev/null || { [[ -x /usr/sbin/$1 ]] && echo "/usr/sbin/$1"; } || true; }
# need_packages PKG...: as root with apt-get, install them (an update first if that fails); else die.
need_packages() {
    (($#)) || return 0
    if ((EUID == 0)) && command -v apt-get >/dev/null; then
        say "installing $* (apt-get install -y $*)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get install -y "$@" >&2 ||
            { timeout 300 apt-get update >&2 && timeout 600 apt-get install -y "$@" >&2; } ||
            die "apt-get install $* failed"
    else
        die "needs $* (apt-get install -y $*)"
    fi
}
need_tools() { local t; for t; do command -v "$t" >/dev/null || die "needs $t"; done; }
# raise_nofile NEED: the soft open-file limit to the hard one; dies if that is below NEED.
raise_nofile() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard != unlimited ]] && ((hard < $1)); then
        die "open-file hard limit $hard is too low (need $1)"
    fi
    ulimit -Sn "$hard"
}
# pin_cpus: pin_server=(taskset -c 0), pin_load=(taskset -c 1), or both empty (said) without 2 CPUs.
pin_cpus() {
    pin_server=() pin_load=()
    if taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
        pin_server=(taskset -c 0) pin_load=(taskset -c 1)
    else
        say "warning: CPUs 0 and 1 not both usable; running unpinned"
    fi
}

# --- the binary under test ----------------------------------------------------------------------------
# need_supervisor BIN GIVEN: BIN must be an executable file; made absolute (USR2 re-executes the
# path). Unless GIVEN is 1, warns when Sources/ is newer than it.
need_supervisor() {
    [[ -x $1 && -f $1 ]] || die "--supervisor $1 is not an executable file (build it: swift build -c release)"
    supervisor=$(abs_path "$1")
    if ((!${2:-1})) && [[ -d $top/Sources ]] &&
        [[ -n $(find "$top/Sources" "$top/Package.swift" -newer "$supervisor" -print -quit 2>/dev/null) ]]; then
        say "warning: $supervisor is older than Sources/ (rebuild: swift build -c release)"
    fi
}
# status_is PIDFILE CONDITIONS...: `supervisor status --json` of the master PIDFILE names meets the
# conditions (scripts/lib/status.py: --ready N, --generation-ready, --phase P, ...); prints what
# --print asks.
status_is() { local pf=$1; shift; checks status --supervisor "$supervisor" --pidfile "$pf" "$@"; }

# --- nginx in a prefix of its own (DIR/nginx.conf, DIR/error.log, DIR/nginx.pid) ----------------------
# nginx_user: as root, nginx workers would switch to "nobody" and could not read our 0700 temp
# dirs; a config runs them as the invoking user instead, like our server.
nginx_user=""
((EUID == 0)) && nginx_user="user $(id -un) $(id -gn);"
# nginx_temp_paths DIR: the temp path directives, all under DIR/tmp.
nginx_temp_paths() {
    local t
    for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $1/tmp/${t}_temp;"; done
}
# write_peer_nginx_conf DIR PORT ROOT CONNECTIONS NOFILE GENERATOR: the nginx the measurements run
# beside ours (scripts/bench and the per-request counts), in DIR/nginx.conf: master + 1 worker,
# GET /files/NAME from ROOT (sendfile, tcp_nopush, open_file_cache, as deployed), GET /hello the
# 13 bytes "Hello, world!" (our GET /hello/world! answers the same), access_log off, keep-alive for
# 100,000 requests; CONNECTIONS worker connections and NOFILE open files for its worker.
write_peer_nginx_conf() {
    local dir=$1 port=$2 root=$3 connections=$4 nofile=$5 generator=$6
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# generated by $generator
$nginx_user
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log warn;
events {
    worker_connections $connections;
}
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 65;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
$(nginx_temp_paths "$dir")
    server {
        listen 127.0.0.1:$port backlog=1024;
        location /files/ {
            alias $root/;
        }
        location = /hello {
            default_type text/plain;
            return 200 "Hello, world!";
        }
    }
}
EOF
}
nginx_in() { local d=$1; shift; "$nginx" -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" "$@"; }
# nginx_check DIR: nginx -t of DIR's config; 1 with why (and DIR/nginx-t.txt) if it is refused.
nginx_check() {
    timeout 20 "$nginx" -t -q -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" >"$1/nginx-t.txt" 2>&1 && return 0
    why="nginx rejects $1/nginx.conf: $(tr '\n' ' ' <"$1/nginx-t.txt") $(tail -n 3 "$1/error.log" 2>/dev/null | tr '\n' ' ')"
    return 1
}
# nginx_start DIR: nginx -g 'daemon off' style (the config says daemon off) in its own session;
# sets ngx_pid.
nginx_start() { start_session "$1/stdout.txt" "$nginx" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log"; ngx_pid=$started; }
nginx_version() { "$nginx" -v 2>&1 | sed 's/^nginx version: //'; }

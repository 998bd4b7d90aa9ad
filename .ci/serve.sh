# Helpers for scripts that start a Sluice (or another server) and talk to it; sourced.

# A port no one listens on now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to ten seconds for `$1` to answer, else stops the script.
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null && return; sleep 0.1; done; echo "no answer from $1"; exit 1; }

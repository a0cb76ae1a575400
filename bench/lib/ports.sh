# shellcheck shell=bash
# free_port <port>: the first port from <port> on that nothing listens on (other runs and other
# worktrees' servers share this machine). Sourced by bench/lib/pg.sh and bench/resilience-lib.sh.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

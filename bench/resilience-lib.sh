# Shared by bench/crash and bench/outage (sourced, not run): a fresh database, the fake Graph API
# (which is the fake TikTok Events API too), the release server, and the checks that nothing the
# server acknowledged was lost.
#
# The caller sets NAME (database and directory prefix), PORT, GRAPH_PORT, SERVER_ENV (an array
# of extra VAR=value for the server, may be empty) and optionally GRAPH_DELAY_MS with
# SLOW_PORT (the server then talks to the fake through bench/src/bin/slow_graph.rs, which holds each
# answer back that long), and optionally TIKTOK_PIXEL (the campaign then advertises on TikTok too,
# with that pixel code: every acknowledged conversion must reach both fakes), then calls setup.

# The benchmarks' own PostgreSQL (and free_port); setup starts it, cleanup removes it.
# shellcheck source=bench/lib/pg.sh
source bench/lib/pg.sh
PORT=$(free_port "$PORT"); GRAPH_PORT=$(free_port "$GRAPH_PORT")
[ "$GRAPH_PORT" != "$PORT" ] || GRAPH_PORT=$(free_port $((PORT + 1)))
if [ -n "${GRAPH_DELAY_MS:-}" ]; then
  SLOW_PORT=$(free_port "$SLOW_PORT")
  while [ "$SLOW_PORT" = "$PORT" ] || [ "$SLOW_PORT" = "$GRAPH_PORT" ]; do
    SLOW_PORT=$(free_port $((SLOW_PORT + 1)))
  done
fi
ADMIN=resilience-admin-ea930d2cd9fd8e07f5712f86b8bb580b
KEY=resilience-postback-7199154587d1dc080a8cda2c9588b4c2
# One key for every restart of the server: the tokens it sealed must open again.
SECRETS_KEY=$(openssl rand -hex 32)
DB=capi_${NAME}_$$
OUT=$(mktemp -d "/tmp/capi-$NAME.XXXXXX")
BASE=http://127.0.0.1:$PORT
GRAPH=http://127.0.0.1:$GRAPH_PORT
TIKTOK_PIXEL=${TIKTOK_PIXEL:-}
# The platforms every acknowledged conversion must be delivered to.
PLATFORMS=1; [ -n "$TIKTOK_PIXEL" ] && PLATFORMS=2
BIN=target/release/capi-bridge
FAKE=target/release/fake_graph
LOAD=target/release/crashload
FAILURES=()
SERVER_PID=""; FAKE_PID=""; LOAD_PID=""; SLOW_PID=""
META_URL=$GRAPH

now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
ms_to_s() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }
sql() { PGOPTIONS=--client-min-messages=warning psql "$PG/$DB" -v ON_ERROR_STOP=1 -Atqc "$1"; }
fail() { FAILURES+=("$1"); echo "$NAME: FAIL: $1" >&2; }
# A number from a flat JSON object: field name < json
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }
fake_stat() { curl -sf --max-time 5 "$GRAPH/_stats" | field "$1"; }

# Extra clean-up a script needs (bench/outage restarts PostgreSQL) goes in EXTRA_CLEANUP.
EXTRA_CLEANUP=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$EXTRA_CLEANUP" ] && eval "$EXTRA_CLEANUP"
  for pid in "$LOAD_PID" "$SERVER_PID" "$SLOW_PID" "$FAKE_PID"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  for pid in "$LOAD_PID" "$SERVER_PID" "$SLOW_PID" "$FAKE_PID"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
  done
  [ -n "${PG:-}" ] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  bench_pg_stop
  if [ "$rc" = 0 ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$OUT"
  else
    echo "$NAME: logs and request records kept in $OUT" >&2
  fi
  exit "$rc"
}

setup() {
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  echo "$NAME: building (cargo build --release)" >&2
  cargo build --release --quiet -p capi-bridge -p capi-bridge-bench --bin capi-bridge \
    --bin fake_graph --bin crashload ${GRAPH_DELAY_MS:+--bin slow_graph}
  bench_pg_start >&2
  psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  # The campaign below is on pixel 1234567890; the server's default API version is v26.0.
  FAKE_GRAPH_PATH=/v26.0/1234567890/events FAKE_TIKTOK_PIXEL=$TIKTOK_PIXEL \
    $FAKE "$GRAPH_PORT" > "$OUT/fake.log" 2>&1 & FAKE_PID=$!
  for _ in $(seq 1 100); do curl -sf "$GRAPH/_stats" >/dev/null && break; sleep 0.05; done
  if [ -n "${GRAPH_DELAY_MS:-}" ]; then
    target/release/slow_graph "$SLOW_PORT" "$GRAPH" "$GRAPH_DELAY_MS" \
      > "$OUT/slow_graph.log" 2>&1 & SLOW_PID=$!
    META_URL=http://127.0.0.1:$SLOW_PORT
    sleep 0.3
  fi
  start_server
  wait_healthy 30 || { echo "$NAME: the server did not start; see $OUT/server.log" >&2; exit 1; }
  local tiktok=""
  [ -n "$TIKTOK_PIXEL" ] &&
    tiktok=",\"tiktok\":{\"pixel_code\":\"$TIKTOK_PIXEL\",\"access_token\":\"tt-$NAME-token-0123456789\"}"
  curl -sf -X POST "$BASE/admin/v1/campaigns" -H "Authorization: Bearer $ADMIN" \
    -H 'content-type: application/json' \
    -d "{\"key\":\"$NAME\",\"pixel_id\":\"1234567890\",\"access_token\":\"EAA$NAME-token-0123456789\",\"landing_url\":\"https://lp.example.com/$NAME\"$tiktok}" >/dev/null
}

# Starts the server in the background (its output appended to $OUT/server.log).
start_server() {
  env DATABASE_URL="$PG/$DB${PG_URL_QUERY:-}" ADMIN_TOKEN=$ADMIN POSTBACK_KEY=$KEY SECRETS_KEY="$SECRETS_KEY" LISTEN_ADDR="127.0.0.1:$PORT" \
    META_GRAPH_URL="$META_URL" TIKTOK_API_URL="$META_URL" RUST_LOG="${SERVER_LOG_LEVEL:-warn}" DATABASE_MAX_CONNECTIONS=16 \
    DELIVERY_POLL_INTERVAL=200ms DELIVERY_TIMEOUT=5s "${SERVER_ENV[@]}" \
    "$BIN" serve >> "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
}

# wait_healthy <seconds>: until /healthz answers 200 (false on timeout or if the server died).
wait_healthy() {
  local deadline=$(( $(now_ms) + $1 * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    if curl -sf --max-time 1 "$BASE/healthz" >/dev/null 2>&1; then
      # Still ours (not another process that took the port meanwhile)?
      sleep 0.05; kill -0 "$SERVER_PID" 2>/dev/null && return 0 || return 1
    fi
    sleep 0.02
  done
  return 1
}

pending_events() { sql "SELECT count(*) FROM events WHERE state = 'pending'"; }
unmatched_conversions() { sql "SELECT count(*) FROM conversions WHERE state = 'unmatched'"; }

# wait_drained <timeout s>: until no event is pending and no conversion unmatched. Sets DRAIN_S
# (seconds waited, or "timeout").
wait_drained() {
  local start; start=$(now_ms)
  local deadline=$(( start + $1 * 1000 ))
  DRAIN_S=timeout
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if [ "$(pending_events)" = 0 ] && [ "$(unmatched_conversions)" = 0 ]; then
      DRAIN_S=$(secs_since "$start"); return 0
    fi
    sleep 0.2
  done
  return 1
}

# check_acknowledged <dir>: compares what the load generator was told (dir/clicks.ok,
# dir/postbacks.ok) with the database and the fake: every acknowledged conversion has an event
# sent on each of its campaign's $PLATFORMS platforms, carrying that pixel's eventID (Meta's
# lead-<click id>, TikTok's ttlead-<click id>), and each fake received every id sent to it. Sets
# the C_* variables (C_FAKE_* summed over Meta and TikTok, C_MFAKE_* / C_TFAKE_* each) and LOST.
check_acknowledged() {
  local dir=$1
  sql "DROP TABLE IF EXISTS ok_clicks, ok_postbacks;
       CREATE TABLE ok_clicks (click_id text); CREATE TABLE ok_postbacks (click_id text, txid text, status text)"
  PGOPTIONS=--client-min-messages=warning psql "$PG/$DB" -v ON_ERROR_STOP=1 -q -c "\\copy ok_clicks FROM '$dir/clicks.ok'" \
    -c "\\copy ok_postbacks FROM '$dir/postbacks.ok'"
  local r
  r=$(sql "WITH pb AS (SELECT click_id, txid, bool_or(status = 'accepted') AS accepted,
                              bool_or(status IN ('accepted', 'duplicate')) AS acked_event
                       FROM ok_postbacks GROUP BY 1, 2),
          joined AS (SELECT pb.*, cv.id AS conv,
                            (SELECT count(*) FROM events e
                              WHERE e.conversion_id = cv.id AND e.state = 'sent') AS sent,
                            (SELECT count(*) FROM events e
                              WHERE e.conversion_id = cv.id
                                AND e.event_id <> CASE e.platform WHEN 'tiktok' THEN 'ttlead-'
                                                   ELSE 'lead-' END || cv.click_id) AS wrong_ids
                     FROM pb LEFT JOIN conversions cv
                       ON cv.click_id = pb.click_id AND cv.txid = pb.txid AND cv.status = 'lead')
     SELECT (SELECT count(DISTINCT click_id) FROM ok_clicks),
            (SELECT count(DISTINCT o.click_id) FROM ok_clicks o JOIN clicks c USING (click_id)),
            (SELECT count(*) FROM ok_postbacks),
            (SELECT count(*) FROM pb),
            (SELECT count(*) FROM joined WHERE conv IS NOT NULL),
            (SELECT count(*) FROM joined WHERE accepted),
            (SELECT count(*) FROM joined WHERE accepted AND sent = $PLATFORMS),
            (SELECT count(*) FROM joined WHERE acked_event AND sent < $PLATFORMS),
            (SELECT coalesce(sum(wrong_ids), 0) FROM joined),
            (SELECT count(*) FROM ok_postbacks WHERE status = 'duplicate'),
            (SELECT count(*) FROM ok_postbacks WHERE status NOT IN ('accepted', 'duplicate')),
            (SELECT count(*) FROM events WHERE state = 'sent'),
            (SELECT count(*) FROM events WHERE state <> 'sent'),
            (SELECT count(*) FROM events),
            (SELECT count(*) FROM events WHERE state = 'sent' AND platform = 'meta'),
            (SELECT count(*) FROM events WHERE state = 'sent' AND platform = 'tiktok')" | tr '|' ' ')
  read -r C_CLICKS_ACKED C_CLICKS_STORED C_PB_ANSWERS C_PB_ACKED C_PB_STORED C_ACCEPTED \
    C_ACCEPTED_SENT C_ACKED_NOT_SENT C_WRONG_EVENT_ID C_PB_DUPLICATE_ANSWERS C_PB_OTHER_ANSWERS \
    C_SENT C_NOT_SENT C_EVENTS C_SENT_META C_SENT_TIKTOK <<< "$r"
  local s t
  s=$(curl -sf --max-time 5 "$GRAPH/_stats")
  t=$(curl -sf --max-time 5 "$GRAPH/_stats/tiktok")
  C_MFAKE_UNIQUE=$(echo "$s" | field unique_event_ids)
  C_MFAKE_EVENTS=$(echo "$s" | field events)
  C_MFAKE_DUPS=$(echo "$s" | field duplicates)
  C_MFAKE_CONFLICTS=$(echo "$s" | field conflicting_payloads)
  C_MFAKE_REQUESTS=$(echo "$s" | field requests)
  C_MFAKE_WRONG_PATH=$(echo "$s" | field wrong_path_requests)
  C_TFAKE_UNIQUE=$(echo "$t" | field unique_event_ids)
  C_TFAKE_EVENTS=$(echo "$t" | field events)
  C_TFAKE_DUPS=$(echo "$t" | field duplicates)
  C_TFAKE_CONFLICTS=$(echo "$t" | field conflicting_payloads)
  C_TFAKE_REQUESTS=$(echo "$t" | field requests)
  C_TFAKE_WRONG_PATH=$(echo "$t" | field wrong_path_requests)
  C_FAKE_UNIQUE=$(( C_MFAKE_UNIQUE + C_TFAKE_UNIQUE ))
  C_FAKE_EVENTS=$(( C_MFAKE_EVENTS + C_TFAKE_EVENTS ))
  C_FAKE_DUPS=$(( C_MFAKE_DUPS + C_TFAKE_DUPS ))
  C_FAKE_CONFLICTS=$(( C_MFAKE_CONFLICTS + C_TFAKE_CONFLICTS ))
  C_FAKE_REQUESTS=$(( C_MFAKE_REQUESTS + C_TFAKE_REQUESTS ))
  C_CLICKS_MISSING=$(( C_CLICKS_ACKED - C_CLICKS_STORED ))
  C_PB_MISSING=$(( C_PB_ACKED - C_PB_STORED ))
  C_NOT_AT_FAKE=$(( (C_SENT_META > C_MFAKE_UNIQUE ? C_SENT_META - C_MFAKE_UNIQUE : 0) +
    (C_SENT_TIKTOK > C_TFAKE_UNIQUE ? C_SENT_TIKTOK - C_TFAKE_UNIQUE : 0) ))
  LOST=$(( C_CLICKS_MISSING + C_PB_MISSING + C_ACKED_NOT_SENT + C_NOT_AT_FAKE ))

  [ "$C_CLICKS_MISSING" = 0 ] || fail "$C_CLICKS_MISSING acknowledged clicks are not in the clicks table"
  [ "$C_PB_MISSING" = 0 ] || fail "$C_PB_MISSING acknowledged postbacks are not in the conversions table"
  [ "$C_ACKED_NOT_SENT" = 0 ] ||
    fail "$C_ACKED_NOT_SENT acknowledged conversions do not have an event sent on each of their $PLATFORMS platforms"
  [ "$C_SENT_META" = "$C_MFAKE_UNIQUE" ] ||
    fail "Meta events sent per the database ($C_SENT_META) <> event ids received by the fake Graph API ($C_MFAKE_UNIQUE)"
  [ "$C_SENT_TIKTOK" = "$C_TFAKE_UNIQUE" ] ||
    fail "TikTok events sent per the database ($C_SENT_TIKTOK) <> event ids received by the fake TikTok ($C_TFAKE_UNIQUE)"
  [ "$C_NOT_SENT" = 0 ] || fail "$C_NOT_SENT events are not sent (pending, failed or expired)"
  [ "${C_MFAKE_WRONG_PATH:-missing}" = 0 ] ||
    fail "${C_MFAKE_WRONG_PATH:-?} requests reached the fake Graph API at another path than /v26.0/1234567890/events"
  [ "${C_TFAKE_WRONG_PATH:-missing}" = 0 ] ||
    fail "${C_TFAKE_WRONG_PATH:-?} requests reached the fake TikTok without an Access-Token or for another pixel code than ${TIKTOK_PIXEL:-?}"
  [ "$C_MFAKE_CONFLICTS" = 0 ] || fail "$C_MFAKE_CONFLICTS event ids arrived at the fake Graph API with two different payloads"
  [ "$C_TFAKE_CONFLICTS" = 0 ] || fail "$C_TFAKE_CONFLICTS event ids arrived at the fake TikTok with two different payloads"
  [ "$C_WRONG_EVENT_ID" = 0 ] ||
    fail "$C_WRONG_EVENT_ID events do not carry their pixel's eventID (lead-<click id> / ttlead-<click id>)"
  [ "$C_PB_OTHER_ANSWERS" = 0 ] ||
    fail "$C_PB_OTHER_ANSWERS postbacks for acknowledged clicks answered neither accepted nor duplicate"
  [ "$C_CLICKS_ACKED" -gt 0 ] && [ "$C_ACCEPTED" -gt 0 ] || fail "the load generator got nothing acknowledged"
  if [ "$PLATFORMS" = 2 ]; then
    [ "$C_SENT_TIKTOK" -gt 0 ] || fail "no event was sent to TikTok"
  fi
}

# count_in <json> <key>: a counter from the load generator's summary (0 when absent).
count_in() { local v; v=$(echo "$1" | field "$2"); echo "${v:-0}"; }
# (No match is not an error: callers run under set -e -o pipefail.)
# sum_in <json> <key regex>: the sum of the summary's counters whose key matches (0 when none),
# e.g. sum_in "$SUMMARY" 'postback\.http_4[0-9][0-9]'.
sum_in() { { echo "$1" | grep -oE "\"($2)\":[0-9]+" || true; } | awk -F: '{ s += $NF } END { print s + 0 }'; }
# keys_in <json> <key regex>: those counters, as key=count, space separated.
keys_in() { { echo "$1" | grep -oE "\"($2)\":[0-9]+" || true; } | tr -d '"' | tr ':' '=' | tr '\n' ' '; }

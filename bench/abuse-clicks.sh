# Sourced by bench/abuse (not run): the click-rewrite case of issue 21. A visitor registers a
# click on a campaign that requires consent and refuses it; a stranger who read the click id in
# the lander URL tries to grant consent and add an email, a phone, an external_id, an fbc and
# the pixel's event ids, and probes whether click ids exist. Judged: nothing of the stranger's is
# stored, the conversion stays suppressed, the outbox payload (exactly what Meta gets) of a
# campaign without consent carries none of it, a known and an unknown click id get the same
# answer, the visitor's own token still works, and the same click id registers on another
# campaign.
#
# click_rewrite <base url> <admin token> <postback key> <database url>: one line per check;
# returns 1 when one fails. Needs curl and psql. Its registrations come from 203.0.113.77 (through
# X-Forwarded-For, where the server trusts its proxy), an address of its own, so the other cases'
# use of the click budgets does not touch it.
click_rewrite() {
  local base=$1 admin=$2 key=$3 db=$4 fail=0
  local fbp=fb.1.1596403881668.1116446470
  local evil='"consent":true,"em":"victim@example.com","ph":"+16505551212","external_id":"crm-1","fbc":"fb.1.1596403881668.IwAR_evil","fbclid":"IwAR_evil","event_ids":{"Lead":"evil-lead"}'
  check() {
    if [ "$2" = "$3" ]; then echo "click-rewrite: ok   $1"
    else echo "click-rewrite: FAIL $1: got [$2], want [$3]"; fail=1; fi
  }
  campaign() {
    curl -sf -o /dev/null -X POST "$base/admin/v1/campaigns" -H "Authorization: Bearer $admin" \
      -H 'content-type: application/json' \
      -d "{\"key\":\"$1\",\"pixel_id\":\"1234567890\",\"access_token\":\"EAArewrite-token-0123456789\",\"landing_url\":\"https://lp.example.com/rw\",\"require_consent\":$2}"
  }
  # click <body>: status and answer of a public registration, as `status answer`.
  click() {
    curl -s -w ' %{http_code}' -X POST "$base/v1/clicks" -H 'content-type: text/plain' \
      -H 'X-Forwarded-For: 203.0.113.77' -d "$1" \
      | sed -E 's/^(.*) ([0-9]{3})$/\2 \1/'
  }
  sql() { psql "$db" -Atqc "$1"; }
  lead() { curl -s "$base/v1/postback/keitaro?key=$key&subid=$1&status=lead&campaign=$2"; }

  campaign rw-gated true; campaign rw-open false
  local visitor token
  visitor=$(click "{\"campaign\":\"rw-gated\",\"click_id\":\"rw-1\",\"consent\":false,\"fbp\":\"$fbp\"}")
  token=$(echo "$visitor" | sed -E 's/.*"update_token":"([^"]*)".*/\1/')
  click "{\"campaign\":\"rw-open\",\"click_id\":\"rw-2\",\"fbp\":\"$fbp\"}" >/dev/null

  # The stranger, without the token and with a made-up one.
  local a b
  a=$(click "{\"campaign\":\"rw-gated\",\"click_id\":\"rw-1\",$evil}" | cut -c1-3)
  b=$(click "{\"campaign\":\"rw-gated\",\"click_id\":\"rw-1\",\"update_token\":\"$(printf 'f%.0s' $(seq 32))\",$evil}" | cut -c1-3)
  check "a stranger's rewrite is answered as a new click" "$a $b" "201 201"
  click "{\"campaign\":\"rw-open\",\"click_id\":\"rw-2\",$evil}" >/dev/null
  check "consent stays refused, nothing added" \
    "$(sql "SELECT concat_ws(',', consent, em, ph, external_id, fbc, fbclid, event_ids::text) FROM clicks WHERE click_id = 'rw-1'")" \
    'f,{}'
  case "$(lead rw-1 rw-gated)" in *'"suppressed"'*) a=suppressed ;; *) a=other ;; esac
  check "the gated conversion is suppressed" "$a" suppressed
  lead rw-2 rw-open >/dev/null
  local payload
  payload=$(sql "SELECT e.payload::text FROM events e JOIN conversions c ON c.id = e.conversion_id WHERE c.click_id = 'rw-2'")
  case "$payload" in
    *'"em"'*|*'"ph"'*|*'"external_id"'*|*'"fbc"'*|*evil*|'') a="stranger's data in [$payload]" ;;
    *) a=clean ;;
  esac
  check "what Meta gets carries nothing of the stranger's" "$a" clean

  # Existence probes: the same request for a known and an unknown click id answers the same.
  local known unknown id
  for id in rw-1 rw-none; do
    a=$(click "{\"campaign\":\"rw-gated\",\"click_id\":\"$id\",\"em\":\"bad\",\"event_ids\":{\"Lead\":\"p\"},\"consent\":true}" \
      | sed -e 's/"update_token":"[^"]*"//' -e "s/$id/ID/g")
    if [ "$id" = rw-1 ]; then known=$a; else unknown=$a; fi
  done
  check "a known click id is not told apart from an unknown one" "$known" "$unknown"

  # The visitor's own token, and the same click id on another campaign.
  a=$(click "{\"campaign\":\"rw-gated\",\"click_id\":\"rw-1\",\"update_token\":\"$token\",\"consent\":true}" | cut -c1-3)
  check "the visitor's token grants consent" "$a $(sql "SELECT consent FROM clicks WHERE click_id = 'rw-1' AND campaign_id = (SELECT id FROM campaigns WHERE key = 'rw-gated')")" "200 t"
  a=$(click "{\"campaign\":\"rw-open\",\"click_id\":\"rw-1\"}" | cut -c1-3)
  check "the same click id registers on another campaign" "$a" 201
  return $fail
}

# tests/ctl/cases_report.sh -- sourced by run.sh: authrelayctl report on
# a database filled with known rows (times relative to now), as text,
# JSON and HTML. The HTML is checked to hold the numbers of the database
# (counted here from the base tables, not through the report's SQL), to
# escape attacker-chosen names, and to need nothing outside itself; then
# headless Chromium renders it once and the screenshot is kept as
# $BUILD/artifacts/report.png (on SQLite: the PostgreSQL run checks its
# own report-pgsql.html the same way but does not render it again).

RD=$T/report
mkdir -p "$RD"
db_fresh report/report
RDB=$FRESH_DB
RCONF=$RD/authrelay.conf
db_conf "$RCONF" "$RDB"
db_init "$RCONF"
expect_rc "report: init" 0 || true
# what admin changes shows of that init: subject, the detail's first word
if [ "$PGSQL" = 1 ]; then
	want_init="'init','$PG_OWNER_CONNINFO','PostgreSQL'"
else
	want_init="'init','$RDB','created,'"
fi
now=$(date +%s)
EVIL_USER='<script>alert(1)</script>'
EVIL_SENDER='"><img src=x onerror=alert(1)>@evil.example'
# In the last day: 5 permit/sasl (3 alice, 2 by the evil name), 4
# permit/grant, 2 reject/sender_mismatch, 6 dunno/none, 1
# tempfail/store_error; two days ago: one more permit.
db_sql "$RDB" <<SQL
INSERT INTO decision_log (ts, program, client_ip, sasl_username, sender, recipient, verdict, rule, reason) VALUES
 ($now - 100,  'policyd', '198.51.100.2', 'alice', 'alice@example.org', 'r@example.net', 'permit', 'sasl', ''),
 ($now - 4000, 'policyd', '198.51.100.2', 'alice', 'alice@example.org', 'r@example.net', 'permit', 'sasl', ''),
 ($now - 8000, 'milter',  '198.51.100.2', 'alice', 'alice@example.org', 'r@example.net', 'permit', 'sasl', ''),
 ($now - 200,  'policyd', '198.51.100.2', '$EVIL_USER', '$(printf %s "$EVIL_SENDER" | sed "s/'/''/g")', 'r@example.net', 'permit', 'sasl', ''),
 ($now - 300,  'policyd', '198.51.100.2', '$EVIL_USER', '$(printf %s "$EVIL_SENDER" | sed "s/'/''/g")', 'r@example.net', 'permit', 'sasl', ''),
 ($now - 500,  'policyd', '198.51.100.1', NULL, 'bob@example.org', 'r@example.net', 'permit', 'grant', ''),
 ($now - 600,  'policyd', '198.51.100.1', NULL, 'bob@example.org', 'r@example.net', 'permit', 'grant', ''),
 ($now - 9000, 'policyd', '198.51.100.1', NULL, 'bob@example.org', 'r@example.net', 'permit', 'grant', ''),
 ($now - 9100, 'policyd', '198.51.100.1', NULL, 'bob@example.org', 'r@example.net', 'permit', 'grant', ''),
 ($now - 700,  'policyd', '198.51.100.2', 'alice', 'eve@example.org', 'r@example.net', 'reject', 'sender_mismatch', ''),
 ($now - 800,  'milter',  '198.51.100.2', 'alice', 'eve@example.org', 'r@example.net', 'reject', 'sender_mismatch', ''),
 ($now - 900,  'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 910,  'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 920,  'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 20000, 'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 20010, 'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 20020, 'policyd', '203.0.113.5', NULL, 'm@spam.example', 'r@example.net', 'dunno', 'none', ''),
 ($now - 30000, 'policyd', '198.51.100.7', NULL, 'z@example.org', 'r@example.net', 'tempfail', 'store_error', 'locked'),
 ($now - 2 * 86400, 'policyd', '192.0.2.99', 'alice', 'alice@example.org', 'r@example.net', 'permit', 'sasl', 'old');
INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, expires_at, source, line) VALUES
 ('login', '198.51.100.1', 32, 'bob', 'imap', $now - 1000, $now + 800, '/var/log/dovecot.log', 'l1'),
 ('login', '198.51.100.1', 32, 'bob', 'imap', $now - 10000, $now - 8200, '/var/log/dovecot.log', 'l2'),
 ('login', '198.51.100.3', 32, 'carol', 'imap', $now - 12000, $now - 10200, '/var/log/dovecot.log', 'l3'),
 ('login', '198.51.100.4', 32, 'dan', 'pop3', $now - 15000, $now - 13200, 'journal', 'l4'),
 ('login', '198.51.100.5', 32, 'old', 'pop3', $now - 5 * 43200, $now - 5 * 43200 + 1800, 'journal', 'l5');
SQL
run -c "$RCONF" grant add 192.0.2.10 --user erin
expect_rc "report: grant add" 0 || true

# ---- text: the grand totals and the sections, number by number ----
report_text_case() { # LABEL PYTHON-CHECK [ARGS...]: totals as t, sections as s (title -> lines)
	local label=$1 check=$2
	shift 2
	run -c "$RCONF" report "$@"
	if [ "$rc" != 0 ]; then
		bad "report $label" "exit $rc"
		return
	fi
	if "$PY" - "$T/out" "$check" <<'PYEOF' 2> "$T/pyerr"; then
import re, sys
text = open(sys.argv[1]).read()
t, s, title = {}, {}, None
lines = text.split("\n")
for i, line in enumerate(lines):
    if i + 1 < len(lines) and lines[i + 1] and set(lines[i + 1]) == {"-"} and len(lines[i + 1]) == len(line):
        title = line
        s[title] = []
        continue
    if title is None or not line or set(line) == {"-"}:
        continue
    m = re.match(r"^ *(\d+)  (.*)$", line)
    if title == "Grand totals" and m:
        t[m.group(2)] = int(m.group(1))
    elif title != "Grand totals":
        s[title].append(line.split())
exec(sys.argv[2])
PYEOF
		ok "report $label"
	else
		bad "report $label" "$(tail -1 "$T/pyerr")"
	fi
}
want_totals="{'decisions (one per recipient)': 18, 'relayed': 9, 'rejected': 2, 'temporary failures (store errors, sending limits)': 1, 'no opinion (Postfix refused the relay unless the recipient was local)': 6, 'client addresses': 4, 'SASL users': 2, 'grants made (logins and manual)': 5}"
report_text_case "(text, last day): grand totals" \
	"want=$want_totals; assert t == want, 'got %r, want %r' % (t, want)"
report_text_case "(text): relayed and refused by rule" \
	"got=(s['Relayed by rule'], s['Refused by rule']); want=([['rule','relayed'],['sasl','5'],['grant','4']], [['verdict','rule','refused'],['dunno','none','6'],['reject','sender_mismatch','2'],['tempfail','store_error','1']]); assert got == want, 'got %r, want %r' % got"
report_text_case "(text): top refused clients" \
	"got=[r[:5] for r in s['Top refused clients'][1:]]; want=[['203.0.113.5','6','0','0','6'],['198.51.100.2','2','2','0','0'],['198.51.100.7','1','0','1','0']]; assert got == want, 'got %r, want %r' % (got, want)"
report_text_case "(text): top senders and users" \
	"got=(s['Top senders (relayed)'][1:], s['Top SASL users'][1:]); want=([['bob@example.org','4'],['alice@example.org','3'],['\"><img','src=x','onerror=alert(1)>@evil.example','2']], [['alice','5','3','2'],['<script>alert(1)</script>','2','2','0']]); assert got == want, 'got %r, want %r' % (got, want)"
report_text_case "(text): grants by source, limits none, admin changes" \
	"got=([r[:4] for r in s['Grants and their sources'][1:]], s['Sending-limit refusals (rule rate_limit)'], [r[2:5] for r in s['Admin changes'][1:]]); want=([['login','/var/log/dovecot.log','imap','3'],['login','journal','pop3','1'],['manual','$(id -un)','manual','1']], [['none']], [[$want_init],['grant','add','192.0.2.10']]); assert got == want, 'got %r, want %r' % (got, want)"
report_text_case "--since 3d: the older decision and grant count too" \
	"assert (t['decisions (one per recipient)'], t['relayed'], t['grants made (logins and manual)']) == (19, 10, 6), 'got %r, want 19 decisions, 10 relayed, 6 grants' % t" \
	--since 3d

# ---- JSON: the same numbers, parsed ----
run -c "$RCONF" --json report
if [ "$rc" = 0 ] && "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = (d["totals"], [(r["client_ip"], r["refused"]) for r in d["top-refused-clients"]], d["limit-breaches"])
want = ({"decisions": 18, "relayed": 9, "rejected": 2, "tempfailed": 1, "no_opinion": 6, "clients": 4, "users": 2, "grants": 5},
        [("203.0.113.5", 6), ("198.51.100.2", 2), ("198.51.100.7", 1)], [])
assert got == want, "got %r, want %r" % (got, want)
assert sum(r["decisions"] for r in d["decisions-per-hour"]) == 18
' "$T/out" 2> "$T/pyerr"; then
	ok "report --json: totals, top refused, no limit breaches, per-hour sums to 18"
else
	bad "report --json" "rc=$rc $(tail -1 "$T/pyerr")"
fi

# ---- sending limits: rate_limit rows appear in their section ----
db_sql "$RDB" "INSERT INTO decision_log (ts, program, client_ip, sasl_username, sender, recipient, verdict, rule, reason) VALUES
 ($now - 50, 'policyd', '198.51.100.2', 'alice', 'alice@example.org', 'r@example.net', 'tempfail', 'rate_limit', 'over 100/1h'),
 ($now - 40, 'milter', '198.51.100.2', 'alice', 'alice@example.org', 'r@example.net', 'tempfail', 'rate_limit', 'over 100/1h')"
report_text_case "(text): two rate_limit refusals for alice" \
	"got=([r[:2] for r in s['Sending-limit refusals (rule rate_limit)'][1:]], t['temporary failures (store errors, sending limits)']); want=([['alice','2']], 3); assert got == want, 'got %r, want %r' % (got, want)"

# ---- HTML: the numbers of the database, escaped, self-contained ----
mkdir -p "$BUILD/artifacts"
HTML=$BUILD/artifacts/report$([ "$PGSQL" = 1 ] && echo -pgsql).html
run -c "$RCONF" report --html "$HTML"
if [ "$rc" != 0 ] || [ -s "$T/out" ] || [ ! -s "$HTML" ] || [ -e "$HTML.tmp" ]; then
	bad "report --html" "rc=$rc, stdout $(wc -c < "$T/out") bytes, file $(wc -c < "$HTML" 2>/dev/null) bytes"
else
	ok "report --html FILE: exit 0, nothing on stdout, the file written, no FILE.tmp left"
fi
# The wanted numbers are counted from the base tables here, not with the report's SQL.
since=$((now - 86400))
cat > "$RD/want.json" <<EOF
{"decisions": $(db_sql "$RDB" "select count(*) from decision_log where ts >= $since"),
 "relayed": $(db_sql "$RDB" "select count(*) from decision_log where ts >= $since and verdict='permit'"),
 "rejected": $(db_sql "$RDB" "select count(*) from decision_log where ts >= $since and verdict='reject'"),
 "tempfailed": $(db_sql "$RDB" "select count(*) from decision_log where ts >= $since and verdict='tempfail'"),
 "no_opinion": $(db_sql "$RDB" "select count(*) from decision_log where ts >= $since and verdict='dunno'"),
 "grants": $(db_sql "$RDB" "select count(*) from grant_log where login_time >= $since and event in ('login','manual')"),
 "refused": $(sql_json "select client_ip, count(*) as n from decision_log where ts >= $since and verdict in ('reject','tempfail','dunno') group by client_ip order by n desc, client_ip" "$RDB")}
EOF
if "$PY" - "$HTML" "$RD/want.json" "$EVIL_USER" "$EVIL_SENDER" <<'PYEOF' 2> "$T/pyerr"; then
import html.parser, json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
want = json.load(open(sys.argv[2]))
evil_user, evil_sender = sys.argv[3], sys.argv[4]

class Reader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.totals, self.tables, self.svgs = {}, {}, []
        self.total_id, self.table, self.row, self.text = None, None, None, None
        self.tags, self.attr_names, self.style = set(), set(), ""
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attr_names.update(a)
        if tag == "div" and a.get("id", "").startswith("total-"):
            self.total_id = a["id"][6:]
        if tag == "span" and a.get("class") == "n" and self.total_id:
            self.text = ""
        if tag == "table":
            self.table = self.tables.setdefault(a.get("id"), [])
        if tag == "tr" and self.table is not None:
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.text = ""
        if tag == "svg":
            self.svgs.append([])
        if tag == "title" and self.svgs:
            self.text = ""
    def handle_data(self, data):
        if self.lasttag == "style":
            self.style += data
        if self.text is not None:
            self.text += data
    def handle_endtag(self, tag):
        if tag == "span" and self.total_id and self.text is not None:
            self.totals[self.total_id] = int(self.text)
            self.total_id, self.text = None, None
        elif tag in ("td", "th") and self.row is not None:
            self.row.append(self.text)
            self.text = None
        elif tag == "tr" and self.row is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "title" and self.svgs and self.text is not None:
            self.svgs[-1].append(self.text)
            self.text = None

r = Reader()
r.feed(page)
for k in ("decisions", "relayed", "rejected", "tempfailed", "no_opinion", "grants"):
    assert r.totals.get(k) == want[k], "total-%s got %r, want %r" % (k, r.totals.get(k), want[k])
top = [(row[0], int(row[1])) for row in r.tables["top-refused-clients"][1:]]
wtop = [(x["client_ip"], x["n"]) for x in want["refused"]]
assert top == wtop, "top-refused-clients got %r, want %r" % (top, wtop)
# The charts: every decision and grant of the window is one bar segment's count.
assert len(r.svgs) == 2, "got %d svg charts, want 2" % len(r.svgs)
per = {}
for title in r.svgs[0]:
    m = re.match(r"^.* (\w+): (\d+)$", title)
    per[m.group(1)] = per.get(m.group(1), 0) + int(m.group(2))
wper = {"permit": want["relayed"], "reject": want["rejected"], "tempfail": want["tempfailed"], "dunno": want["no_opinion"]}
assert per == wper, "decisions chart got %r, want %r" % (per, wper)
g = sum(int(t.rsplit(": ", 1)[1]) for t in r.svgs[1])
assert g == want["grants"], "grants chart got %d, want %d" % (g, want["grants"])
# Attacker-chosen text is shown as text, never as markup.
users = [row[0] for row in r.tables["top-users"][1:]]
assert evil_user in users, "top-users got %r, want %r among them" % (users, evil_user)
senders = [row[0] for row in r.tables["top-senders"][1:]]
assert evil_sender in senders, "top-senders got %r" % senders
assert "<script" not in page.lower() and "<img" not in page.lower(), "unescaped markup from the database"
# Nothing outside the file: no element that loads or runs anything, no
# attribute naming a resource, no URL in the style sheet.
loaders = r.tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject"}
assert not loaders, "elements that load or run: %r" % loaders
refs = {a for a in r.attr_names if a in ("src", "href", "xlink:href", "srcset") or a.startswith("on")}
assert not refs, "attributes that load or run: %r" % refs
assert "url(" not in r.style and "@import" not in r.style, "the style sheet fetches"
PYEOF
	ok "report --html holds the database's numbers (totals, top refused, both charts), escapes names, needs nothing outside"
else
	bad "report --html contents" "$(tail -1 "$T/pyerr")"
fi

# ---- headless Chromium: one render, the screenshot kept ----
CHROMIUM=$(command -v chromium || true)
PNG=$BUILD/artifacts/report.png
if [ "$PGSQL" = 1 ]; then
	skip "report --html in headless Chromium" "rendered in the SQLite run (the same HTML code); the contents were checked above"
elif [ -z "$CHROMIUM" ]; then
	bad "report --html in Chromium" "chromium is not installed (make deps)"
else
	rm -f "$PNG"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$RD/chromium" --screenshot="$PNG" --window-size=1200,1600 \
		"file://$HTML" > "$RD/chromium.log" 2>&1
	# permit green, reject red and grants blue must be drawn, and plenty of each.
	got=$("$PY" "$(dirname "$0")/png_colours.py" "$PNG" 2e7d32 c62828 1565c0 2>&1)
	if [ "$got" != "${got#1200 1600 }" ] && echo "$got" | awk '{exit !($3 > 2000 && $4 > 500 && $5 > 2000)}'; then
		ok "report --html in headless Chromium: $PNG, 1200x1600, the charts drawn (pixels green/red/blue: ${got#1200 1600 })"
	else
		bad "report --html in Chromium" "got '$got', want '1200 1600' and >2000 green, >500 red, >2000 blue pixels; $(tail -3 "$RD/chromium.log")"
	fi
fi

usage_case "report --since 0" -c "$RCONF" report --since 0
usage_case "report --since bad" -c "$RCONF" report --since soon
usage_case "report --html and --json" -c "$RCONF" --json report --html "$RD/x.html"

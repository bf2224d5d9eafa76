# s90-audit: the decisions view holds every decision the suite caused, each
# with the program, verdict and rule that decided, and nothing else for
# those recipients; rows carry client, user and ISO-8601 UTC times.

if need "audit: the decisions view" authrelayctl; then
	# rows are written in batches by each daemon's writer thread
	want_total=0
	for w in "${AUDIT_WANT[@]}"; do
		rows=${w#*|}
		[ -n "$rows" ] && want_total=$((want_total + $(echo "$rows" | tr ';' '\n' | wc -l)))
	done
	# the rows of one message: its recipient's, and the end-of-message
	# row (recipient '') with the queue id Postfix logged for it
	declare -A QID=()
	for w in "${AUDIT_WANT[@]}"; do
		QID[${w%%|*}]=$(pf_queue_id "${w%%|*}")
	done
	msg_rows() {
		local qid=${QID[$1]}
		sql "select program||' '||verdict||' '||rule from decisions
			where recipient='$1' or (recipient='' and '$qid'<>'' and queue_id='$qid')" |
			sort | paste -sd';'
	}
	# all of them in one query, polled until the daemons' batch writers
	# have written every row the suite expects (or 10 s)
	rcpts=$(for r in "${!QID[@]}"; do printf "'%s'," "$r"; done)
	qids=$(for r in "${!QID[@]}"; do [ -n "${QID[$r]}" ] && printf "'%s'," "${QID[$r]}"; done)
	audit_total() {
		sql "select count(*) from decisions where recipient in (${rcpts%,})
			or (recipient='' and queue_id in (${qids%,}))"
	}
	audit_settled() { [ "$(audit_total)" -ge "$want_total" ]; }
	wait_for 10 audit_settled
	check_eq "audit: decision rows for the suite's messages" "$(audit_total)" "$want_total"
	for w in "${AUDIT_WANT[@]}"; do
		rcpt=${w%%|*}
		want=$(echo "${w#*|}" | tr ';' '\n' | sed '/^$/d' | sort | paste -sd';')
		check_eq "audit: $rcpt" "$(msg_rows "$rcpt")" "$want"
	done
	if [ "$HAVE_POLICYD" = 1 ]; then
		check_eq "audit: client_ip and sasl_username of an IPv6 SASL relay" \
			"$(sql "select client_ip||' '||sasl_username||' '||sender from decisions where recipient='r20-v6@example.org' and program='policyd'")" \
			"::1 alice@lab.test alice@lab.test"
	fi
	check_match "audit: ts is ISO-8601 UTC text" \
		"$(sql "select ts from decisions order by ts desc limit 1")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?$'
	if printf '%s\n' "${AUDIT_WANT[@]}" | grep -q 'reject suspended'; then
		check_match "audit: authrelayctl audit --user dave@lab.test shows the refusal" \
			"$(lab_ctl audit --user dave@lab.test 2>&1 | grep -c ' reject  *suspended ')" '^[1-9]'
	fi
fi

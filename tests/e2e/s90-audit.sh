# s90-audit: the decisions view holds every decision the suite caused, each
# with the program, verdict and rule that decided, and nothing else for
# those recipients; rows carry client, user and ISO-8601 UTC times.

if need "audit: the decisions view" authrelayctl authrelay-policyd; then
	# rows are written in batches by each daemon's writer thread
	want_total=0
	for w in "${AUDIT_WANT[@]}"; do
		rows=${w#*|}
		[ -n "$rows" ] && want_total=$((want_total + $(echo "$rows" | tr ';' '\n' | wc -l)))
	done
	in_list=$(for w in "${AUDIT_WANT[@]}"; do printf "'%s'," "${w%%|*}"; done)
	in_list="(${in_list%,})"
	audit_total() { sql "select count(*) from decisions where recipient in $in_list"; }
	audit_settled() { [ "$(audit_total)" -ge "$want_total" ]; }
	wait_for 10 audit_settled
	check_eq "audit: decision rows for the suite's recipients" "$(audit_total)" "$want_total"
	for w in "${AUDIT_WANT[@]}"; do
		rcpt=${w%%|*}
		want=$(echo "${w#*|}" | tr ';' '\n' | sed '/^$/d' | sort | paste -sd';')
		got=$(sql "select program||' '||verdict||' '||rule from decisions where recipient='$rcpt'" |
			sort | paste -sd';')
		check_eq "audit: $rcpt" "$got" "$want"
	done
	check_eq "audit: client_ip and sasl_username of an IPv6 SASL relay" \
		"$(sql "select client_ip||' '||sasl_username||' '||sender from decisions where recipient='r20-v6@example.org' and program='policyd'")" \
		"::1 alice@lab.test alice@lab.test"
	check_match "audit: ts is ISO-8601 UTC text" \
		"$(sql "select ts from decisions order by ts desc limit 1")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?$'
	check_match "audit: authrelayctl audit --user shows the suspended user's refusal" \
		"$(lab_ctl audit --user dave@lab.test 2>&1)" 'suspended'
fi

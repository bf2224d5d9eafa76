# s02-data: the admin's rules, set with authrelayctl as an admin would:
# each SASL user owns their own address; dave is suspended.

if need "data: sender rights and a suspended user (authrelayctl)" authrelayctl; then
	out=""
	for u in alice bob mallory dave; do
		out="$out$(lab_ctl sender allow "$u@lab.test" "$u@lab.test" 2>&1; echo " rc=$?")"
	done
	out="$out$(lab_ctl user suspend dave@lab.test 2>&1; echo " rc=$?")"
	check_eq "data: authrelayctl sender allow x4, user suspend" \
		"$(printf '%s' "$out" | grep -o 'rc=[0-9]*' | tr '\n' ' ')" "rc=0 rc=0 rc=0 rc=0 rc=0 "
	check_eq "data: authrelayctl init handed the database to run_user" \
		"$(stat -c '%U %a' "$DB")" "$RUN_USER 640"
	check_eq "data: admin_log holds the five changes" \
		"$(sql "select count(*) from admin_log where action like '%sender%' or action like '%suspend%'")" 5
fi

if need "data: authrelayctl check of the lab's wiring" authrelayctl; then
	out=$(lab_ctl check --postfix-config "$PFC" 2>&1; echo "rc=$?")
	check_match "data: authrelayctl check: config, database and Postfix wiring" "$out" 'rc=0$'
	check_match "data: ... sees check_policy_service before reject_unauth_destination" "$out" \
		"ok: postfix: smtpd_relay_restrictions asks check_policy_service inet:127\.0\.0\.1:$P_POLICYD before reject_unauth_destination"
	if [ "$HAVE_MILTER" = 1 ]; then
		check_eq "data: ... and no warnings (milter wired too)" "$(echo "$out" | grep '^warning' | head -3)" ""
	fi
fi

# s15-data: the admin's rules, set with authrelayctl as an admin would:
# each SASL user owns their own address; dave is suspended.

if need "data: sender rights and a suspended user (authrelayctl)" authrelayctl; then
	out=""
	for u in alice bob mallory dave; do
		out="$out$(lab_ctl sender allow "$u@lab.test" "$u@lab.test" 2>&1; echo " rc=$?")"
	done
	out="$out$(lab_ctl user suspend dave@lab.test 2>&1; echo " rc=$?")"
	check_eq "data: authrelayctl sender allow x4, user suspend" \
		"$(printf '%s' "$out" | grep -o 'rc=[0-9]*' | tr '\n' ' ')" "rc=0 rc=0 rc=0 rc=0 rc=0 "
	check_eq "data: admin_log holds the five changes" \
		"$(sql "select count(*) from admin_log where action like '%sender%' or action like '%suspend%'")" 5
fi

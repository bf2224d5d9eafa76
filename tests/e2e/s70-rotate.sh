# s70-rotate: the logrotate example (conf-examples/logrotate/) rotates the
# login log under a running loginwatch: a login written just before the
# rotation (read from the renamed file) and one just after (the new file,
# once Dovecot reopened it) both become grants; a second rotation
# (delaycompress: .1 -> .2.gz) re-reads nothing.

history_count() { sql "select count(*) from grant_history where ip='$1' and event='login'"; }
has_grant() { [ -n "$(sql "select 1 from active_grants where ip='$1'")" ]; }
pop3_login() { curl -s --max-time 10 --interface "$1" "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null; }

# rotate_conf: the example's stanza for the login log, with the lab's
# paths, group and doveadm.
rotate_conf() {
	local name
	name=$(basename "$LOGIN_LOG")
	awk -v name="$name" '
		/^[^ \t#].*\{/ { n = split($1, p, "/"); on = (p[n] == name) }
		on { print }
		on && /^}/ { on = 0 }' "$CONF_EXAMPLES/logrotate/authrelay-loginwatch" |
		sed -e "1s|^[^ \t{]*|$LOGIN_LOG|" -e "s/\(create [0-7]* root\) authrelay/\1 $RUN_GROUP/" \
			-e "s|doveadm log reopen|doveadm -c $LAB/dovecot/dovecot.conf log reopen|"
}

if ! command -v logrotate >/dev/null && [ ! -x /usr/sbin/logrotate ]; then
	check_skip "rotate: logrotate example" "logrotate not installed (make deps)"
elif need "rotate: logrotate example under a running loginwatch" authrelay-loginwatch authrelayctl; then
	rotate_conf >"$LAB/etc/logrotate.conf"
	check_match "rotate: the example has a stanza for $(basename "$LOGIN_LOG")" \
		"$(head -1 "$LAB/etc/logrotate.conf")" "^${LOGIN_LOG//./\\.} \{"
	pop3_login 127.0.0.7
	out=$(/usr/sbin/logrotate -f -s "$LAB/logrotate.state" "$LAB/etc/logrotate.conf" 2>&1; echo "rc=$?")
	check_match "rotate: logrotate -f with the example" "$out" '^rc=0$'
	pop3_login 127.0.0.6
	wait_for 5 has_grant 127.0.0.7
	check_le "rotate: login just before the rotation is a grant (seconds)" "$WAITED" 3
	wait_for 5 has_grant 127.0.0.6
	check_le "rotate: login just after the rotation is a grant (seconds)" "$WAITED" 3
	check_match "rotate: the new file as the example creates it" \
		"$(stat -c '%a %U %G' "$LOGIN_LOG")" "^640 root $RUN_GROUP\$"
	out=$(/usr/sbin/logrotate -f -s "$LAB/logrotate.state" "$LAB/etc/logrotate.conf" 2>&1; echo "rc=$?")
	check_match "rotate: second rotation (delaycompress)" "$out$(ls "$LOGIN_LOG".2.gz 2>&1)" "^rc=0${LOGIN_LOG//./\\.}\.2\.gz\$"
	pop3_login 127.0.0.8
	wait_for 5 has_grant 127.0.0.8
	check_le "rotate: login after the second rotation is a grant (seconds)" "$WAITED" 3
	check_eq "rotate: each login recorded once (127.0.0.7 .6 .8)" \
		"$(history_count 127.0.0.7) $(history_count 127.0.0.6) $(history_count 127.0.0.8)" "1 1 1"
fi

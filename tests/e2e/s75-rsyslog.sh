# s75-rsyslog: the rsyslog example (conf-examples/rsyslog/, rule A: a file
# of login lines) in a private rsyslogd that listens on a socket of the
# lab's own (never /dev/log), with a second loginwatch following that file.
# Dovecot in the lab logs to its own file, so the syslog lines are sent
# with logger(1) exactly as Dovecot's syslog output reads; a line from
# another program name must not pass the rule.

# rsyslog_rules: rule A of the example with the lab's paths and group.
rsyslog_rules() {
	awk '/^# --- A:/ { on = 1 } /^# --- B:/ { on = 0 } on' "$CONF_EXAMPLES/rsyslog/authrelay-loginwatch.conf" |
		sed -e "s|/var/log/authrelay-logins.log|$LAB/log/authrelay-logins.log|g" \
			-e "s|fileGroup=\"authrelay\"|fileGroup=\"$RUN_GROUP\"|"
}
has_grant() { [ -n "$(sql "select 1 from active_grants where ip='$1'")" ]; }

if ! command -v rsyslogd >/dev/null && [ ! -x /usr/sbin/rsyslogd ]; then
	check_skip "rsyslog: the rsyslog example" "rsyslog not installed"
elif need "rsyslog: the rsyslog example feeding loginwatch" authrelay-loginwatch authrelayctl; then
	mkdir -p "$LAB/rsyslog"
	RSYSLOG_SOCK=$LAB/rsyslog/log.sock
	{
		printf 'global(workDirectory="%s")\n' "$LAB/rsyslog"
		printf 'module(load="imuxsock" SysSock.Use="off")\n'
		printf 'input(type="imuxsock" Socket="%s")\n' "$RSYSLOG_SOCK"
		printf '# ---- conf-examples/rsyslog/authrelay-loginwatch.conf, rule A ----\n'
		rsyslog_rules
	} >"$LAB/rsyslog/rsyslog.conf"
	out=$(/usr/sbin/rsyslogd -N1 -f "$LAB/rsyslog/rsyslog.conf" 2>&1; echo "rc=$?")
	check_match "rsyslog: rsyslogd -N1 accepts the rendered example" "$out" 'rc=0$'
	lab_daemon rsyslogd "$LAB/log/rsyslogd.out" /usr/sbin/rsyslogd -n -f "$LAB/rsyslog/rsyslog.conf" \
		-i "$LAB/rsyslog/rsyslogd.pid"
	lab_wait_unix "$RSYSLOG_SOCK" "$(lab_pid rsyslogd)" rsyslogd
	# the file must exist before loginwatch (as run_user) can follow it
	: >"$LAB/log/authrelay-logins.log"
	chown "root:$RUN_GROUP" "$LAB/log/authrelay-logins.log"
	chmod 0640 "$LAB/log/authrelay-logins.log"
	render_conf syslog "loginwatch_sources=$LAB/log/authrelay-logins.log" >/dev/null
	lab_daemon loginwatch-syslog "$LAB/log/loginwatch-syslog.log" "$BIN_LOGINWATCH" -f -c "$LAB/etc/syslog.conf"

	line="pop3-login: Login: user=<bob>, method=PLAIN, rip=127.0.0.20, lip=127.0.0.1, mpid=4242, session=<e2eSyslog20>"
	logger -u "$RSYSLOG_SOCK" -t dovecot "$line"
	logger -u "$RSYSLOG_SOCK" -t dovecot-evil "${line//127.0.0.20/127.0.0.21}"
	logger -u "$RSYSLOG_SOCK" -t dovecot "pop3-login: Disconnected (auth failed, 1 attempts in 0 secs): user=<bob>, method=PLAIN, rip=127.0.0.22, lip=127.0.0.1, session=<e2eSyslog22>"
	wait_for 5 has_grant 127.0.0.20
	check_le "rsyslog: a Dovecot login through rsyslog is a grant (seconds)" "$WAITED" 3
	check_match "rsyslog: the file line is in RSYSLOG_FileFormat (RFC 3339)" \
		"$(grep -m1 '127\.0\.0\.20' "$LAB/log/authrelay-logins.log")" \
		'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[-+][0-9:]{5} [^ ]+ dovecot(\[[0-9]+\])?: pop3-login: Login: user=<bob>'
	check_eq "rsyslog: other program names and failed logins do not pass the rule" \
		"$(grep -c '127\.0\.0\.2[12]' "$LAB/log/authrelay-logins.log")" 0
	check_eq "rsyslog: ... and grant nothing" \
		"$(sql "select count(*) from grant_history where ip in ('127.0.0.21', '127.0.0.22')")" 0
	lab_kill loginwatch-syslog
	lab_kill rsyslogd
fi

# s05-conf: the conf-examples are valid as shipped: the systemd units pass
# `systemd-analyze verify` (ExecStart pointed at the built programs), the
# Postfix snippets are what the lab's Postfix runs with, and every program
# accepts the rendered authrelay.conf in check mode (-n).

if ! command -v systemd-analyze >/dev/null; then
	check_skip "conf: systemd units" "systemd-analyze not installed"
else
	mkdir -p "$LAB/systemd"
	for unit in "$CONF_EXAMPLES"/systemd/authrelay-*.service; do
		name=$(basename "$unit" .service)
		bin=$LAB_SBIN/$name
		[ -x "$bin" ] || bin=/bin/true	# the program has not landed yet
		sed -e "s|/usr/local/sbin/$name|$bin|g" -e "s|/etc/authrelay/authrelay.conf|$LAB/etc/main.conf|g" \
			"$unit" >"$LAB/systemd/$name.service"
		# --man=no: the manual pages are installed by make install only
		out=$(systemd-analyze verify --man=no "$LAB/systemd/$name.service" 2>&1; echo "rc=$?")
		check_eq "conf: systemd-analyze verify $name.service" "$out" "rc=0"
		for key in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
			RestrictAddressFamilies= ReadWritePaths=/var/lib/authrelay; do
			grep -q "^$key" "$unit" || check_bad "conf: $name.service hardening" "no $key" "$key"
		done
	done
fi

if [ -f "$SRC/lib/cfg.c" ] || [ -f "$CONF_EXAMPLES/authrelay.conf" ]; then
	check_eq "conf: conf-examples/authrelay.conf exists (the lab's template)" \
		"$([ -f "$CONF_EXAMPLES/authrelay.conf" ] && echo yes)" yes
else
	check_skip "conf: conf-examples/authrelay.conf" "lib/cfg.c not in this tree yet"
fi

check_match "conf: Postfix runs main.cf.policyd (postconf smtpd_relay_restrictions)" \
	"$(postconf -c "$PFC" -h smtpd_relay_restrictions)" \
	"^permit_mynetworks, check_policy_service \{ inet:127\.0\.0\.1:$P_POLICYD, default_action=DUNNO \}, reject_unauth_destination$"
check_match "conf: Postfix runs master.cf.policyd-spawn (postconf -M)" \
	"$(postconf -c "$PFC" -M authrelay-policy/unix 2>&1)" "spawn user=$RUN_USER argv=$BIN_POLICYD -S"

for prog in authrelay-policyd authrelay-milter authrelay-loginwatch; do
	if need "conf: $prog -n accepts the rendered authrelay.conf" "$prog"; then
		for c in main unix tlsreq; do
			out=$("$LAB_SBIN/$prog" -n -c "$LAB/etc/$c.conf" 2>&1; echo "rc=$?")
			check_match "conf: $prog -n -c $c.conf" "$out" 'rc=0$'
		done
	fi
done

# The units run each daemon as Type=forking with PIDFile=: started without
# -f, it must detach, write its pidfile, and keep running under that PID.
# (A database of its own, so that this loginwatch's reading does not count
# the lab's logins twice.)
if need "conf: daemon mode as the units run it" authrelayctl; then
	lab_port P_DAEMON_POLICYD
	lab_port P_DAEMON_MILTER
	mkdir -p "$LAB/db-daemon"
	chown "$RUN_USER:$RUN_GROUP" "$LAB/db-daemon"
	render_conf daemon "database=$LAB/db-daemon/authrelay.db" \
		"policyd_listen=inet:127.0.0.1:$P_DAEMON_POLICYD" "milter_socket=inet:127.0.0.1:$P_DAEMON_MILTER" >/dev/null
	"$BIN_CTL" -c "$LAB/etc/daemon.conf" init >/dev/null 2>&1
	for prog in authrelay-policyd authrelay-milter authrelay-loginwatch; do
		have_prog "$prog" || continue
		short=${prog#authrelay-}
		pidfile=$(sed -n "s/^${short}_pidfile = //p" "$LAB/etc/daemon.conf" | tail -1)
		out=$(timeout 20 "$LAB_SBIN/$prog" -c "$LAB/etc/daemon.conf" 2>&1; echo "rc=$?")
		wait_for 10 test -s "$pidfile"
		pid=$(tr -dc 0-9 <"$pidfile" 2>/dev/null)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			lab_record "$short-daemon" "$pid"
			check_eq "conf: $prog without -f: forks, exits 0, pidfile names a live process" \
				"$(echo "$out" | tail -1) $(ps -o user= -p "$pid")" "rc=0 $RUN_USER"
			lab_kill "$short-daemon"
			check_eq "conf: ... and stops on SIGTERM" "$(kill -0 "$pid" 2>/dev/null && echo running)" ""
		else
			check_bad "conf: $prog without -f: forks, writes its pidfile" "$out pidfile=$(cat "$pidfile" 2>&1)" "a live PID in $pidfile"
		fi
	done
fi

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
		bin=$BUILD/$name
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
			out=$("$BUILD/$prog" -n -c "$LAB/etc/$c.conf" 2>&1; echo "rc=$?")
			check_match "conf: $prog -n -c $c.conf" "$out" 'rc=0$'
		done
	fi
done

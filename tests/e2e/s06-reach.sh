# s06-reach: the preflight (lab-reach.sh) that lab_start runs before it
# starts anything. On the lab as rendered: every path handed to another
# user is reachable by that user, lies in the lab directory (never in the
# checkout, which may sit under a 0700 directory), and the rows read back
# from the files do cover the spawned policyd, its config, the database,
# the unix sockets and the login log (a reader that found nothing would
# pass anything). Then a table of files that hand over an unreachable
# path: the preflight must name each one.

rows=$(reach_rows_lab | sort -u)
check_eq "reach: the preflight finds every path of the rendered files reachable" \
	"$(printf '%s\n' "$rows" | reach_report)" ""
check_eq "reach: every path handed to another user lies in the lab directory" \
	"$(printf '%s\n' "$rows" | awk -v lab="$LAB/" 'index($3, lab) != 1' | paste -sd';')" ""
missing=""
for want in "$RUN_USER x $BIN_POLICYD" "$RUN_USER r $LAB/etc/spawn.conf" "$RUN_USER wx $LAB/db" \
	"$RUN_USER rw $DB" "$RUN_USER r $LAB/etc/main.conf" "$RUN_USER wx $SPOOL/authrelay" \
	"postfix s $SPOOL/authrelay" "$RUN_USER s ${LOGIN_LOG%/*}"; do
	printf '%s\n' "$rows" | grep -qxF "$want" || missing="${missing}[$want]"
done
check_eq "reach: the rows read back cover master.cf's spawn, configs, database, sockets, login log" \
	"$missing" ""

# The cases: files in $X, which is reachable, with one thing in each that
# is not (a program under a 0700 directory, as in a checkout under /root).
X=$LAB/reach
mkdir -p "$X/home/p/build" "$X/rootdb" "$X/sock" "$X/logs" "$X/ok/db"
chmod 0700 "$X/home" "$X/sock" "$X/logs"
chown "$RUN_USER" "$X/ok/db"
install -m 0755 /bin/true "$X/home/p/build/authrelay-policyd"
install -m 0644 /dev/null "$X/logs/dovecot-info.log"
# reach_conf NAME KEY=VALUE...: a small authrelay.conf $X/NAME.conf
reach_conf() {
	local kv
	{
		printf 'run_user = %s\ndatabase = %s\n' "$RUN_USER" "$X/ok/db/authrelay.db"
		for kv in "${@:2}"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$X/$1.conf"
}
reach_conf ok "loginwatch_sources=$LOGIN_LOG, -" "policyd_listen=unix:$SPOOL/authrelay/x.sock"
reach_conf rootdb "database=$X/rootdb/authrelay.db"
reach_conf secret
chmod 0600 "$X/secret.conf"
reach_conf log "loginwatch_sources=journal $X/logs/dovecot-info.log"
reach_conf sock "milter_socket=unix:$X/sock/milter.sock" milter_socket_owner=postfix:postfix
reach_conf nouser run_user=arf-no-such-user
printf 'authrelay-policy unix - n n - 0 spawn\n  user=%s argv=%s -S -c %s\n' \
	"$RUN_USER" "$X/home/p/build/authrelay-policyd" "$X/ok.conf" >"$X/master.cf"
printf 'authrelay-policy unix - n n - 0 spawn\n  user=%s argv=%s -S -c %s\n' \
	"$RUN_USER" "$BIN_POLICYD" "$X/secret.conf" >"$X/master-conf.cf"

U="run user $RUN_USER"
# "kind file|want": kind conf or master (the reader used)
REACH_CASES=(
	"conf ok.conf|"
	"master master.cf|$U cannot execute $X/home/p/build/authrelay-policyd: no search permission on $X/home (drwx------ root root)"
	"master master-conf.cf|$U cannot read $X/secret.conf: no read permission (-rw------- root root)"
	"conf rootdb.conf|$U cannot create files in $X/rootdb: no write permission (drwxr-xr-x root root)"
	"conf secret.conf|$U cannot read $X/secret.conf: no read permission (-rw------- root root)"
	"conf log.conf|$U cannot enter $X/logs: no search permission (drwx------ root root)"
	"conf sock.conf|$U cannot create files in $X/sock: no write permission (drwx------ root root);user postfix cannot enter $X/sock: no search permission (drwx------ root root)"
	"conf nouser.conf|user arf-no-such-user does not exist"
)
for c in "${REACH_CASES[@]}"; do
	kind=${c%% *} file=${c%%|*} file=${file#* } want=${c#*|}
	check_eq "reach: preflight of $file" \
		"$("reach_rows_$kind" "$X/$file" | reach_report | paste -sd';')" "$want"
done

# lab_preflight itself: exit 1 and exactly one line, before anything runs
out=$( (PFC=$X && lab_preflight) 2>&1; echo "rc=$?")
check_eq "reach: lab_preflight stops the lab with one line" "$out" \
	"lab: $U cannot execute $X/home/p/build/authrelay-policyd: no search permission on $X/home (drwx------ root root)
rc=1"

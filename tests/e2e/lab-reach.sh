# NAME
#	lab-reach.sh - the lab's preflight: can every user the lab hands a
#	path to reach it?
# SUMMARY
#	sourced by lib.sh; lab_start calls lab_preflight before it starts
#	anything; reach_rows_conf, reach_rows_master, reach_report for tests
# DESCRIPTION
#	The lab runs programs as users other than root: Postfix's spawn(8)
#	starts authrelay-policyd as the master.cf user= (the run user); the
#	daemons drop to run_user and only then open the database, open the
#	login log rotated in, re-read their config on SIGHUP and remove their
#	unix sockets on exit; Postfix's smtpd connects to those sockets as
#	the socket owner. A path such a user cannot reach (a checkout under a
#	0700 directory such as /root, or made by mktemp -d) shows up much
#	later, and only as a relay refusal. So before anything starts, the
#	paths are read back from the rendered files - never from a list kept
#	by hand, which would rot - and tried as each user, with the groups
#	that user gets from initgroups() as the daemons and Postfix set them.
#
#	A row is "USER ACCESS PATH". ACCESS: r read a file, rw read and write
#	a file, x execute a program, wx create and remove files in a
#	directory, s search (enter) a directory. Every directory on the way
#	to PATH must be searchable by USER.
#
#	Limitation: the authrelay.conf reader here knows the syntax the lab
#	writes (key = value, continuation lines, comments, later keys win),
#	not every corner of lib/cfg.c.
# DIAGNOSTICS
#	reach_report prints one line per unreachable path, e.g.
#	"run user nobody cannot execute /tmp/tmp.x/p/build/authrelay-policyd:
#	no search permission on /tmp/tmp.x (drwx------ root root)".

# conf_get FILE KEY: the value KEY has in an authrelay.conf (the last
# setting wins; continuation lines joined with one space), or "".
conf_get() {
	awk -v key="$2" '
		/^[ \t]*(#|$)/ { next }
		/^[ \t]/ { if (on) { sub(/^[ \t]+/, ""); val = val " " $0 } next }
		{
			k = $0; sub(/[ \t]*=.*/, "", k); on = (k == key)
			if (on) { val = $0; sub(/^[^=]*=[ \t]*/, "", val) }
		}
		END { sub(/[ \t]+$/, "", val); print val }' "$1"
}

# reach_rows_conf CONF [USER]: the rows of what a program running with
# CONF needs as USER (default: the run_user CONF names): the config
# itself (re-read on SIGHUP), the database directory and files (for
# PostgreSQL the database_password_file), the
# unix sockets' directory (for their owner too), and the directories of
# the login logs (the file rotated in is opened there as USER; whether
# USER may read it is the rotation's business: conf-examples/logrotate).
reach_rows_conf() {
	local conf=$1 user=${2:-} db f key ep owner src
	[ -n "$user" ] || user=$(conf_get "$conf" run_user)
	: "${user:=authrelay}"
	echo "$user r $conf"
	db=$(conf_get "$conf" database)
	: "${db:=/var/lib/authrelay/authrelay.db}"
	case $db in
	/*)
		echo "$user wx ${db%/*}"
		for f in "$db" "$db-wal" "$db-shm"; do
			[ -e "$f" ] && echo "$user rw $f"
		done
		;;
	*)	# PostgreSQL (a URI or key=value): only its password file is a path
		f=$(conf_get "$conf" database_password_file)
		[ -n "$f" ] && echo "$user r $f"
		;;
	esac
	# "socket key:its owner key"
	for key in policyd_listen:policyd_socket_owner milter_socket:milter_socket_owner; do
		ep=$(conf_get "$conf" "${key%%:*}")
		case $ep in unix:/*) ;; *) continue ;; esac
		ep=${ep#unix:}
		echo "$user wx ${ep%/*}"
		owner=$(conf_get "$conf" "${key#*:}")
		[ -n "$owner" ] && echo "${owner%%:*} s ${ep%/*}"
	done
	for src in $(conf_get "$conf" loginwatch_sources | tr ',' ' '); do
		case $src in
		/*) ;;
		*) continue ;;	# "-" and "journal"
		esac
		# opened as root at start; a file rotated in is opened as USER
		echo "$user s ${src%/*}"
	done
}

# reach_rows_master MASTER_CF: for every spawn(8) and pipe(8) service,
# the user= must execute argv[0] and read the file after -c, and gets
# what that config needs (as that user, whatever run_user says).
reach_rows_master() {
	local user prog conf i
	local -a f
	awk '
		/^[ \t]*(#|$)/ { next }
		/^[ \t]/ { cur = cur " " $0; next }
		{ if (cur != "") print cur; cur = $0 }
		END { if (cur != "") print cur }' "$1" |
		while read -r -a f; do
			case ${f[7]:-} in spawn | pipe) ;; *) continue ;; esac
			user="" prog="" conf=""
			for ((i = 8; i < ${#f[@]}; i++)); do
				case ${f[i]} in
				user=*) user=${f[i]#user=} user=${user%%:*} ;;
				argv=*) prog=${f[i]#argv=} && break ;;
				esac
			done
			for ((i++; i < ${#f[@]}; i++)); do
				[ "${f[i]}" = -c ] && conf=${f[i + 1]:-}
			done
			{ [ -n "$user" ] && [ -n "$prog" ]; } || continue
			echo "$user x $prog"
			[ -n "$conf" ] && reach_rows_conf "$conf" "$user"
		done
}

# REACH_WALK: run as the user (bash -c), reads "ACCESS PATH" rows and
# prints, for each one that fails, "ACCESS PATH|WHY|FILE" (FILE: the one
# whose mode is to blame).
# shellcheck disable=SC2016
REACH_WALK='
while read -r access path; do
	dir="" rest=${path#/} why=""
	while [ -z "$why" ] && [[ $rest == */* ]]; do
		dir=$dir/${rest%%/*} rest=${rest#*/}
		[ -x "$dir" ] || why="no search permission on $dir"
	done
	if [ -z "$why" ] && [ ! -e "$path" ]; then
		why="it does not exist"
	elif [ -z "$why" ]; then
		for ((i = 0; i < ${#access}; i++)); do
			case ${access:i:1} in
			s) t=-x ;;
			*) t=-${access:i:1} ;;
			esac
			[ "$t" "$path" ] && continue
			case ${access:i:1} in
			r) why="no read permission" ;;
			w) why="no write permission" ;;
			*) [ -d "$path" ] && why="no search permission" || why="no execute permission" ;;
			esac
			dir=$path
			break
		done
	fi
	[ -n "$why" ] && printf "%s %s|%s|%s\n" "$access" "$path" "$why" "$dir"
done
'

# reach_verb ACCESS: the words for ACCESS in a message.
reach_verb() {
	case $1 in
	r) echo read ;;
	rw) echo "read and write" ;;
	x) echo execute ;;
	wx) echo "create files in" ;;
	s) echo enter ;;
	*) echo "use ($1)" ;;
	esac
}

# reach_report: the rows (stdin, "USER ACCESS PATH"), tried as each
# user; one line per row that fails, nothing when all are reachable.
reach_report() {
	local rows user who access path why dir
	rows=$(sort -u)
	for user in $(printf '%s\n' "$rows" | awk 'NF { print $1 }' | sort -u); do
		who="user $user"
		[ "$user" = "${RUN_USER:-}" ] && who="run user $user"
		if ! getent passwd "$user" >/dev/null; then
			echo "$who does not exist"
			continue
		fi
		printf '%s\n' "$rows" | awk -v u="$user" '$1 == u { print $2, $3 }' |
			setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- bash -c "$REACH_WALK" |
			while IFS='|' read -r access_path why dir; do
				access=${access_path%% *} path=${access_path#* }
				printf '%s cannot %s %s: %s' "$who" "$(reach_verb "$access")" "$path" "$why"
				[ -e "$dir" ] && printf ' (%s)' "$(stat -c '%A %U %G' "$dir")"
				printf '\n'
			done
	done
}

# reach_rows_lab: the rows of everything the lab has rendered so far:
# every authrelay.conf in $LAB/etc (render_conf's, known by its marker
# line; other *.conf there are logrotate's and the like) and the spawn
# services of master.cf.
reach_rows_lab() {
	local c
	grep -lx "$RENDER_CONF_MARK" "$LAB"/etc/*.conf | while read -r c; do
		reach_rows_conf "$c"
	done
	reach_rows_master "$PFC/master.cf"
}

# lab_preflight: stops the lab with one line naming every path a user
# cannot reach, before any process is started.
lab_preflight() {
	local why
	why=$(reach_rows_lab | reach_report)
	[ -z "$why" ] && return 0
	LAB_NO_TAIL=1
	lab_die "$(printf '%s\n' "$why" | paste -sd';' | sed 's/;/; /g')"
}

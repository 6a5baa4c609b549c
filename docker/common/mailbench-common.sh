# Start-up code every mailbench image shares, sourced by its entrypoint: it reads and checks
# the settings of the image contract. POSIX sh (Dovecot's and Cyrus's entrypoints run under
# /bin/sh, Courier's under bash). A wrong setting is one line on stderr and exit code 2.
#   MAILBENCH_USERS     number of users user1..userN (default 4)
#   MAILBENCH_PASSWORD  password of every user (default mailbench)
#   /etc/mailbench/tls/server.crt and server.key, when present: TLS on 993/995 and
#   STARTTLS/STLS on 143/110; without them, no TLS at all.
# Each image has it as /usr/local/lib/mailbench/mailbench-common.sh; its build context holds
# it as common/mailbench-common.sh (bench/servers/contexts.py puts it there).

tls=/etc/mailbench/tls

# Sets $users and $password from the environment, or stops the container.
mailbench_read_users() {
  users="${MAILBENCH_USERS:-4}"
  password="${MAILBENCH_PASSWORD:-mailbench}"
  case "$users" in
    ''|*[!0-9]*) echo "mailbench: MAILBENCH_USERS must be a positive number, not '$users'" >&2; exit 2 ;;
  esac
  if [ "$users" -lt 1 ]; then
    echo "mailbench: MAILBENCH_USERS must be at least 1" >&2; exit 2
  fi
  case "$password" in
    *:*|'') echo "mailbench: MAILBENCH_PASSWORD must be non-empty and without ':'" >&2; exit 2 ;;
  esac
}

# Sets $tls_on to 1 when $tls holds a certificate and its key, 0 when it holds neither;
# stops the container when it holds one of them only.
mailbench_find_tls() {
  if [ -e "$tls/server.crt" ] && [ -e "$tls/server.key" ]; then
    tls_on=1
  elif [ -e "$tls/server.crt" ] || [ -e "$tls/server.key" ]; then
    echo "mailbench: $tls must hold both server.crt and server.key, or neither" >&2; exit 2
  else
    tls_on=0
  fi
}

# Says which way the server was set up, once the entrypoint has done so.
mailbench_say_tls() {
  if [ "$tls_on" = 1 ]; then
    echo "mailbench: TLS on 993 and 995, STARTTLS/STLS on 143 and 110, with $tls/server.crt"
  else
    echo "mailbench: no certificate in $tls, TLS off"
  fi
}

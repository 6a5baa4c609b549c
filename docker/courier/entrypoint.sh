#!/bin/bash
# Create the test users, then run Courier's authdaemond and one couriertcpd per port, and
# stop the container when any of them ends (no init system here).
# The settings (MAILBENCH_USERS, MAILBENCH_PASSWORD, a certificate in /etc/mailbench/tls) are
# read and checked by the start-up code every image shares: mailbench-common.sh.
# Logs of every process go to the container's stderr (no courierlogger, no syslog).
set -eu
. /usr/local/lib/mailbench/mailbench-common.sh

vmail_uid=5000
vmail_gid=5000

mailbench_read_users
unset MAILBENCH_USERS MAILBENCH_PASSWORD
mailbench_find_tls

# Users: one userdb line and one Maildir (the INBOX) each, then makeuserdb once. Every
# user has the same password, so it is hashed once.
hash="$(printf '%s\n' "$password" | userdbpw -md5)"
umask 077
: > /etc/courier/userdb
i=1
while [ "$i" -le "$users" ]; do
  printf 'user%d\tuid=%d|gid=%d|home=/var/mail/user%d|systempw=%s\n' \
    "$i" "$vmail_uid" "$vmail_gid" "$i" "$hash" >> /etc/courier/userdb
  i=$((i + 1))
done
seq "$users" | sed 's|.*|/var/mail/user&/Maildir/cur /var/mail/user&/Maildir/new /var/mail/user&/Maildir/tmp|' \
  | xargs mkdir -p
chown -R vmail:vmail /var/mail
makeuserdb

install -d -o courier -g courier -m 0750 /run/courier /run/courier/authdaemon

# Debian's settings, then ours; in a subshell per server, as Debian's start scripts do.
settings() {  # imapd or pop3d; Debian's files use unset variables
  set +u -a
  . "/etc/courier/$1"
  . "/etc/courier/$1-ssl"
  . /etc/mailbench/courier-settings
  if [ "$tls_on" = 1 ]; then
    IMAPDSTARTTLS=YES
    POP3_STARTTLS=YES
    TLS_CERTFILE="$tls/server.crt"
    TLS_PRIVATE_KEYFILE="$tls/server.key"
  fi
  IMAP_STARTTLS="$IMAPDSTARTTLS"
  set +a
}

if [ "$tls_on" = 1 ]; then
  # couriertls reads the key as the courier user, and wants it private; so are its caches.
  chown courier:courier "$tls/server.crt" "$tls/server.key"
  chmod 0600 "$tls/server.key"
  for cache in $(settings imapd; echo "$TLS_CACHEFILE") $(settings pop3d; echo "$TLS_CACHEFILE"); do
    install -o courier -g courier -m 0600 /dev/null "$cache"
  done
fi
mailbench_say_tls

/usr/lib/courier/courier-authlib/authdaemond &
i=0
while [ ! -S /run/courier/authdaemon/socket ] && [ "$i" -lt 200 ]; do
  sleep 0.01
  i=$((i + 1))
done

courier=/usr/lib/courier/courier
(
  settings imapd
  umask "$IMAP_UMASK"
  ulimit -v "$IMAP_ULIMITD"
  exec couriertcpd -address="$ADDRESS" -maxprocs="$MAXDAEMONS" -maxperip="$MAXPERIP" \
    -access="$IMAPACCESSFILE.dat" $TCPDOPTS \
    "$PORT" "$courier/imaplogin" /usr/bin/imapd "$MAILDIRPATH"
) &
(
  settings pop3d
  exec couriertcpd -address="$ADDRESS" -maxprocs="$MAXDAEMONS" -maxperip="$MAXPERIP" $TCPDOPTS \
    "$PORT" "$courier/courierpop3login" "$courier/courierpop3d" "$MAILDIRPATH"
) &
if [ "$tls_on" = 1 ]; then
  (
    settings imapd
    IMAP_TLS=1
    IMAP_STARTTLS=NO
    umask "$IMAP_UMASK"
    ulimit -v "$IMAP_ULIMITD"
    exec couriertcpd -address="$SSLADDRESS" -maxprocs="$MAXDAEMONS" -maxperip="$MAXPERIP" \
      -access="$IMAPACCESSFILE.dat" $TCPDOPTS \
      "$SSLPORT" "$COURIERTLS" -server -tcpd -user=courier \
      "$courier/imaplogin" /usr/bin/imapd "$MAILDIRPATH"
  ) &
  (
    settings pop3d
    POP3_TLS=1
    POP3_STARTTLS=NO
    POP3_TLS_REQUIRED=0
    exec couriertcpd -address="$SSLADDRESS" -maxprocs="$MAXDAEMONS" -maxperip="$MAXPERIP" $TCPDOPTS \
      "$SSLPORT" "$COURIERTLS" -server -tcpd -user=courier \
      "$courier/courierpop3login" "$courier/courierpop3d" "$MAILDIRPATH"
  ) &
fi

trap 'kill $(jobs -p) 2>/dev/null; exit 143' TERM INT
set +e
wait -n
status=$?
echo "mailbench: a Courier process ended (status $status); stopping the container" >&2
kill $(jobs -p) 2>/dev/null
exit 1

#!/bin/sh
# Create the test users, choose the TLS configuration, then run Dovecot in the foreground.
#   MAILBENCH_USERS     number of users user1..userN (default 4)
#   MAILBENCH_PASSWORD  password of every user (default mailbench)
#   /etc/mailbench/tls/server.crt and server.key, when present: TLS on 993/995 and
#   STARTTLS/STLS on 143/110; without them, no TLS at all.
set -eu

users="${MAILBENCH_USERS:-4}"
password="${MAILBENCH_PASSWORD:-mailbench}"
tls=/etc/mailbench/tls

case "$users" in
  ''|*[!0-9]*) echo "mailbench: MAILBENCH_USERS must be a positive number, not '$users'" >&2; exit 2 ;;
esac
if [ "$users" -lt 1 ]; then
  echo "mailbench: MAILBENCH_USERS must be at least 1" >&2; exit 2
fi
case "$password" in
  *:*|'') echo "mailbench: MAILBENCH_PASSWORD must be non-empty and without ':'" >&2; exit 2 ;;
esac

if [ -e "$tls/server.crt" ] && [ -e "$tls/server.key" ]; then
  # Dovecot reads the key as root when it loads its configuration.
  chown root:root "$tls/server.key"
  chmod 0600 "$tls/server.key"
  cp /etc/mailbench/dovecot-tls.conf /etc/dovecot/tls.conf
  echo "mailbench: TLS on 993 and 995, STARTTLS/STLS on 143 and 110, with $tls/server.crt"
elif [ -e "$tls/server.crt" ] || [ -e "$tls/server.key" ]; then
  echo "mailbench: $tls must hold both server.crt and server.key, or neither" >&2; exit 2
else
  rm -f /etc/dovecot/tls.conf
  echo "mailbench: no certificate in $tls, TLS off"
fi

umask 027
: > /etc/dovecot/users.new
i=1
while [ "$i" -le "$users" ]; do
  printf 'user%d:{PLAIN}%s::::::\n' "$i" "$password" >> /etc/dovecot/users.new
  i=$((i + 1))
done
chown root:dovecot /etc/dovecot/users.new
mv /etc/dovecot/users.new /etc/dovecot/users

exec dovecot -F

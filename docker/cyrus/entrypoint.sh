#!/bin/sh
# Create the test users, choose the TLS configuration, then run Cyrus in the foreground.
#   MAILBENCH_USERS     number of users user1..userN (default 4)
#   MAILBENCH_PASSWORD  password of every user (default mailbench)
#   /etc/mailbench/tls/server.crt and server.key, when present: TLS on 993/995 and
#   STARTTLS/STLS on 143/110; without them, no TLS at all.
set -eu

users="${MAILBENCH_USERS:-4}"
password="${MAILBENCH_PASSWORD:-mailbench}"
tls=/etc/mailbench/tls
realm=mailbench  # = servername in imapd.conf

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
  chown cyrus:mail "$tls/server.key"
  chmod 0600 "$tls/server.key"
  cat /etc/mailbench/cyrus/imapd.conf /etc/mailbench/cyrus/imapd-tls.conf > /etc/imapd.conf
  cp /etc/mailbench/cyrus/cyrus-tls.conf /etc/cyrus.conf
  echo "mailbench: TLS on 993 and 995, STARTTLS/STLS on 143 and 110, with $tls/server.crt"
elif [ -e "$tls/server.crt" ] || [ -e "$tls/server.key" ]; then
  echo "mailbench: $tls must hold both server.crt and server.key, or neither" >&2; exit 2
else
  cp /etc/mailbench/cyrus/imapd.conf /etc/imapd.conf
  cp /etc/mailbench/cyrus/cyrus.conf /etc/cyrus.conf
  echo "mailbench: no certificate in $tls, TLS off"
fi

# Users in a fresh sasldb; saslpasswd2 takes about 4 ms a user.
rm -f /etc/sasldb2.new
i=1
while [ "$i" -le "$users" ]; do
  printf '%s' "$password" | saslpasswd2 -p -c -f /etc/sasldb2.new -u "$realm" "user$i"
  i=$((i + 1))
done
chown cyrus:mail /etc/sasldb2.new
chmod 0640 /etc/sasldb2.new
mv /etc/sasldb2.new /etc/sasldb2

install -d -o cyrus -g mail -m 0750 /run/cyrus /run/cyrus/proc /run/cyrus/lock /run/cyrus/socket

# Cyrus logs only to syslog: a syslogd writing to stdout makes `docker logs` useful.
busybox syslogd -n -O - &
i=0
while [ ! -S /dev/log ] && [ "$i" -lt 200 ]; do
  sleep 0.01
  i=$((i + 1))
done

# A listen backlog of 256 instead of 32: a benchmark opens many connections at once, and
# connections beyond the backlog wait a SYN retransmission (1 s) before the greeting.
exec cyrmaster -D -l 256

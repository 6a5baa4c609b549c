#!/bin/sh
# Create the test users, choose the TLS configuration, then run Cyrus in the foreground.
# The settings (MAILBENCH_USERS, MAILBENCH_PASSWORD, a certificate in /etc/mailbench/tls) are
# read and checked by the start-up code every image shares: mailbench-common.sh;
# MAILBENCH_PROTOCOLS says whether to serve JMAP as well.
set -eu
. /usr/local/lib/mailbench/mailbench-common.sh

realm=mailbench  # = servername in imapd.conf

mailbench_read_users
mailbench_find_tls
if [ "$tls_on" = 1 ]; then
  chown cyrus:mail "$tls/server.key"
  chmod 0600 "$tls/server.key"
  cat /etc/mailbench/cyrus/imapd.conf /etc/mailbench/cyrus/imapd-tls.conf > /etc/imapd.conf
  cp /etc/mailbench/cyrus/cyrus-tls.conf /etc/cyrus.conf
else
  cp /etc/mailbench/cyrus/imapd.conf /etc/imapd.conf
  cp /etc/mailbench/cyrus/cyrus.conf /etc/cyrus.conf
fi
mailbench_say_tls

# JMAP only when asked (MAILBENCH_PROTOCOLS, from the suite): it needs Cyrus's conversations
# database, which every IMAP and POP3 change then updates too, so a container for IMAP and
# POP3 alone keeps it off, and serves no HTTP.
case " ${MAILBENCH_PROTOCOLS:-imap pop3} " in
  *" jmap "*)
    cat /etc/mailbench/cyrus/imapd-jmap.conf >> /etc/imapd.conf
    echo "mailbench: JMAP on (httpd, conversations database)" ;;
  *)
    sed -i '/^ *https\{0,1\} /d' /etc/cyrus.conf ;;
esac

# Users in a fresh sasldb; saslpasswd2 takes about 4 ms a user. mailbench-admin is Cyrus's
# admin (imapd.conf), which copies template mailboxes into samples'.
rm -f /etc/sasldb2.new
printf '%s' "$password" | saslpasswd2 -p -c -f /etc/sasldb2.new -u "$realm" mailbench-admin
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

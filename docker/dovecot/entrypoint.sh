#!/bin/sh
# Create the test users, choose the TLS configuration, then run Dovecot in the foreground.
# The settings (MAILBENCH_USERS, MAILBENCH_PASSWORD, a certificate in /etc/mailbench/tls) are
# read and checked by the start-up code every image shares: mailbench-common.sh.
set -eu
. /usr/local/lib/mailbench/mailbench-common.sh

mailbench_read_users
mailbench_find_tls
if [ "$tls_on" = 1 ]; then
  # Dovecot reads the key as root when it loads its configuration.
  chown root:root "$tls/server.key"
  chmod 0600 "$tls/server.key"
  cp /etc/mailbench/dovecot-tls.conf /etc/dovecot/tls.conf
else
  rm -f /etc/dovecot/tls.conf
fi
mailbench_say_tls

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

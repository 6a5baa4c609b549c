#!/bin/sh
# Create the test users, then run Dovecot in the foreground.
#   MAILBENCH_USERS     number of users user1..userN (default 4)
#   MAILBENCH_PASSWORD  password of every user (default mailbench)
set -eu

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

#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster if it is down and waits until it answers.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 1
done
echo "PostgreSQL on 127.0.0.1:5432 did not come up" >&2
exit 1

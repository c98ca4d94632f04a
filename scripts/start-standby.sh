#!/usr/bin/env bash
# Makes (once) and starts a streaming hot standby of the machine's PostgreSQL: cluster
# "standby" on 127.0.0.1:5433 (STANDBY_PORT), a pg_basebackup of the primary on
# 127.0.0.1:5432 that follows it. The read-replica tests (serve --read-db) use it. As root.
set -euo pipefail
ver=$(ls /etc/postgresql | head -n 1)
port=${STANDBY_PORT:-5433}
hba=/etc/postgresql/$ver/main/pg_hba.conf
# The standby connects to the primary for replication (first line: the first match wins).
if ! grep -qE '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
  sed -i '1i host replication all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
fi
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx standby; then
  pg_createcluster "$ver" standby -p "$port" >/dev/null
  data=/var/lib/postgresql/$ver/standby
  find "$data" -mindepth 1 -delete # pg_basebackup writes into an empty directory
  # A replication slot keeps the WAL the standby has not replayed yet (bulk loads in the
  # tests write gigabytes of it).
  psql -h 127.0.0.1 -p 5432 -U postgres -qAtc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'riskmap_standby'" >/dev/null
  su postgres -c "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D $data -R -X stream -C -S riskmap_standby"
fi
# Trust on loopback, as the primary here (CI's PostgreSQL trusts 127.0.0.1). The cluster is
# this script's: its pg_hba.conf is written whole.
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "/etc/postgresql/$ver/standby/pg_hba.conf"
if pg_isready -q -h 127.0.0.1 -p "$port"; then
  pg_ctlcluster --skip-systemctl-redirect "$ver" standby reload
fi
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  pg_ctlcluster --skip-systemctl-redirect "$ver" standby start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && exit 0
  sleep 1
done
echo "the standby on 127.0.0.1:$port did not come up" >&2
exit 1

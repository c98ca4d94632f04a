#!/usr/bin/env bash
# Starts mosquitto on 127.0.0.1:1883 if nothing listens there and waits until it answers
# (the MQTT broker of serve --mqtt and of pkg/mqttfeed's tests). Debian's package installs
# it; in a container without systemd it is started in the background by hand.
set -euo pipefail
listening() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if ! listening; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start mosquitto
  else
    # Listen on loopback only, anonymous (the default listener of mosquitto 2 when given
    # no config is local-only as well).
    conf=$(mktemp /tmp/mosquitto-XXXXXX.conf)
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' >"$conf"
    mosquitto -d -c "$conf"
  fi
fi
for _ in $(seq 1 30); do
  listening && exit 0
  sleep 1
done
echo "mosquitto on 127.0.0.1:1883 did not come up" >&2
exit 1

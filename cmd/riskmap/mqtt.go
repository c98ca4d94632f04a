package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/mqttfeed"
)

// serve --mqtt URL: the readings of monitoring points from an MQTT broker (issue 17,
// pkg/mqttfeed), fed to the same monitoring service as POST /api/v1/readings.

// mqttOptions are serve's MQTT flags; the config's section "mqtt" gives their defaults.
type mqttOptions struct {
	URL, Prefix, ClientID string
}

func (m *Main) mqttFlags(fs *flag.FlagSet, env func(k, def string) string) {
	fs.StringVar(&m.MQTT.URL, "mqtt", env("RISKMAP_MQTT", ""),
		"MQTT broker to take readings from, e.g. tcp://127.0.0.1:1883 (topics PREFIX/readings and PREFIX/points/CODE/readings; config \"mqtt\": {\"url\": …})")
	fs.StringVar(&m.MQTT.Prefix, "mqtt-prefix", "", "MQTT topic prefix (default riskmap/)")
	fs.StringVar(&m.MQTT.ClientID, "mqtt-client-id", "",
		"MQTT client id of this replica: stable, so the broker keeps its session (default riskmap-HOST-PORT)")
}

// startMQTT starts the subscriber when --mqtt or the config's mqtt.url names a broker,
// counting into reg; stop ends it and waits (call it before the store closes). Nothing to
// stop without a broker.
func (m *Main) startMQTT(ctx context.Context, ms *monitoring.Service, reg prometheus.Registerer) (stop func(), err error) {
	opt := mqttfeed.Options{URL: m.MQTT.URL, Prefix: m.MQTT.Prefix, ClientID: m.MQTT.ClientID, Logger: m.logger, Registerer: reg}
	if m.cfg != nil {
		if opt.URL == "" {
			opt.URL = m.cfg.MQTT.URL
		}
		if opt.Prefix == "" {
			opt.Prefix = m.cfg.MQTT.Prefix
		}
		if opt.ClientID == "" {
			opt.ClientID = m.cfg.MQTT.ClientID
		}
	}
	if opt.URL == "" {
		return func() {}, nil
	}
	if ms == nil {
		return nil, errors.New("--mqtt：此数据库不支持监测预警")
	}
	if opt.ClientID == "" {
		// Replicas on one host listen on different ports: each keeps its own session.
		opt.ClientID = mqttfeed.DefaultClientID()
		if m.Addr != nil {
			if _, port, err := net.SplitHostPort(m.Addr.String()); err == nil {
				opt.ClientID += "-" + port
			}
		}
	}
	sub, err := mqttfeed.New(ms, opt)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sub.Run(ctx); err != nil {
			m.logger.Error("MQTT 订阅", "err", err)
		}
	}()
	fmt.Fprintf(m.Stdout, "正在从 MQTT %s 订阅监测读数（主题 %v）\n", redactURL(opt.URL), sub.Topics())
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }, nil
}

// redactURL hides the password of a broker's URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "（地址无效）"
	}
	return u.Redacted()
}

// urlOf checks a broker's URL given on the command line.
func urlOf(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return nil, fmt.Errorf("MQTT 地址 %q 无效，应如 tcp://127.0.0.1:1883", raw)
	}
	return u, nil
}

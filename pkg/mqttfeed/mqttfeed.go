// Package mqttfeed subscribes to an MQTT broker (mosquitto, EMQX …) for the readings of
// monitoring points (issue 17) and hands each message to the monitoring service. Two
// topics under a prefix (default "riskmap/"):
//
//	riskmap/readings               the JSON batch of POST /api/v1/readings:
//	                               [{"point": id or "code", "time": RFC 3339, "value": n}, …]
//	riskmap/points/CODE/readings   one point's readings, CODE its code:
//	                               {"time": RFC 3339, "value": n} or an array of those
//	                               ("time" may be left out: the time the message arrived)
//
// It subscribes at QoS 1 with a persistent session (clean session off, a stable client id
// per replica), so the broker keeps what arrives while the server is away, and reconnects
// by itself. A message is acknowledged after its readings are committed (or refused): a
// reading the broker was told is delivered is stored. Malformed payloads and unknown points
// are logged (at most 200 bytes of payload) and counted in riskmap_mqtt_messages_total; the
// subscriber keeps running.
//
// It reaches the monitoring service through Ingester, which it declares itself: it imports
// no other adapter.
package mqttfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// Ingester is what the subscriber needs of the monitoring service (*monitoring.Service).
// The subscriber is the system: it passes a nil user, whose scope is everything.
type Ingester interface {
	Ingest(ctx context.Context, by *riskmap.User, form monitoring.Form, body []byte) (*monitoring.IngestResult, error)
	IngestReadings(ctx context.Context, rs []monitoring.Reading) (*monitoring.IngestResult, error)
	Resolve(by *riskmap.User, ref monitoring.PointRef) (*monitoring.Point, error)
}

// DefaultPrefix is the topic prefix when Options.Prefix is empty.
const DefaultPrefix = "riskmap/"

// MaxPayload is the largest payload taken (the body limit of POST /api/v1/readings); a
// larger one is malformed.
const MaxPayload = 10 << 20

// Options configure a subscriber.
type Options struct {
	// URL is the broker: tcp://host:1883 (mqtt:// is the same), ssl:// or tls:// for TLS,
	// ws:// or wss://; user and password may be given in it (tcp://user:pw@host:1883).
	URL string
	// Prefix is put before the topics ("riskmap/"); "" is DefaultPrefix.
	Prefix string
	// ClientID names this replica to the broker: stable, so that the broker keeps its
	// session (and what arrives while it is away). "" is "riskmap-" and the host name.
	ClientID string
	Logger   *slog.Logger
	// Registerer gets the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock for readings sent without a time; nil is time.Now.
	Now func() time.Time
}

// Results of a message, the label of riskmap_mqtt_messages_total.
const (
	ResultOK        = "ok"        // every reading accepted (duplicates and late ones included)
	ResultRefused   = "refused"   // readable, but some readings refused (an unknown point, a value out of range …)
	ResultMalformed = "malformed" // not a payload of its topic
	ResultError     = "error"     // the service failed (the store is down): not acknowledged, the broker sends it again
)

// Subscriber is an MQTT subscriber feeding the monitoring service.
type Subscriber struct {
	in       Ingester
	opt      Options
	log      *slog.Logger
	messages *prometheus.CounterVec
	readings *prometheus.CounterVec
	up       prometheus.Gauge

	mu      sync.Mutex
	waiters []chan struct{} // closed on the next connection
	queue   chan mqtt.Message
}

// New makes a subscriber; Run connects it.
func New(in Ingester, opt Options) (*Subscriber, error) {
	if in == nil {
		return nil, errors.New("mqttfeed: no ingester")
	}
	if _, err := brokerURL(opt.URL); err != nil {
		return nil, err
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(opt.Prefix, "/") {
		opt.Prefix += "/"
	}
	if strings.ContainsAny(opt.Prefix, "+#") {
		return nil, fmt.Errorf("MQTT 主题前缀 %q 不能含有通配符 + 或 #", opt.Prefix)
	}
	if opt.ClientID == "" {
		opt.ClientID = DefaultClientID()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Subscriber{in: in, opt: opt, log: opt.Logger.With("component", "mqtt"),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "riskmap_mqtt_messages_total",
			Help: "MQTT messages of readings received, by result (ok, refused, malformed, error)."}, []string{"result"}),
		readings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "riskmap_mqtt_readings_total",
			Help: "Readings received over MQTT, by result (accepted, duplicate, late, refused)."}, []string{"result"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "riskmap_mqtt_connected",
			Help: "1 while the MQTT subscriber is connected to its broker."}),
		queue: make(chan mqtt.Message, 256),
	}
	for _, r := range []string{ResultOK, ResultRefused, ResultMalformed, ResultError} {
		s.messages.WithLabelValues(r)
	}
	for _, r := range []string{"accepted", "duplicate", "late", "refused"} {
		s.readings.WithLabelValues(r)
	}
	if opt.Registerer != nil {
		for _, c := range []prometheus.Collector{s.messages, s.readings, s.up} {
			if err := opt.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("mqttfeed: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// DefaultClientID is "riskmap-" and the host name: stable across restarts of a replica,
// different between replicas (each has its own session at the broker).
func DefaultClientID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "server"
	}
	id := "riskmap-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, h)
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

// brokerURL checks the broker's URL.
func brokerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("MQTT 地址 %q 无效，应如 tcp://127.0.0.1:1883", raw)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "tcps", "ws", "wss":
	default:
		return nil, fmt.Errorf("MQTT 地址 %q 的协议应为 tcp、mqtt、ssl、tls、ws 或 wss", raw)
	}
	return u, nil
}

// Topics are the two topic filters subscribed to.
func (s *Subscriber) Topics() []string {
	return []string{s.opt.Prefix + "readings", s.opt.Prefix + "points/+/readings"}
}

// Run connects to the broker (retrying until it answers), subscribes and feeds the
// service until ctx is done; then it disconnects. Its error is only a misconfiguration.
func (s *Subscriber) Run(ctx context.Context) error {
	u, err := brokerURL(s.opt.URL)
	if err != nil {
		return err
	}
	o := mqtt.NewClientOptions()
	server := *u
	server.User = nil
	o.AddBroker(server.String())
	if u.User != nil {
		o.SetUsername(u.User.Username())
		if pw, ok := u.User.Password(); ok {
			o.SetPassword(pw)
		}
	}
	o.SetClientID(s.opt.ClientID)
	o.SetCleanSession(false) // the broker keeps our subscriptions and queues QoS 1 messages while we are away
	o.SetAutoReconnect(true)
	o.SetConnectRetry(true)
	o.SetConnectRetryInterval(2 * time.Second)
	o.SetMaxReconnectInterval(30 * time.Second)
	o.SetKeepAlive(30 * time.Second)
	o.SetOrderMatters(true) // readings of a point arrive in order; the handler only queues
	o.SetAutoAckDisabled(true)
	o.SetDefaultPublishHandler(s.enqueue)
	o.SetOnConnectHandler(func(c mqtt.Client) {
		filters := map[string]byte{}
		for _, t := range s.Topics() {
			filters[t] = 1
		}
		tok := c.SubscribeMultiple(filters, s.enqueue)
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			s.log.Error("MQTT 订阅失败", "topics", s.Topics(), "err", tok.Error())
			return
		}
		s.up.Set(1)
		s.log.Info("MQTT 已连接并订阅", "broker", server.String(), "client_id", s.opt.ClientID, "topics", s.Topics())
		s.mu.Lock()
		for _, w := range s.waiters {
			close(w)
		}
		s.waiters = nil
		s.mu.Unlock()
	})
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		s.up.Set(0)
		s.log.Warn("MQTT 连接中断，正在重连", "broker", server.String(), "err", err)
	})
	c := mqtt.NewClient(o)
	c.Connect() // with ConnectRetry it keeps trying in the background
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.work(ctx)
	}()
	<-ctx.Done()
	c.Disconnect(500)
	s.up.Set(0)
	<-done
	return nil
}

// Connected returns a channel closed once the subscriber is next connected and subscribed
// (tests wait on it).
func (s *Subscriber) Connected() <-chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	return ch
}

// enqueue hands a message to the worker: the client's goroutine does not wait for the
// store, and the messages keep their order.
func (s *Subscriber) enqueue(_ mqtt.Client, m mqtt.Message) { s.queue <- m }

func (s *Subscriber) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.queue:
			if s.Handle(ctx, m.Topic(), m.Payload()) != ResultError {
				m.Ack()
			}
		}
	}
}

// Handle ingests one message's payload from topic and returns its result; it counts and
// logs it. An error of the service is retried for a while; ResultError is returned when it
// still fails (the message is then not acknowledged).
func (s *Subscriber) Handle(ctx context.Context, topic string, payload []byte) string {
	res, err := s.handle(ctx, topic, payload)
	for wait := 500 * time.Millisecond; err != nil && isTransient(err) && wait <= 8*time.Second; wait *= 2 {
		select {
		case <-ctx.Done():
			return ResultError
		case <-time.After(wait):
		}
		res, err = s.handle(ctx, topic, payload)
	}
	result := ResultOK
	switch {
	case err != nil && isTransient(err):
		result = ResultError
		s.log.Error("MQTT 消息未能写入", "topic", clip(topic, 200), "err", err)
	case err != nil:
		result = ResultMalformed
		s.readings.WithLabelValues("refused").Inc()
		s.log.Warn("MQTT 消息格式有误，已丢弃", "topic", clip(topic, 200), "err", riskmap.ErrorMessage(err), "payload", clip(string(payload), 200))
	default:
		s.readings.WithLabelValues("accepted").Add(float64(res.Accepted))
		s.readings.WithLabelValues("duplicate").Add(float64(res.Duplicates))
		s.readings.WithLabelValues("late").Add(float64(res.Late))
		if n := len(res.Refused); n > 0 {
			result = ResultRefused
			s.readings.WithLabelValues("refused").Add(float64(n))
			first := ""
			if len(res.Refused) > 0 {
				first = res.Refused[0].Field + "：" + res.Refused[0].Message
			}
			s.log.Warn("MQTT 消息中有读数被拒收", "topic", clip(topic, 200), "refused", n, "accepted", res.Accepted, "first", clip(first, 200))
		}
	}
	s.messages.WithLabelValues(result).Inc()
	return result
}

// handle ingests a payload.
func (s *Subscriber) handle(ctx context.Context, topic string, payload []byte) (*monitoring.IngestResult, error) {
	if len(payload) > MaxPayload {
		return nil, riskmap.Errorf(riskmap.ETOOLARGE, "MQTT 消息超过 %d MB", MaxPayload>>20)
	}
	rest, ok := strings.CutPrefix(topic, s.opt.Prefix)
	if !ok {
		return nil, riskmap.Errorf(riskmap.EINVALID, "不是订阅的主题")
	}
	if rest == "readings" {
		return ingestResult(s.in.Ingest(ctx, nil, monitoring.FormBatch, payload))
	}
	code, ok := PointCode(rest)
	if !ok {
		return nil, riskmap.Errorf(riskmap.EINVALID, "不是订阅的主题")
	}
	vals, err := ParsePointPayload(payload, s.opt.Now())
	if err != nil {
		return nil, err
	}
	p, err := s.in.Resolve(nil, monitoring.PointRef{Code: code})
	if err != nil || p == nil {
		if err == nil || riskmap.ErrorCode(err) == riskmap.ENOTFOUND || riskmap.ErrorCode(err) == riskmap.EFORBIDDEN {
			// An unknown point refuses each of the message's readings.
			fe := riskmap.FieldErrorf("topic", "没有这个监测点")
			if err != nil {
				fe = riskmap.FieldErrorf("topic", "%s", riskmap.MessageOf(err))
			}
			res := &monitoring.IngestResult{Refused: make([]monitoring.Refusal, len(vals))}
			for i := range vals {
				res.Refused[i] = monitoring.Refusal{Index: i, FieldError: fe}
			}
			return res, nil
		}
		return nil, err
	}
	rs := make([]monitoring.Reading, len(vals))
	for i, v := range vals {
		rs[i] = monitoring.Reading{PointID: p.ID, Time: v.Time, Value: v.Value}
	}
	return ingestResult(s.in.IngestReadings(ctx, rs))
}

func ingestResult(r *monitoring.IngestResult, err error) (*monitoring.IngestResult, error) {
	if err == nil && r == nil {
		r = &monitoring.IngestResult{}
	}
	return r, err
}

// isTransient reports whether err is a failure of the service (retry, do not acknowledge)
// rather than a refusal of the payload.
func isTransient(err error) bool {
	switch riskmap.ErrorCode(err) {
	case riskmap.EINVALID, riskmap.ETOOLARGE, riskmap.ENOTFOUND, riskmap.EFORBIDDEN, riskmap.ECONFLICT:
		return false
	}
	return true
}

// PointCode is the point code of a per-point topic's rest after the prefix,
// "points/CODE/readings".
func PointCode(rest string) (string, bool) {
	code, ok := strings.CutPrefix(rest, "points/")
	if !ok {
		return "", false
	}
	code, ok = strings.CutSuffix(code, "/readings")
	if !ok || code == "" || strings.Contains(code, "/") || len(code) > 4*monitoring.MaxCodeLen {
		return "", false
	}
	return code, true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 { // not in the middle of a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}

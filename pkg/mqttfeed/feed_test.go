package mqttfeed_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/mqttfeed"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// broker is the machine's mosquitto (scripts/install-deps.sh installs and starts it); the
// test skips without it unless CI or RISKMAP_REQUIRE_MQTT is set.
func broker(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("RISKMAP_MQTT")
	if addr == "" {
		addr = "127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("RISKMAP_REQUIRE_MQTT") != "" {
			t.Fatalf("no MQTT broker at %s: %v", addr, err)
		}
		t.Skipf("no MQTT broker at %s (mosquitto): %v", addr, err)
	}
	c.Close()
	return "tcp://" + addr
}

func fp(v float64) *float64 { return &v }

// store is what the test needs of a store.
type store interface {
	riskmap.Store
	monitoring.Store
}

// TestSubscriber publishes to the real mosquitto a batch and per-point messages, garbage and
// an unknown point, and counts the readings back from a real store (GeoPackage, PostGIS)
// through the real monitoring service.
func TestSubscriber(t *testing.T) {
	url := broker(t)
	t.Run("GeoPackage", func(t *testing.T) {
		st, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "feed.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		testSubscriber(t, url, st)
	})
	t.Run("PostGIS", func(t *testing.T) {
		st, err := postgis.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		testSubscriber(t, url, st)
	})
}

func testSubscriber(t *testing.T, url string, st store) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUnit("MQTT-1", orb.Point{102.91, 24.67})
	if err := st.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := &monitoring.Point{Code: "JC-MQTT-1", UnitID: u.ID, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.91, 24.67},
		IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Yellow: fp(25), Red: fp(50)}}}
	if err := st.CreatePointRecorded(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	cfg := monitoring.Default()
	svc := monitoring.NewService(st, &cfg, func(id int64) (monitoring.UnitRef, bool) {
		if id != u.ID {
			return monitoring.UnitRef{}, false
		}
		return monitoring.UnitRef{ID: u.ID, Code: u.Code, Name: u.Name, Category: u.Category, RegionCode: u.RegionCode,
			Department: u.ResponsibleDepartment, Grade: u.Grade}, true
	})
	svc.Conditions = func(context.Context, int64, []riskmap.Condition) error { return nil }
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	go svc.Run(ctx)

	prefix := fmt.Sprintf("riskmaptest-%d/", time.Now().UnixNano())
	reg := prometheus.NewRegistry()
	sub, err := mqttfeed.New(svc, mqttfeed.Options{URL: url, Prefix: prefix, ClientID: "riskmap-test-" + prefix[12:len(prefix)-1], Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	up := sub.Connected()
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx) }()
	select {
	case <-up:
	case <-ctx.Done():
		t.Fatal("the subscriber did not connect")
	}

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("riskmap-test-pub-" + prefix[12:len(prefix)-1]))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	send := func(topic, payload string) {
		t.Helper()
		if tok := pub.Publish(prefix+topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	t0 := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339) }
	count := func(result string) float64 {
		return counter(t, reg, "riskmap_mqtt_messages_total", result)
	}
	stored := func() int {
		s, err := st.Readings(ctx, p.ID, t0.Add(-time.Hour), time.Now().Add(time.Hour), monitoring.StepRaw)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// A batch of two, by code and by id; then one reading and an array on the per-point topic.
	send("readings", fmt.Sprintf(`[{"point":%q,"time":%q,"value":1.5},{"point":%d,"time":%q,"value":2}]`, p.Code, at(0), p.ID, at(1)))
	send("points/"+p.Code+"/readings", fmt.Sprintf(`{"time":%q,"value":3}`, at(2)))
	send("points/"+p.Code+"/readings", fmt.Sprintf(`[{"time":%q,"value":4},{"time":%q,"value":5}]`, at(3), at(4)))
	waitFor("5 readings", func() bool { return stored() == 5 })
	// A message is counted after its readings are stored: the last one's count may
	// follow the readings by a moment (CI's race run saw 2 for an instant).
	waitFor("the counters", func() bool { return count(mqttfeed.ResultOK) >= 3 })
	if n := count(mqttfeed.ResultOK); n != 3 {
		t.Errorf("ok messages %v, want 3", n)
	}

	// Garbage on both topics, an unknown point, a value out of the kind's range: counted,
	// and the messages after them are still ingested.
	send("readings", `this is not json`)
	send("points/"+p.Code+"/readings", `{"value":"high"}`)
	send("points/NO-SUCH-POINT/readings", fmt.Sprintf(`{"time":%q,"value":1}`, at(5)))
	send("readings", fmt.Sprintf(`[{"point":"NO-SUCH-POINT","time":%q,"value":1},{"point":%q,"time":%q,"value":6}]`, at(6), p.Code, at(7)))
	send("points/"+p.Code+"/readings", fmt.Sprintf(`{"time":%q,"value":7}`, at(8)))
	waitFor("7 readings", func() bool { return stored() == 7 })
	waitFor("the counters", func() bool { return count(mqttfeed.ResultOK) == 4 })
	if m, r := count(mqttfeed.ResultMalformed), count(mqttfeed.ResultRefused); m != 2 || r != 2 {
		t.Errorf("malformed %v refused %v, want 2 and 2", m, r)
	}
	if n := count(mqttfeed.ResultError); n != 0 {
		t.Errorf("errors %v", n)
	}
	// A red reading opens an alarm through the service.
	send("points/"+p.Code+"/readings", fmt.Sprintf(`{"time":%q,"value":55}`, at(9)))
	waitFor("a red alarm", func() bool {
		as, err := st.FindAlarms(ctx, monitoring.AlarmFilter{PointID: p.ID, Open: true})
		return err == nil && len(as) == 1 && as[0].Level == monitoring.LevelRed
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// counter is the value of the counter name{result=result} in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

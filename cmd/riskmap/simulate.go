package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// riskmap simulate: a stand-in for the sensors of the demo city (issue 17). It reads the
// monitoring points from the store (--db, like the other commands) and streams readings to
// a running server over HTTP (POST /api/v1/readings with a device token) or to its MQTT
// broker (PREFIX/readings): normal noise for every point, and the scenarios
//
//	gas-leak  the first gas point of a gas station (加油加气站) rises to ~1.2× its red
//	          threshold over 30 ticks, holds 30, falls back over 20, then stays normal
//	tailings  the displacement points of the tailings dam (尾矿库) creep over 40 ticks to
//	          just past their yellow threshold and stay there: three agreeing escalate
//	all       both
//
// A tick is --every (1 s), so a gas leak reaches red in about 25 s. Without --token over
// HTTP it creates a device token (scope readings) for the first admin and says so.

type simulateOptions struct {
	URL, Token, MQTT, Prefix string
	Scenario                 string
	// Point is the code of the gas point of the gas leak ("": the first of a gas station).
	Point           string
	Every, Duration time.Duration
	Seed            uint64
}

func (m *Main) simulateFlags(fs *flag.FlagSet, env func(k, def string) string) {
	fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file (taxonomy of monitoring kinds)")
	fs.StringVar(&m.Simulate.URL, "url", "", "server to send readings to over HTTP, e.g. http://127.0.0.1:8080")
	fs.StringVar(&m.Simulate.Token, "token", env("RISKMAP_TOKEN", ""), "API token (scope readings) for --url; without it a device token is created for the first admin")
	fs.StringVar(&m.Simulate.MQTT, "mqtt", "", "MQTT broker to publish readings to instead, e.g. tcp://127.0.0.1:1883 (the server runs with --mqtt)")
	fs.StringVar(&m.Simulate.Prefix, "mqtt-prefix", "riskmap/", "MQTT topic prefix")
	fs.StringVar(&m.Simulate.Scenario, "scenario", "all", "normal, gas-leak, tailings or all")
	fs.StringVar(&m.Simulate.Point, "point", "", "code of the gas point that leaks (default: the first gas point of a gas station)")
	fs.DurationVar(&m.Simulate.Every, "every", time.Second, "time between two rounds of readings (a tick)")
	fs.DurationVar(&m.Simulate.Duration, "duration", 0, "stop after this long (0: until interrupted)")
	fs.Uint64Var(&m.Simulate.Seed, "seed", 1, "random seed of the noise")
}

// Scenario timing, in ticks.
const (
	leakRise, leakHold, leakFall = 30, 30, 20
	creepTicks                   = 40
)

// simPoint is a point being simulated.
type simPoint struct {
	p           *monitoring.Point
	unit        *riskmap.Unit
	label       string  // the kind's Chinese name
	base, noise float64 // normal value and its spread
	lo, hi      float64 // normal values stay inside (below the thresholds)
	min, max    float64 // the kind's range
	role        string  // "", "gas-leak" or "tailings"
	peak        float64 // where the scenario takes it
	level       monitoring.Level
}

// levelOf is the warning level of v against p's thresholds ("" normal).
func levelOf(t monitoring.Thresholds, v float64) monitoring.Level {
	for i := len(monitoring.Levels) - 1; i >= 0; i-- {
		l := monitoring.Levels[i]
		if t.Upper != nil && t.Upper.At(l) != nil && v >= *t.Upper.At(l) {
			return l
		}
		if t.Lower != nil && t.Lower.At(l) != nil && v <= *t.Lower.At(l) {
			return l
		}
	}
	return ""
}

func bound(b *monitoring.Bounds, upper bool) (float64, bool) {
	if b == nil {
		return 0, false
	}
	found, out := false, 0.0
	for _, l := range monitoring.Levels {
		if v := b.At(l); v != nil && (!found || (upper && *v < out) || (!upper && *v > out)) {
			out, found = *v, true
		}
	}
	return out, found
}

func newSimPoint(p *monitoring.Point, u *riskmap.Unit, k *monitoring.Kind) *simPoint {
	sp := &simPoint{p: p, unit: u, label: p.Kind, min: -monitoring.MaxMagnitude, max: monitoring.MaxMagnitude}
	if k != nil {
		sp.label, sp.min, sp.max = k.Label, k.Min, k.Max
	}
	up, hasUp := bound(p.Thresholds.Upper, true)
	low, hasLow := bound(p.Thresholds.Lower, false)
	switch {
	case hasUp && hasLow:
		sp.base = (up + low) / 2
	case hasUp && up > 0:
		sp.base = up * 0.2
	case hasUp:
		sp.base = up - 1
	case hasLow && low > 0:
		sp.base = low * 1.5
	case hasLow:
		sp.base = low + 1
	}
	sp.base = math.Max(sp.min, math.Min(sp.max, sp.base))
	sp.noise = 0.05*math.Abs(sp.base) + 0.01
	sp.lo, sp.hi = sp.min, sp.max
	if hasUp {
		sp.hi = math.Min(sp.hi, up-0.5*sp.noise)
	}
	if hasLow {
		sp.lo = math.Max(sp.lo, low+0.5*sp.noise)
	}
	return sp
}

// value is sp's reading at tick i.
func (sp *simPoint) value(i int, rng *rand.Rand) float64 {
	normal := math.Max(sp.lo, math.Min(sp.hi, sp.base+sp.noise*(2*rng.Float64()-1)))
	var v float64
	switch sp.role {
	case "gas-leak":
		switch {
		case i < leakRise:
			v = sp.base + (sp.peak-sp.base)*float64(i+1)/leakRise
		case i < leakRise+leakHold:
			v = sp.peak + sp.noise*(2*rng.Float64()-1)
		case i < leakRise+leakHold+leakFall:
			v = sp.peak + (sp.base-sp.peak)*float64(i+1-leakRise-leakHold)/leakFall
		default:
			return normal
		}
	case "tailings":
		f := math.Min(1, float64(i+1)/creepTicks)
		v = sp.base + (sp.peak-sp.base)*f + 0.2*sp.noise*rng.Float64()
	default:
		return normal
	}
	return math.Max(sp.min, math.Min(sp.max, math.Round(v*100)/100))
}

// sender sends one round of readings.
type sender interface {
	send(ctx context.Context, batch []byte) (*monitoring.IngestResult, error)
	close()
}

func (m *Main) simulate(ctx context.Context) error {
	o := m.Simulate
	switch o.Scenario {
	case "normal", "gas-leak", "tailings", "all":
	default:
		return fmt.Errorf("--scenario 应为 normal、gas-leak、tailings 或 all，不能是 %q", o.Scenario)
	}
	if (o.URL == "") == (o.MQTT == "") {
		return errors.New("simulate 需要 --url http://服务器地址 或 --mqtt tcp://代理地址 两者之一")
	}
	if o.Every < 10*time.Millisecond {
		return errors.New("--every 不能小于 10ms")
	}
	ms, ok := m.store.(monitoring.Store)
	if !ok {
		return errors.New("此数据库不支持监测预警")
	}
	points, err := ms.Points(ctx, 0)
	if err != nil {
		return err
	}
	if len(points) == 0 {
		return fmt.Errorf("数据库 %s 中没有监测点：请先以 riskmap serve --demo 载入演示城市（含监测点），或用 --db 指向服务器所用的数据库", redact(m.DB))
	}
	sims, err := m.simPoints(ctx, points)
	if err != nil {
		return err
	}
	gas, dam := pickScenarios(sims, o.Scenario, o.Point)
	if o.Point != "" && gas == nil {
		return fmt.Errorf("--point：没有编号为 %q 的监测点（或 --scenario 不含 gas-leak）", o.Point)
	}
	var snd sender
	if o.URL != "" {
		token := o.Token
		if token == "" {
			if token, err = m.deviceToken(ctx); err != nil {
				return err
			}
		}
		snd = &httpSender{url: strings.TrimRight(o.URL, "/") + "/api/v1/readings", token: token, client: &http.Client{Timeout: 30 * time.Second}}
		fmt.Fprintf(m.Stdout, "模拟监测：%d 个监测点，经 HTTP 发往 %s，每 %s 一轮\n", len(sims), o.URL, o.Every)
	} else {
		ms, err := newMQTTSender(ctx, o.MQTT, o.Prefix)
		if err != nil {
			return err
		}
		snd = ms
		fmt.Fprintf(m.Stdout, "模拟监测：%d 个监测点，经 MQTT 发往 %s（主题 %sreadings），每 %s 一轮\n", len(sims), redactURL(o.MQTT), o.Prefix, o.Every)
	}
	defer snd.close()
	if gas != nil {
		fmt.Fprintf(m.Stdout, "情景 燃气泄漏：%s的%s监测点 %s 将升至 %.1f %s\n", gas.unit.Name, gas.label, gas.p.Code, gas.peak, gas.p.UnitOfMeasure)
	} else if o.Scenario == "gas-leak" || o.Scenario == "all" {
		fmt.Fprintln(m.Stdout, "情景 燃气泄漏：没有可燃气体监测点，跳过")
	}
	if len(dam) > 0 {
		codes := make([]string, len(dam))
		for i, sp := range dam {
			codes[i] = sp.p.Code
		}
		fmt.Fprintf(m.Stdout, "情景 尾矿库位移：%s的 %d 个位移监测点（%s）缓慢增大，越过黄色预警阈值\n", dam[0].unit.Name, len(dam), strings.Join(codes, "、"))
	} else if o.Scenario == "tailings" || o.Scenario == "all" {
		fmt.Fprintln(m.Stdout, "情景 尾矿库位移：没有位移监测点，跳过")
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	rng := rand.New(rand.NewPCG(o.Seed, 17))
	tick := time.NewTicker(o.Every)
	defer tick.Stop()
	start := time.Now()
	var sent, accepted, dup, late, refused int
	lastReport := start
	for i := 0; ; i++ {
		now := time.Now().UTC().Truncate(time.Millisecond)
		type item struct {
			Point int64   `json:"point"`
			Time  string  `json:"time"`
			Value float64 `json:"value"`
		}
		batch := make([]item, len(sims))
		for j, sp := range sims {
			v := sp.value(i, rng)
			batch[j] = item{sp.p.ID, now.Format(time.RFC3339Nano), v}
			if sp.role != "" {
				if l := levelOf(sp.p.Thresholds, v); l != sp.level {
					m.reportLevel(time.Since(start), sp, v, l)
					sp.level = l
				}
			}
		}
		body, _ := json.Marshal(batch)
		res, err := snd.send(ctx, body)
		switch {
		case err != nil && ctx.Err() != nil:
		case err != nil:
			var fatal fatalError
			if errors.As(err, &fatal) {
				return err
			}
			fmt.Fprintf(m.Stdout, "[%s] 发送失败：%v（下一轮重试）\n", clock(time.Since(start)), err)
		default:
			sent += len(batch)
			accepted += res.Accepted
			dup += res.Duplicates
			late += res.Late
			refused += len(res.Refused)
			if len(res.Refused) > 0 && refused == len(res.Refused) {
				fmt.Fprintf(m.Stdout, "[%s] 有读数被拒收：%s %s\n", clock(time.Since(start)), res.Refused[0].Field, res.Refused[0].Message)
			}
		}
		if time.Since(lastReport) >= 10*time.Second {
			lastReport = time.Now()
			m.reportTotals(time.Since(start), sent, accepted, dup, late, refused, o.MQTT != "")
		}
		select {
		case <-ctx.Done():
			m.reportTotals(time.Since(start), sent, accepted, dup, late, refused, o.MQTT != "")
			fmt.Fprintln(m.Stdout, "模拟结束")
			return nil
		case <-tick.C:
		}
	}
}

func clock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func (m *Main) reportTotals(d time.Duration, sent, accepted, dup, late, refused int, viaMQTT bool) {
	if viaMQTT {
		fmt.Fprintf(m.Stdout, "[%s] 已发布 %d 条读数\n", clock(d), sent)
		return
	}
	fmt.Fprintf(m.Stdout, "[%s] 已发送 %d 条读数：接受 %d，重复 %d，迟到 %d，拒收 %d\n", clock(d), sent, accepted, dup, late, refused)
}

func (m *Main) reportLevel(d time.Duration, sp *simPoint, v float64, l monitoring.Level) {
	what := "恢复正常"
	if l != "" {
		what = "达到" + l.Label() + "阈值"
		if sp.level != "" && !l.Higher(sp.level) {
			what = "回落到" + l.Label()
		}
	}
	fmt.Fprintf(m.Stdout, "[%s] %s %s %s：%.2f %s，%s\n", clock(d), sp.unit.Name, sp.p.Code, sp.label, v, sp.p.UnitOfMeasure, what)
}

// simPoints are the points with their units, in id order.
func (m *Main) simPoints(ctx context.Context, points []*monitoring.Point) ([]*simPoint, error) {
	sort.Slice(points, func(i, j int) bool { return points[i].ID < points[j].ID })
	units := map[int64]*riskmap.Unit{}
	var out []*simPoint
	for _, p := range points {
		u, ok := units[p.UnitID]
		if !ok {
			got, err := m.store.GetUnit(ctx, p.UnitID)
			if err != nil {
				if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
					continue
				}
				return nil, err
			}
			u, units[p.UnitID] = got, got
		}
		if u.Status == riskmap.StatusRetired {
			continue
		}
		k, _ := m.cfg.Monitoring.Kind(p.Kind)
		out = append(out, newSimPoint(p, u, k))
	}
	if len(out) == 0 {
		return nil, errors.New("没有属于在册风险单元的监测点")
	}
	return out, nil
}

// pickScenarios chooses the points of the scenarios: the first gas point of a gas station
// (else the first gas point) and the displacement points of a tailings dam (else of the
// unit with the most).
func pickScenarios(sims []*simPoint, scenario, point string) (gas *simPoint, dam []*simPoint) {
	if scenario == "gas-leak" || scenario == "all" {
		for _, sp := range sims {
			if point != "" {
				if sp.p.Code == point {
					gas = sp
				}
				continue
			}
			if sp.p.Kind == "gas" && (gas == nil || (sp.unit.SubCategory == "加油加气站" && gas.unit.SubCategory != "加油加气站")) {
				gas = sp
			}
		}
		if gas != nil {
			gas.role = "gas-leak"
			red := 0.0
			if gas.p.Thresholds.Upper != nil {
				for _, l := range monitoring.Levels {
					if v := gas.p.Thresholds.Upper.At(l); v != nil {
						red = *v
					}
				}
			}
			if red <= 0 {
				red = 50
			}
			gas.peak = math.Min(gas.max, red*1.2)
		}
	}
	if scenario == "tailings" || scenario == "all" {
		byUnit := map[int64][]*simPoint{}
		best := int64(0)
		for _, sp := range sims {
			if sp.p.Kind != "displacement" || sp.role != "" {
				continue
			}
			byUnit[sp.unit.ID] = append(byUnit[sp.unit.ID], sp)
			b := byUnit[best]
			switch {
			case best == 0,
				sp.unit.SubCategory == "尾矿库" && (b[0].unit.SubCategory != "尾矿库" || len(byUnit[sp.unit.ID]) > len(b)),
				sp.unit.SubCategory == b[0].unit.SubCategory && len(byUnit[sp.unit.ID]) > len(b):
				best = sp.unit.ID
			}
		}
		dam = byUnit[best]
		for _, sp := range dam {
			sp.role = "tailings"
			yellow, ok := 0.0, false
			if sp.p.Thresholds.Upper != nil && sp.p.Thresholds.Upper.Yellow != nil {
				yellow, ok = *sp.p.Thresholds.Upper.Yellow, true
			} else {
				yellow, ok = bound(sp.p.Thresholds.Upper, true)
			}
			if !ok {
				yellow = sp.base * 3
			}
			sp.peak = math.Min(sp.max, yellow+math.Max(0.05*math.Abs(yellow), 0.5))
		}
	}
	return gas, dam
}

// deviceToken creates a device token (scope readings) for the first admin.
func (m *Main) deviceToken(ctx context.Context) (string, error) {
	users, err := m.store.Users(ctx)
	if err != nil {
		return "", err
	}
	var admin *riskmap.User
	for _, u := range users {
		if u.Role == riskmap.RoleAdmin && !u.Disabled && (admin == nil || u.ID < admin.ID) {
			admin = u
		}
	}
	if admin == nil {
		return "", errors.New("没有可用的管理员账号：请用 --token 给出设备令牌")
	}
	t := &riskmap.APIToken{Name: "riskmap simulate " + time.Now().Format("2006-01-02 15:04"), UserName: admin.Name, Scope: riskmap.TokenScopeReadings}
	secret, err := m.accounts().CreateToken(ctx, nil, t, nil)
	if err != nil {
		return "", fmt.Errorf("创建设备令牌：%v", err)
	}
	m.auditCLI(ctx, "token.create", "token", fmt.Sprint(t.ID), "模拟监测的设备令牌（只能写入读数），代表 "+admin.Name)
	fmt.Fprintf(m.Stdout, "已为管理员 %s 创建设备令牌（只能写入读数）：%s\n下次可用 --token 复用它；不用时请在“用户与令牌”中吊销\n", admin.Name, secret)
	return secret, nil
}

// fatalError stops the simulation: the server refused the token.
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

type httpSender struct {
	url, token string
	client     *http.Client
}

func (h *httpSender) send(ctx context.Context, batch []byte) (*monitoring.IngestResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(batch))
	if err != nil {
		return nil, fatalError{fmt.Sprintf("地址无效：%v", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	res, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("无法连接服务器：%v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if res.StatusCode != http.StatusOK {
		var eb struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &eb)
		msg := fmt.Sprintf("服务器答复 %d：%s", res.StatusCode, eb.Error.Message)
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden || res.StatusCode == http.StatusNotFound {
			return nil, fatalError{msg}
		}
		return nil, errors.New(msg)
	}
	var out monitoring.IngestResult
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("服务器的答复不是读数结果：%v", err)
	}
	return &out, nil
}

func (h *httpSender) close() {}

type mqttSender struct {
	c     mqtt.Client
	topic string
}

func newMQTTSender(ctx context.Context, broker, prefix string) (*mqttSender, error) {
	if _, err := urlOf(broker); err != nil {
		return nil, err
	}
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("riskmap-simulate-%d", time.Now().UnixNano())).
		SetAutoReconnect(true).SetConnectTimeout(10 * time.Second)
	c := mqtt.NewClient(o)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if tok.Error() != nil {
		return nil, fmt.Errorf("无法连接 MQTT %s：%v", redactURL(broker), tok.Error())
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &mqttSender{c: c, topic: prefix + "readings"}, nil
}

func (s *mqttSender) send(ctx context.Context, batch []byte) (*monitoring.IngestResult, error) {
	tok := s.c.Publish(s.topic, 1, false, batch)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if tok.Error() != nil {
		return nil, fmt.Errorf("MQTT 发布失败：%v", tok.Error())
	}
	return &monitoring.IngestResult{}, nil
}

func (s *mqttSender) close() { s.c.Disconnect(250) }

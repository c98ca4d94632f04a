package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"time"

	"riskmap/frontend"
	"riskmap/pkg/basemap"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/hazards"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/postgis"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
	"riskmap/pkg/spatialindex"
)

// ensureAdmin creates the first admin, with a generated password, when there are no users.
func (m *Main) ensureAdmin(ctx context.Context) (string, error) {
	n, err := m.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	// A 姓名 too, so that the people lists and the audit log name it in Chinese.
	return m.createUser(ctx, &riskmap.User{Name: "admin", DisplayName: "系统管理员", Role: riskmap.RoleAdmin}, "", "首次启动：创建第一个管理员，密码自动生成")
}

func (m *Main) serve(ctx context.Context) error {
	if limit := setMemoryLimit(); limit > 0 {
		m.logger.Info("Go memory limit (GOMEMLIMIT unset)", "bytes", limit)
	}
	if m.SeedDemo {
		n, err := m.store.CountUnits(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(m.Stdout, "首次启动：正在载入演示城市澄江市……")
			if err := m.loadDemo(ctx); err != nil {
				return err
			}
		}
	}
	adminPW, err := m.ensureAdmin(ctx)
	if err != nil {
		return fmt.Errorf("创建第一个管理员：%v", err)
	}
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return fmt.Errorf("读取区域：%v", err)
	}
	locate := regiongrade.Locator(regions)
	ix := registerIndex(locate)
	proxies, err := httpapi.ParseTrustedProxies(m.TrustedProxies)
	if err != nil {
		return err
	}
	// Every replica signs device cookies with the store's key, so a browser proven on one
	// is proven on all.
	deviceKey, err := m.store.ServerSecret(ctx, "device-cookie")
	if err != nil {
		return fmt.Errorf("读取设备 Cookie 密钥：%v", err)
	}
	bm, err := m.openBasemap(ctx)
	if err != nil {
		return err
	}
	if bm != nil {
		defer bm.Close()
	}
	svc := m.service()
	svc.Locate = regiongrade.Containing(regions) // a department places units inside its regions
	svc.Index = ix                               // every write reaches the index before its response
	hz, err := m.hazards(ctx, regions)
	if err != nil {
		return err
	}
	// The spatial analyses (issue 16): the engine hears every unit write from the index
	// (registered before it loads) and gives the register each unit's conflict conditions.
	eng := m.newAnalysis(regions, ix, svc)
	// Protective targets and shelters (issue 16): in memory from the start, written through
	// their service, whose writes reach the engine (and the conflict conditions of the units
	// a target's write concerns) before they are answered.
	sitesSvc := sites.New(m.store, m.cfg.Analysis, regions)
	svc.City = sitesSvc.Bound // units, like sites, lie in the city (its regions grown by 20 km)
	sitesSvc.OnTarget = m.targetListener(eng, svc)
	sitesSvc.OnShelter = eng.ShelterChanged
	if err := sitesSvc.Load(ctx); err != nil {
		return fmt.Errorf("载入防护目标与避难场所：%v", err)
	}
	// Monitoring (issue 17): made now for the server, loaded once the index has (its units
	// come from the index).
	m.monitoring = m.newMonitoring(ix, svc)
	// With a hot standby (--read-db) the index loads and follows from it (below), and
	// /readyz says how far it lags.
	ps, replicated := m.store.(*postgis.Store)
	var standby *standbyReads
	var standbyLag func(context.Context) (int64, error)
	if replicated && m.standby != nil {
		standby = &standbyReads{Store: ps, standby: m.standby, wait: standbyWait}
		standbyLag = standby.lag
	}
	pub := m.publisher(regions, ix)
	if standby != nil {
		// The public index too loads and follows from the standby, where it holds the
		// publication read.
		pub.Store = standbyPublications{Store: pub.Store, standby: m.standby}
	}
	srv := httpapi.New(httpapi.Config{Store: m.store, StandbyLag: standbyLag, Units: svc, Index: ix, Publisher: pub, Hazards: hz, Sites: sitesSvc, Analysis: eng,
		Monitoring: m.monitoring,
		Catalog:    m.cfg.Catalog, Grader: m.cfg.Grader, RegionRule: m.cfg.RegionRule, Regions: regions, Logger: m.logger,
		Assets: assets(), TiandituKey: m.TiandituKey, Contact: m.cfg.Publisher, Tips: m.cfg.PublicTips, Basemap: basemapOf(bm), PublicURL: m.PublicURL, Timeouts: m.Timeouts, DeviceKey: deviceKey,
		ReportFont: m.ReportFont,
		Auth: httpapi.AuthConfig{SessionIdle: m.SessionIdle, SessionMax: m.SessionMax, TrustedProxies: proxies,
			LoginWindow: m.LoginWindow, LoginFailuresPerAccount: m.LoginPerAccount, LoginFailuresPerAddr: m.LoginPerAddress}})
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return fmt.Errorf("无法监听 %s：%v", m.Listen, err)
	}
	m.Addr = ln.Addr()
	hs := srv.HTTPServer(slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn))
	where := m.DB
	if !isPostgres(where) {
		if abs, err := filepath.Abs(where); err == nil {
			where = abs
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(httpapi.Listener(ln)) }()
	// The server answers /healthz (and /readyz with 503) while the index loads.
	start := time.Now()
	// With PostGIS, other replicas may write while the indexes load: note where the load
	// starts so that following them begins there.
	var mark int64
	var reads followStore = ps
	units := m.store.Units
	if replicated {
		if mark, err = ps.ChangeMark(ctx); err != nil {
			hs.Close()
			return fmt.Errorf("读取变更标记：%v", err)
		}
		if standby != nil {
			// The index loads and follows from the hot standby, once it has replayed what
			// the primary had written at the mark.
			reads, units = standby, standby.Units
		}
	}
	restoreGC := collectLess()
	n, err := ix.Load(ctx, units(ctx))
	if err == nil {
		err = srv.LoadPublication(ctx)
	}
	restoreGC()
	// What the load let the heap grow to goes back to the system, off the start's path.
	go debug.FreeOSMemory()
	if err == nil {
		// Every conflict, from the index as loaded; then the stored conflict conditions
		// brought in line with them.
		err = m.startAnalysis(ctx, eng, ix, svc, sitesSvc.Targets().All(), sitesSvc.Shelters().All())
	}
	if err != nil {
		hs.Close()
		if ctx.Err() != nil {
			return nil // stopped (SIGTERM, Ctrl-C) while loading: not a failure
		}
		return fmt.Errorf("载入空间索引：%v", err)
	}
	m.logger.Info("spatial index loaded", "units", n, "seconds", time.Since(start).Seconds())
	monitored, err := m.startMonitoring(ctx, m.monitoring, svc)
	if err != nil {
		hs.Close()
		return err
	}
	followed := make(chan struct{})
	if replicated {
		// Other replicas write to the same database: follow their changes.
		go func() {
			defer close(followed)
			defer m.syncSites(ctx, sitesSvc)() // the targets and shelters other replicas write
			m.follow(ctx, reads, ix, svc, srv, mark)
		}()
	} else {
		close(followed)
	}
	expireCtx, stopExpiring := context.WithCancel(ctx)
	expired := make(chan struct{})
	go func() {
		defer close(expired)
		m.expireSessions(expireCtx)
	}()
	defer func() { stopExpiring(); <-expired }() // the store closes after serve returns
	// Readings from an MQTT broker (--mqtt, mqtt.go), once the monitoring service has loaded.
	stopMQTT, err := m.startMQTT(ctx, m.monitoring, srv.Registry())
	if err != nil {
		hs.Close()
		return err
	}
	defer stopMQTT()
	fmt.Fprintf(m.Stdout, "riskmap 已启动：http://%s/（数据：%s，%d 个风险单元）\n", m.Addr, redact(where), n)
	if adminPW != "" {
		fmt.Fprintf(m.Stdout, "首次启动：请以 admin 登录，密码 %s（仅显示这一次；用 \"riskmap user add\" 添加用户）\n", adminPW)
	}
	close(m.Ready)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	stopMQTT() // before the monitoring service stops
	// The counts of folded refusals are written before the store closes.
	if err := srv.FlushAudit(shutdownCtx); err != nil {
		m.logger.Error("writing the audit log at shutdown", "err", err)
	}
	<-followed  // ctx is done, so the follower is stopping; the store closes after it
	<-monitored // and so is the monitoring service
	fmt.Fprintln(m.Stdout, "riskmap 已停止")
	return nil
}

// openBasemap opens the offline basemap of --basemap (or the config's basemap.mbtiles);
// nil without one.
func (m *Main) openBasemap(ctx context.Context) (*basemap.MBTiles, error) {
	path := m.Basemap
	if path == "" && m.cfg != nil {
		path = m.cfg.BasemapPath
	}
	if path == "" {
		return nil, nil
	}
	bm, err := basemap.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	m.logger.Info("offline basemap", "file", bm.Path, "format", bm.Format, "minzoom", bm.MinZoom, "maxzoom", bm.MaxZoom)
	return bm, nil
}

// mbtilesBasemap is an MBTiles file as the server's basemap.
type mbtilesBasemap struct{ *basemap.MBTiles }

func (b mbtilesBasemap) Get(ctx context.Context, z, x, y string) (*httpapi.BasemapTile, error) {
	t, err := b.MBTiles.Get(ctx, z, x, y)
	if err != nil {
		return nil, err
	}
	return &httpapi.BasemapTile{Data: t.Data, ContentType: t.ContentType, Encoding: t.Encoding, ETag: t.ETag}, nil
}

func (b mbtilesBasemap) Extension() string { return b.Ext }

// basemapOf is bm as the server takes it: a nil interface for none.
func basemapOf(bm *basemap.MBTiles) httpapi.Basemap {
	if bm == nil {
		return nil
	}
	return mbtilesBasemap{bm}
}

// assets is the built front end embedded in the binary.
func assets() fs.FS {
	sub, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return nil
	}
	return sub
}

// expireSessions removes ended sessions now and then; they are refused anyway, this only
// keeps the table small.
func (m *Main) expireSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := m.store.DeleteExpiredSessions(ctx, time.Now().UTC(), m.SessionIdle); err != nil && ctx.Err() == nil {
			m.logger.Warn("removing expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// hazards is the service of hidden dangers and public reports over the store (both stores
// keep them); its writes reach the index through the register service, which the server
// gives it.
func (m *Main) hazards(ctx context.Context, regions []*riskmap.Region) (*hazards.Service, error) {
	hs, ok := m.store.(hazards.Store)
	if !ok {
		return nil, nil
	}
	// The hash of a reporter's address is keyed alike on every replica.
	key, err := m.store.ServerSecret(ctx, "report-client")
	if err != nil {
		return nil, fmt.Errorf("读取举报密钥：%v", err)
	}
	return &hazards.Service{Store: hs, Dynamics: m.cfg.Grader.Dynamics, Units: m.store, Catalog: m.cfg.Catalog,
		Locate: regiongrade.Containing(regions), ClientKey: key,
		Limiter: hazards.NewLimiter(hazards.ReportsPerMinute, hazards.ReportsPerDay)}, nil
}

// registerIndex is the register's index as serve keeps it: its documents kept without the
// head the facts say (SetHead), and brought to each new day in China by the clock they are
// written with (SetRedater, featurejson.Now: review_state, review_overdue and
// reidentify_overdue change with the day, not with the unit).
func registerIndex(locate spatialindex.Locator) *spatialindex.Index {
	ix := spatialindex.New(featurejson.Encoder(), locate)
	ix.SetHead(spatialindex.Head{Write: featurejson.AppendFeatureHead, Len: featurejson.FeatureHeadLen})
	ix.SetRedater(featurejson.Redate, func() time.Time { return featurejson.Now() })
	return ix
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"riskmap/geodata"
	"riskmap/pkg/accounts"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/postgis"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
)

// Run executes the command.
func (m *Main) Run(ctx context.Context) error {
	m.logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := config.Load(m.ConfigPath)
	if err != nil {
		return err
	}
	m.cfg = cfg
	if err := m.openStore(ctx); err != nil {
		return err
	}
	switch m.Command {
	case "migrate":
		fmt.Fprintln(m.Stdout, "数据库结构已是最新")
		return nil
	case "seed":
		if m.Demo {
			return m.seedDemo(ctx)
		}
		return m.seedSynthetic(ctx)
	case "user add":
		return m.userAdd(ctx)
	case "regrade":
		return m.regrade(ctx)
	case "publish":
		p, err := m.publish(ctx, "", m.Note)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "已发布第 %d 期：%d 个已审核的风险单元\n", p.Number, p.UnitCount)
		return nil
	case "serve":
		return m.serve(ctx)
	case "export":
		return m.export(ctx)
	case "import":
		return m.importFile(ctx)
	case "simulate":
		return m.simulate(ctx)
	}
	return fmt.Errorf("未知命令 %q", m.Command)
}

// Close releases the store.
func (m *Main) Close() error {
	if m.standby != nil {
		m.standby.Close()
		m.standby = nil
	}
	if m.store != nil {
		err := m.store.Close()
		m.store = nil
		return err
	}
	return nil
}

// isPostgres reports whether dsn names a PostgreSQL database rather than a file.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func (m *Main) openStore(ctx context.Context) error {
	var err error
	if isPostgres(m.DB) {
		var s *postgis.Store
		s, err = postgis.Open(ctx, m.DB)
		if err == nil {
			m.store = s
		}
	} else {
		var s *gpkg.Store
		s, err = gpkg.Open(ctx, m.DB)
		if err == nil {
			m.store = s
		}
	}
	if err != nil {
		return fmt.Errorf("无法打开数据库 %s：%v", redact(m.DB), err)
	}
	if err := m.store.Migrate(ctx); err != nil {
		return fmt.Errorf("无法升级数据库结构 %s：%v", redact(m.DB), err)
	}
	if m.ReadDB != "" {
		if !isPostgres(m.DB) || !isPostgres(m.ReadDB) {
			return fmt.Errorf("--read-db 是 PostGIS 热备库的 postgres:// 地址，且 --db 也须是 PostGIS")
		}
		if m.standby, err = postgis.Open(ctx, m.ReadDB); err != nil {
			return fmt.Errorf("无法打开热备库 %s：%v", redact(m.ReadDB), err)
		}
	}
	return nil
}

// redact hides the password of a DSN so that it never reaches a log or terminal.
func redact(dsn string) string {
	if !isPostgres(dsn) {
		return dsn
	}
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://") + 3
	if at < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme:at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

func (m *Main) service() *register.Service {
	return register.New(m.store, m.cfg.Grader, m.cfg.Catalog)
}

// progress prints a line at most every two seconds while a long job runs.
type progress struct {
	w     io.Writer
	what  string
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, what string, total int) *progress {
	now := time.Now()
	return &progress{w: w, what: what, total: total, start: now, last: now}
}

func (p *progress) report(n int) {
	now := time.Now()
	if now.Sub(p.last) < 2*time.Second {
		return
	}
	p.last = now
	rate := float64(n) / now.Sub(p.start).Seconds()
	if p.total > 0 {
		fmt.Fprintf(p.w, "%s：%d/%d（%.0f%%，每秒 %.0f 个）\n", p.what, n, p.total, 100*float64(n)/float64(p.total), rate)
	} else {
		fmt.Fprintf(p.w, "%s：%d（每秒 %.0f 个）\n", p.what, n, rate)
	}
}

func (m *Main) seedDemo(ctx context.Context) error {
	n, err := m.store.CountUnits(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("数据库中已有 %d 个风险单元；演示城市只载入空的数据库", n)
	}
	return m.loadDemo(ctx)
}

// loadDemo loads the demo city and publishes its approved units.
func (m *Main) loadDemo(ctx context.Context) error {
	start := time.Now()
	n, err := demo.Load(ctx, geodata.FS, m.store, m.service())
	if err != nil {
		return err
	}
	m.auditCLI(ctx, "unit.bulk_create", "", "", fmt.Sprintf("演示城市：%d 个风险单元", n.Units))
	fmt.Fprintf(m.Stdout, "已载入演示城市澄江市：%d 个区域、%d 个风险单元、%d 个防护目标、%d 个避难场所，用时 %.1f 秒\n",
		n.Regions, n.Units, n.Targets, n.Shelters, time.Since(start).Seconds())
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return err
	}
	// The conflicts of its hazardous units with its schools and hospitals raise their
	// grades before the first publication, as a server's start would.
	if err := m.storeConflicts(ctx, regions); err != nil {
		return err
	}
	// Its hidden dangers, each taken through the closed loop as the day of loading finds it,
	// before the first publication: the units they raise are published at their current grade.
	if hz, err := m.hazards(ctx, regions); err != nil {
		return err
	} else if hz != nil {
		k, err := demo.LoadHazards(ctx, m.store, hz, time.Now(), demo.HazardsOptions{})
		if err != nil {
			return fmt.Errorf("载入演示隐患：%v", err)
		}
		m.auditCLI(ctx, "hazard.create", "", "", fmt.Sprintf("演示城市：%d 条隐患", k))
		fmt.Fprintf(m.Stdout, "已载入演示城市的 %d 条隐患\n", k)
	}
	// Its monitoring points (issue 17), which the simulator (riskmap simulate) feeds.
	if st, ok := m.store.(monitoring.Store); ok {
		k, err := demo.LoadMonitoring(ctx, m.store, st, &m.cfg.Monitoring)
		if err != nil {
			return fmt.Errorf("载入演示监测点：%v", err)
		}
		m.auditCLI(ctx, "point.create", "", "", fmt.Sprintf("演示城市：%d 个监测点", k))
		fmt.Fprintf(m.Stdout, "已载入演示城市的 %d 个监测点\n", k)
	}
	// The public map shows publications only: publish the demo city's approved units.
	if _, err := m.store.LatestPublication(ctx); riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		p, err := m.publish(ctx, "riskmap "+m.Command+" --demo", "演示城市首期发布")
		if err != nil {
			return fmt.Errorf("发布演示城市：%v", err)
		}
		fmt.Fprintf(m.Stdout, "演示城市已发布为第 %d 期（%d 个已审核的风险单元）\n", p.Number, p.UnitCount)
	} else if err != nil {
		return err
	}
	return nil
}

// publish freezes the approved register and its regional grades into a new publication.
func (m *Main) publish(ctx context.Context, by, note string) (*riskmap.Publication, error) {
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return nil, err
	}
	p := &riskmap.Publication{CreatedBy: by, Note: note}
	if by == "" {
		p.CreatedBy = "riskmap publish"
	}
	if _, err := m.publisher(regions, nil).Publish(ctx, p, nil); err != nil {
		return nil, err
	}
	m.auditCLI(ctx, "publication.create", "publication", strconv.FormatInt(p.Number, 10), strings.TrimSuffix(fmt.Sprintf("%d 个风险单元；%s", p.UnitCount, note), "；"))
	return p, nil
}

// publisher is the publishing service of the store, the same for serve and publish; its
// public indexes share what they can with the register's index share (nil: none).
func (m *Main) publisher(regions []*riskmap.Region, share *spatialindex.Index) *publishing.Service {
	return publishing.New(m.store, regiongrade.Prepare(regions), m.cfg.RegionRule, m.publicIndex(regions, share))
}

// auditCLI records a write made from the command line in the audit log. The actor is the
// operating-system account that ran it.
func (m *Main) auditCLI(ctx context.Context, action, targetType, targetID, detail string) {
	if err := m.store.AppendAudit(ctx, m.cliAudit(action, targetType, targetID, detail)); err != nil {
		m.logger.Warn("writing the audit log", "action", action, "err", err)
	}
}

// cliAudit is the audit row of a write made from the command line.
func (m *Main) cliAudit(action, targetType, targetID, detail string) *riskmap.AuditEntry {
	who := m.Getenv("USER")
	if who == "" {
		who = "cli"
	}
	return &riskmap.AuditEntry{At: time.Now().UTC(), Actor: "cli:" + who, Role: "cli", Action: action, Outcome: riskmap.OutcomeOK,
		Method: "CLI", Path: "riskmap " + m.Command, TargetType: targetType, TargetID: targetID, Detail: detail}
}

// accounts is the users' service, the same as the API's: the same checks of the password
// and the user, and the audit row in the user's transaction.
func (m *Main) accounts() *accounts.Service {
	return &accounts.Service{Store: m.store, Catalog: m.cfg.Catalog}
}

// createUser creates u through the accounts service with the password pw ("" generates
// one), recording detail in the audit log, and returns the password.
func (m *Main) createUser(ctx context.Context, u *riskmap.User, pw, detail string) (string, error) {
	return m.accounts().Create(ctx, u, &pw, func(ch accounts.Change) (*riskmap.WriteRecords, error) {
		return &riskmap.WriteRecords{Audit: m.cliAudit("user.create", "user", ch.After.Name, detail)}, nil
	})
}

// publicIndex makes empty indexes for the public view, which keep a unit unchanged since its
// publication once for both audiences when share, the register's index, is not nil
// (spatialindex.Index.ShareWith).
func (m *Main) publicIndex(regions []*riskmap.Region, share *spatialindex.Index) func() *spatialindex.Index {
	locate := regiongrade.Locator(regions)
	write := featurejson.PublicWriter(m.cfg.Catalog, regions)
	return func() *spatialindex.Index {
		ix := spatialindex.NewPublic(write, locate)
		if share != nil {
			ix.ShareWith(share)
		}
		return ix
	}
}

func (m *Main) seedSynthetic(ctx context.Context) error {
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		return fmt.Errorf("演示城市的区域：%v", err)
	}
	gen, err := synth.New(regions, m.cfg.Catalog, m.cfg.Grader)
	if err != nil {
		return fmt.Errorf("合成风险单元：%v", err)
	}
	p := newProgress(m.Stderr, "写入合成风险单元", m.Synthetic)
	start := time.Now()
	n, err := m.service().BulkCreate(ctx, gen.Units(m.Seed, m.Synthetic), p.report)
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			return fmt.Errorf("%s；合成单元的编号含有种子，请换一个 --seed 再载入", riskmap.ErrorMessage(err))
		}
		return err
	}
	d := time.Since(start)
	m.auditCLI(ctx, "unit.bulk_create", "", "", fmt.Sprintf("合成数据：%d 个风险单元，种子 %d", n, m.Seed))
	fmt.Fprintf(m.Stdout, "已添加 %d 个合成风险单元（种子 %d），用时 %.1f 秒（每秒 %.0f 个）\n", n, m.Seed, d.Seconds(), float64(n)/d.Seconds())
	return nil
}

func (m *Main) userAdd(ctx context.Context) error {
	pw := ""
	if m.PasswordStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("读取密码：%v", err)
		}
		if pw = strings.TrimRight(line, "\r\n"); pw == "" {
			return errors.New("--password-stdin：密码为空")
		}
	}
	u := &riskmap.User{Name: m.UserName, Role: m.Role, Department: m.Department,
		Categories: httpapi.SplitList(m.Categories), Regions: httpapi.SplitList(m.Regions),
		DisplayName: m.DisplayName, Organisation: m.Organisation, Phone: m.Phone}
	got, err := m.createUser(ctx, u, pw, "角色 "+u.Role)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "已创建用户 %s（%s）%s\n", u.Name, u.Role, personIfNamed(u))
	if pw == "" {
		fmt.Fprintf(m.Stdout, "初始密码：%s\n", got)
	}
	return nil
}

// personIfNamed is "：姓名（单位）" for a user given a name, "" otherwise.
func personIfNamed(u *riskmap.User) string {
	if u.PersonLabel() == u.Name {
		return ""
	}
	return "：" + u.PersonLabel()
}

func (m *Main) regrade(ctx context.Context) error {
	res, err := m.service().Regrade(ctx, func(r register.RegradeResult) {
		fmt.Fprintf(m.Stderr, "重新定级：已复核 %d 个，%d 个有变化\n", r.Checked, r.Changed)
	})
	if err != nil {
		return err
	}
	m.auditCLI(ctx, "unit.regrade", "", "", fmt.Sprintf("复核 %d 个单元，%d 个等级或说明有变化", res.Checked, res.Changed))
	fmt.Fprintf(m.Stdout, "重新定级完成：复核 %d 个风险单元，%d 个的等级或说明有变化\n", res.Checked, res.Changed)
	return nil
}

// oneLine keeps an error to one line for the terminal.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

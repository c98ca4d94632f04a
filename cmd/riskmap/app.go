package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"riskmap/frontend"
	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/password"
	"riskmap/pkg/postgis"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
)

// DefaultDB is the embedded store used when no --db or RISKMAP_DB is given.
const DefaultDB = "./data/riskmap.gpkg"

var errHelp = errors.New("help requested")

// Main is the program: ParseFlags reads the command line, Run does the work and Close
// releases what Run opened. End-to-end tests drive it in-process with --listen 127.0.0.1:0.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	Command    string
	DB         string
	Listen     string
	ConfigPath string

	SeedDemo    bool // serve --demo: load the demo city into an empty store
	TiandituKey string
	Demo        bool
	Synthetic   int
	Seed        int64

	UserName, Role, Categories, Regions, Department string
	PasswordStdin                                   bool

	// serve: sessions and the proxies whose X-Forwarded-For is believed.
	TrustedProxies string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	// serve: where clients reach the server (links), how long they may take, and the
	// login limits.
	PublicURL       string
	Timeouts        httpapi.Timeouts
	LoginWindow     time.Duration
	LoginPerAccount int
	LoginPerAddress int
	// publish: the publication's note.
	Note string

	// Ready is closed once serve listens; Addr is then its address.
	Ready chan struct{}
	Addr  net.Addr

	cfg    *config.Config
	store  riskmap.Store
	logger *slog.Logger
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Ready: make(chan struct{})}
}

const usage = `riskmap — urban safety risk register and four-colour risk map (城市安全风险清单与四色图)

Usage:
  riskmap serve    [--listen ADDR] [--db DSN] [--config FILE] [--demo] [--public-url URL]
  riskmap migrate  [--db DSN]
  riskmap seed     [--db DSN] --demo
  riskmap seed     [--db DSN] --synthetic N [--seed S]
  riskmap user add [--db DSN] --name NAME --role admin|expert|department
                   [--department NAME] [--categories c1,c2] [--regions r1,r2] [--password-stdin]
  riskmap regrade  [--db DSN] [--config FILE]
  riskmap publish  [--db DSN] [--note TEXT]

--db is a postgres:// URL (PostGIS) or the path of a GeoPackage file, created if missing
(default ` + DefaultDB + `, env RISKMAP_DB). --listen defaults to 127.0.0.1:8080 (env
RISKMAP_LISTEN); --config to the built-in thresholds and taxonomy (env RISKMAP_CONFIG).
Run "riskmap COMMAND -h" for a command's flags.
`

// ParseFlags reads the command and its flags.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, usage)
		if len(args) == 0 {
			return errors.New("no command given; see riskmap --help")
		}
		return errHelp
	}
	m.Command, args = args[0], args[1:]
	if m.Command == "user" {
		if len(args) == 0 || args[0] != "add" {
			return errors.New(`unknown "user" command; use "riskmap user add"`)
		}
		m.Command, args = "user add", args[1:]
	}
	fs := flag.NewFlagSet("riskmap "+m.Command, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	env := func(k, def string) string {
		if v := m.Getenv(k); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&m.DB, "db", env("RISKMAP_DB", DefaultDB), "postgres:// DSN or GeoPackage file path")
	switch m.Command {
	case "serve":
		fs.StringVar(&m.Listen, "listen", env("RISKMAP_LISTEN", "127.0.0.1:8080"), "address to listen on")
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file (grading, colours, taxonomy)")
		fs.BoolVar(&m.SeedDemo, "demo", false, "load the demo city on first start, when the store is empty")
		fs.StringVar(&m.TiandituKey, "tianditu-key", env("RISKMAP_TIANDITU_KEY", ""), "天地图 browser key for its basemaps (optional)")
		fs.StringVar(&m.TrustedProxies, "trusted-proxy", env("RISKMAP_TRUSTED_PROXIES", ""),
			"comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (default: none; the socket's address is the client's)")
		fs.DurationVar(&m.SessionIdle, "session-idle", 30*time.Minute, "a session ends this long after its last request")
		fs.DurationVar(&m.SessionMax, "session-max", 12*time.Hour, "a session ends this long after login")
		fs.StringVar(&m.PublicURL, "public-url", env("RISKMAP_PUBLIC_URL", ""),
			"where clients reach the server, e.g. https://riskmap.example.gov.cn (links in OGC API, TileJSON and next pages)")
		fs.DurationVar(&m.Timeouts.Header, "header-timeout", 10*time.Second, "time a client has to send its request headers")
		fs.DurationVar(&m.Timeouts.Body, "body-timeout", 30*time.Second, "time a client has to send a JSON request body")
		fs.DurationVar(&m.Timeouts.Write, "write-timeout", 2*time.Minute, "time a client has to read a response")
		fs.DurationVar(&m.Timeouts.Idle, "idle-timeout", 2*time.Minute, "a keep-alive connection without a request is closed after this")
		fs.DurationVar(&m.LoginWindow, "login-window", 15*time.Minute, "the window in which failed logins are counted")
		fs.IntVar(&m.LoginPerAccount, "login-failures-per-account", 5, "failed logins for one account within the window before 429")
		fs.IntVar(&m.LoginPerAddress, "login-failures-per-address", 20,
			"failed logins from one client address within the window before 429 (browsers that logged in to the account before are exempt)")
	case "publish":
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file")
		fs.StringVar(&m.Note, "note", "", "what this publication is (发布说明)")
	case "migrate":
	case "seed":
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file")
		fs.BoolVar(&m.Demo, "demo", false, "load the demo city (澄江市) from geodata/")
		fs.IntVar(&m.Synthetic, "synthetic", 0, "add N synthetic units")
		fs.Int64Var(&m.Seed, "seed", 1, "random seed of --synthetic (same seed, same units)")
	case "user add":
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file")
		fs.StringVar(&m.UserName, "name", "", "login name")
		fs.StringVar(&m.Role, "role", "", "admin, expert or department")
		fs.StringVar(&m.Department, "department", "", "department name, e.g. 住建局")
		fs.StringVar(&m.Categories, "categories", "", "comma-separated category codes (department scope)")
		fs.StringVar(&m.Regions, "regions", "", "comma-separated region-code prefixes (department scope)")
		fs.BoolVar(&m.PasswordStdin, "password-stdin", false, "read the password from standard input; otherwise one is generated and printed")
	case "regrade":
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file with the new thresholds")
	default:
		return fmt.Errorf("unknown command %q; see riskmap --help", m.Command)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if m.Command == "serve" {
		u, err := httpapi.ParsePublicURL(m.PublicURL)
		if err != nil {
			return err
		}
		m.PublicURL = u
	}
	if m.Command == "seed" && m.Demo == (m.Synthetic > 0) {
		return errors.New("seed needs exactly one of --demo or --synthetic N (N > 0)")
	}
	if m.Command == "seed" && m.Synthetic < 0 {
		return errors.New("--synthetic must be a positive count")
	}
	return nil
}

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
		fmt.Fprintln(m.Stdout, "schema is up to date")
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
		fmt.Fprintf(m.Stdout, "publication %d: %d approved units\n", p.Number, p.UnitCount)
		return nil
	case "serve":
		return m.serve(ctx)
	}
	return fmt.Errorf("unknown command %q", m.Command)
}

// Close releases the store.
func (m *Main) Close() error {
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
		return fmt.Errorf("cannot open the store %s: %v", redact(m.DB), err)
	}
	if err := m.store.Migrate(ctx); err != nil {
		return fmt.Errorf("cannot migrate the store %s: %v", redact(m.DB), err)
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
		fmt.Fprintf(p.w, "%s: %d/%d (%.0f%%, %.0f/s)\n", p.what, n, p.total, 100*float64(n)/float64(p.total), rate)
	} else {
		fmt.Fprintf(p.w, "%s: %d (%.0f/s)\n", p.what, n, rate)
	}
}

func (m *Main) seedDemo(ctx context.Context) error {
	n, err := m.store.CountUnits(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the store already holds %d units; the demo city loads only into an empty store", n)
	}
	return m.loadDemo(ctx)
}

// loadDemo loads the demo city: regions, units, protective targets and shelters.
func (m *Main) loadDemo(ctx context.Context) error {
	start := time.Now()
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		return fmt.Errorf("demo regions: %v", err)
	}
	if err := m.store.PutRegions(ctx, regions); err != nil {
		return fmt.Errorf("demo regions: %v", err)
	}
	targets, err := demo.LoadTargets(geodata.FS)
	if err != nil {
		return fmt.Errorf("demo protective targets: %v", err)
	}
	if err := m.store.AddProtectiveTargets(ctx, targets); err != nil {
		return fmt.Errorf("demo protective targets: %v", err)
	}
	shelters, err := demo.LoadShelters(geodata.FS)
	if err != nil {
		return fmt.Errorf("demo shelters: %v", err)
	}
	if err := m.store.AddShelters(ctx, shelters); err != nil {
		return fmt.Errorf("demo shelters: %v", err)
	}
	f, err := geodata.FS.Open("units.geojson")
	if err != nil {
		return err
	}
	defer f.Close()
	var decodeErr error
	units := func(yield func(*riskmap.Unit) bool) {
		for u, err := range featurejson.DecodeUnits(bufio.NewReaderSize(f, 1<<16)) {
			if err != nil {
				decodeErr = err
				return
			}
			if !yield(u) {
				return
			}
		}
	}
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, err := m.service().BulkCreate(loadCtx, func(yield func(*riskmap.Unit) bool) {
		units(yield)
		if decodeErr != nil {
			cancel()
		}
	}, nil)
	if decodeErr != nil {
		return fmt.Errorf("demo units: %v", riskmap.ErrorMessage(decodeErr))
	}
	if err != nil {
		return fmt.Errorf("demo units: %v", riskmap.ErrorMessage(err))
	}
	m.auditCLI(ctx, "unit.bulk_create", "", "", fmt.Sprintf("demo city: %d units", n))
	fmt.Fprintf(m.Stdout, "loaded the demo city 澄江市: %d regions, %d units, %d protective targets, %d shelters in %.1fs\n",
		len(regions), n, len(targets), len(shelters), time.Since(start).Seconds())
	// The public map shows publications only: publish the demo city's approved units.
	if _, err := m.store.LatestPublication(ctx); riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		p, err := m.publish(ctx, "riskmap "+m.Command+" --demo", "演示城市首期发布")
		if err != nil {
			return fmt.Errorf("publishing the demo city: %v", err)
		}
		fmt.Fprintf(m.Stdout, "published the demo city as publication %d (%d approved units)\n", p.Number, p.UnitCount)
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
	if _, err := m.publisher(regions).Publish(ctx, p, nil); err != nil {
		return nil, err
	}
	m.auditCLI(ctx, "publication.create", "publication", strconv.FormatInt(p.Number, 10), fmt.Sprintf("%d units; %s", p.UnitCount, note))
	return p, nil
}

// publisher is the publishing service of the store, the same for serve and publish.
func (m *Main) publisher(regions []*riskmap.Region) *publishing.Service {
	return publishing.New(m.store, regiongrade.Prepare(regions), m.cfg.RegionRule, m.publicIndex(regions))
}

// auditCLI records a write made from the command line in the audit log. The actor is the
// operating-system account that ran it.
func (m *Main) auditCLI(ctx context.Context, action, targetType, targetID, detail string) {
	who := m.Getenv("USER")
	if who == "" {
		who = "cli"
	}
	e := &riskmap.AuditEntry{At: time.Now().UTC(), Actor: "cli:" + who, Role: "cli", Action: action, Outcome: riskmap.OutcomeOK,
		Method: "CLI", Path: "riskmap " + m.Command, TargetType: targetType, TargetID: targetID, Detail: detail}
	if err := m.store.AppendAudit(ctx, e); err != nil {
		m.logger.Warn("writing the audit log", "action", action, "err", err)
	}
}

// publicIndex makes empty indexes for the public view.
func (m *Main) publicIndex(regions []*riskmap.Region) func() *spatialindex.Index {
	locate := regiongrade.Locator(regions)
	enc := publicEncoder(m.cfg.Catalog, regions)
	return func() *spatialindex.Index { return spatialindex.NewPublic(enc, locate) }
}

func (m *Main) seedSynthetic(ctx context.Context) error {
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		return fmt.Errorf("demo regions: %v", err)
	}
	gen, err := synth.New(regions, m.cfg.Catalog, m.cfg.Grader)
	if err != nil {
		return fmt.Errorf("synthetic units: %v", err)
	}
	p := newProgress(m.Stderr, "synthetic units", m.Synthetic)
	start := time.Now()
	n, err := m.service().BulkCreate(ctx, gen.Units(m.Seed, m.Synthetic), p.report)
	if err != nil {
		if riskmap.ErrorCode(err) == riskmap.ECONFLICT {
			return fmt.Errorf("%s; synthetic codes include the seed, so load again with another --seed", riskmap.ErrorMessage(err))
		}
		return err
	}
	d := time.Since(start)
	m.auditCLI(ctx, "unit.bulk_create", "", "", fmt.Sprintf("synthetic: %d units, seed %d", n, m.Seed))
	fmt.Fprintf(m.Stdout, "added %d synthetic units (seed %d) in %.1fs (%.0f units/s)\n", n, m.Seed, d.Seconds(), float64(n)/d.Seconds())
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (m *Main) userAdd(ctx context.Context) error {
	pw := ""
	generated := false
	if m.PasswordStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the password: %v", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	} else {
		pw, generated = password.Generate(), true
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	u := &riskmap.User{Name: m.UserName, Role: m.Role, Department: m.Department,
		Categories: splitList(m.Categories), Regions: splitList(m.Regions), PasswordHash: hash}
	if err := u.Validate(m.cfg.Catalog); err != nil {
		return err
	}
	if err := m.store.CreateUser(ctx, u); err != nil {
		return err
	}
	m.auditCLI(ctx, "user.create", "user", u.Name, "role "+u.Role)
	fmt.Fprintf(m.Stdout, "created user %s (%s)\n", u.Name, u.Role)
	if generated {
		fmt.Fprintf(m.Stdout, "password: %s\n", pw)
	}
	return nil
}

func (m *Main) regrade(ctx context.Context) error {
	res, err := m.service().Regrade(ctx, func(r register.RegradeResult) {
		fmt.Fprintf(m.Stderr, "regrade: %d checked, %d changed\n", r.Checked, r.Changed)
	})
	if err != nil {
		return err
	}
	m.auditCLI(ctx, "unit.regrade", "", "", fmt.Sprintf("%d units checked, %d changed", res.Checked, res.Changed))
	fmt.Fprintf(m.Stdout, "regraded: %d units checked, %d changed grade or explanation\n", res.Checked, res.Changed)
	return nil
}

// ensureAdmin creates the first admin, with a generated password, when there are no users.
func (m *Main) ensureAdmin(ctx context.Context) (string, error) {
	n, err := m.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	pw := password.Generate()
	hash, err := password.Hash(pw)
	if err != nil {
		return "", err
	}
	if err := m.store.CreateUser(ctx, &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin, PasswordHash: hash}); err != nil {
		return "", err
	}
	m.auditCLI(ctx, "user.create", "user", "admin", "first start: the first admin, with a generated password")
	return pw, nil
}

func (m *Main) serve(ctx context.Context) error {
	if m.SeedDemo {
		n, err := m.store.CountUnits(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(m.Stdout, "first start: loading the demo city 澄江市 …")
			if err := m.loadDemo(ctx); err != nil {
				return err
			}
		}
	}
	adminPW, err := m.ensureAdmin(ctx)
	if err != nil {
		return fmt.Errorf("creating the first admin: %v", err)
	}
	regions, err := m.store.Regions(ctx, "")
	if err != nil {
		return fmt.Errorf("reading regions: %v", err)
	}
	locate := regiongrade.Locator(regions)
	ix := spatialindex.New(encodeFeature, locate)
	proxies, err := parseCIDRs(m.TrustedProxies)
	if err != nil {
		return err
	}
	// Every replica signs device cookies with the store's key, so a browser proven on one
	// is proven on all.
	deviceKey, err := m.store.ServerSecret(ctx, "device-cookie")
	if err != nil {
		return fmt.Errorf("reading the device-cookie key: %v", err)
	}
	svc := m.service()
	svc.Locate = regiongrade.Containing(regions) // a department places units inside its regions
	svc.Index = ix                               // every write reaches the index before its response
	srv := httpapi.New(httpapi.Config{Store: m.store, Units: svc, Index: ix, Publisher: m.publisher(regions),
		Catalog: m.cfg.Catalog, Grader: m.cfg.Grader, RegionRule: m.cfg.RegionRule, Regions: regions, Logger: m.logger,
		Assets: assets(), TiandituKey: m.TiandituKey, PublicURL: m.PublicURL, Timeouts: m.Timeouts, DeviceKey: deviceKey,
		Auth: httpapi.AuthConfig{SessionIdle: m.SessionIdle, SessionMax: m.SessionMax, TrustedProxies: proxies,
			LoginWindow: m.LoginWindow, LoginFailuresPerAccount: m.LoginPerAccount, LoginFailuresPerAddr: m.LoginPerAddress}})
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", m.Listen, err)
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
	ps, replicated := m.store.(*postgis.Store)
	if replicated {
		if mark, err = ps.ChangeMark(ctx); err != nil {
			hs.Close()
			return fmt.Errorf("reading the change mark: %v", err)
		}
	}
	n, err := ix.Load(ctx, m.store.Units(ctx))
	if err == nil {
		err = srv.LoadPublication(ctx)
	}
	if err != nil {
		hs.Close()
		return fmt.Errorf("loading the spatial index: %v", err)
	}
	m.logger.Info("spatial index loaded", "units", n, "seconds", time.Since(start).Seconds())
	followed := make(chan struct{})
	if replicated {
		// Other replicas write to the same database: follow their changes.
		go func() {
			defer close(followed)
			m.follow(ctx, ps, ix, svc, srv, mark)
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
	fmt.Fprintf(m.Stdout, "riskmap is serving at http://%s/ (store: %s, %d units)\n", m.Addr, redact(where), n)
	if adminPW != "" {
		fmt.Fprintf(m.Stdout, "first start: log in as admin with password %s (shown only this once; add users with \"riskmap user add\")\n", adminPW)
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
	// The counts of folded refusals are written before the store closes.
	if err := srv.FlushAudit(shutdownCtx); err != nil {
		m.logger.Error("writing the audit log at shutdown", "err", err)
	}
	<-followed // ctx is done, so the follower is stopping; the store closes after it
	fmt.Fprintln(m.Stdout, "riskmap stopped")
	return nil
}

// encodeFeature is the GeoJSON the index keeps for each unit.
func encodeFeature(u *riskmap.Unit) ([]byte, error) { return featurejson.Encode(u), nil }

// assets is the built front end embedded in the binary.
func assets() fs.FS {
	sub, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return nil
	}
	return sub
}

// publicEncoder writes the public Feature of a unit, with its category and region labels.
func publicEncoder(cat *riskmap.Catalog, regions []*riskmap.Region) spatialindex.Encoder {
	names := make(map[string]string, len(regions))
	for _, r := range regions {
		names[r.Code] = r.Name
	}
	return func(u *riskmap.Unit) ([]byte, error) {
		label := u.Category
		if c, ok := cat.Category(u.Category); ok {
			label = c.Label
		}
		return featurejson.EncodePublic(u, label, names[u.RegionCode]), nil
	}
}

// parseCIDRs reads a comma-separated list of CIDRs (a bare address is one host).
func parseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range splitList(list) {
		if !strings.Contains(c, "/") {
			if ip := net.ParseIP(c); ip != nil && ip.To4() != nil {
				c += "/32"
			} else {
				c += "/128"
			}
		}
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy: %q is not a CIDR such as 10.0.0.0/8", c)
		}
		out = append(out, n)
	}
	return out, nil
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

// oneLine keeps an error to one line for the terminal.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

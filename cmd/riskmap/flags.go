package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/postgis"
	"riskmap/pkg/reportdoc"
	"riskmap/pkg/riskmap"
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

	Command string
	DB      string
	// ReadDB is serve --read-db: a hot standby of DB that the index loads and follows from.
	ReadDB     string
	Listen     string
	ConfigPath string

	SeedDemo    bool // serve --demo: load the demo city into an empty store
	TiandituKey string
	// serve --report-font: the assessment report's TrueType CJK font (issue 15).
	ReportFont string
	// serve --basemap: an MBTiles file served at /basemap/ as the maps' default basemap.
	Basemap   string
	Demo      bool
	Synthetic int
	Seed      int64

	UserName, Role, Categories, Regions, Department string
	DisplayName, Organisation, Phone                string
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
	// export: the file and the filters (export.go).
	Export exportOptions
	Import importOptions
	// serve --mqtt (mqtt.go) and simulate (simulate.go), issue 17.
	MQTT     mqttOptions
	Simulate simulateOptions

	// Ready is closed once serve listens; Addr is then its address.
	Ready chan struct{}
	Addr  net.Addr

	cfg   *config.Config
	store riskmap.Store
	// standby is the store of ReadDB (nil without it).
	standby *postgis.Store
	logger  *slog.Logger
	// monitoring is serve's monitoring service (issue 17), once made; nil otherwise.
	monitoring *monitoring.Service
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Ready: make(chan struct{})}
}

const usage = `riskmap — urban safety risk register and four-colour risk map (城市安全风险清单与四色图)

Usage:
  riskmap serve    [--listen ADDR] [--db DSN] [--config FILE] [--demo] [--public-url URL]
                   [--basemap FILE.mbtiles] [--tianditu-key KEY] [--mqtt tcp://HOST:1883]
                   [--read-db STANDBY_DSN]
  riskmap migrate  [--db DSN]
  riskmap seed     [--db DSN] --demo
  riskmap seed     [--db DSN] --synthetic N [--seed S]
  riskmap user add [--db DSN] --name NAME --role admin|expert|department
                   [--department NAME] [--categories c1,c2] [--regions r1,r2] [--password-stdin]
                   [--display-name 姓名] [--organisation 单位] [--phone PHONE]
  riskmap regrade  [--db DSN] [--config FILE]
  riskmap publish  [--db DSN] [--note TEXT]
  riskmap export   FILE.xlsx [--db DSN] [--sheets category] [--status s1,s2] [--category c1,c2]
                   [--grade g1,g2] [--region PREFIX]
  riskmap import   FILE.xlsx [--db DSN] [--dry-run]
  riskmap simulate [--db DSN] (--url URL [--token T] | --mqtt tcp://HOST:1883)
                   [--scenario normal|gas-leak|tailings|all] [--every 1s] [--duration 0]

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
			return errors.New("没有给出命令；见 riskmap --help")
		}
		return errHelp
	}
	m.Command, args = args[0], args[1:]
	if m.Command == "user" {
		if len(args) == 0 || args[0] != "add" {
			return errors.New(`未知的 "user" 子命令；请用 "riskmap user add"`)
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
		fs.StringVar(&m.ReadDB, "read-db", env("RISKMAP_READ_DB", ""), "postgres:// DSN of a hot standby of --db: the index loads and follows from it")
		fs.StringVar(&m.TiandituKey, "tianditu-key", env("RISKMAP_TIANDITU_KEY", ""), "天地图 browser key for its basemaps (optional)")
		fs.StringVar(&m.ReportFont, "report-font", env("RISKMAP_REPORT_FONT", reportdoc.DefaultFontPath),
			"TrueType CJK font (glyf outlines) of the assessment report, GET /api/v1/report.pdf (Debian: fonts-droid-fallback)")
		fs.StringVar(&m.Basemap, "basemap", env("RISKMAP_BASEMAP", ""),
			"offline basemap: an MBTiles file (raster png/jpg/webp or vector pbf) served at /basemap/ as both maps' default basemap (config \"basemap\": {\"mbtiles\": FILE})")
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
		m.mqttFlags(fs, env)
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
		fs.StringVar(&m.DisplayName, "display-name", "", "the person's name (姓名), e.g. 李明")
		fs.StringVar(&m.Organisation, "organisation", "", "the person's organisation (单位), e.g. 澄江市应急管理局")
		fs.StringVar(&m.Phone, "phone", "", "the person's telephone number (shown to admins only)")
		fs.BoolVar(&m.PasswordStdin, "password-stdin", false, "read the password from standard input; otherwise one is generated and printed")
	case "regrade":
		fs.StringVar(&m.ConfigPath, "config", env("RISKMAP_CONFIG", ""), "config file with the new thresholds")
	case "export":
		m.exportFlags(fs, env)
	case "import":
		m.importFlags(fs, env)
	case "simulate":
		m.simulateFlags(fs, env)
	default:
		return fmt.Errorf("未知命令 %q；见 riskmap --help", m.Command)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if err := m.parseFileArg(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 && !fileCommands[m.Command] {
		return fmt.Errorf("多余的参数 %q", fs.Arg(0))
	}
	if m.Command == "serve" {
		u, err := httpapi.ParsePublicURL(m.PublicURL)
		if err != nil {
			return err
		}
		m.PublicURL = u
	}
	if m.Command == "seed" && m.Demo == (m.Synthetic > 0) {
		return errors.New("seed 需要 --demo 或 --synthetic N（N > 0）两者之一")
	}
	if m.Command == "seed" && m.Synthetic < 0 {
		return errors.New("--synthetic 应为正整数")
	}
	return nil
}

// Package basemap serves an offline basemap from an MBTiles file (raster PNG, JPEG or WebP
// tiles, or gzipped Mapbox vector tiles), read through the SQLite driver the GeoPackage
// store uses. Many government networks reach neither 天地图 nor OpenStreetMap: a city's
// own MBTiles, made with GDAL (gdal_translate -of MBTiles, ogr2ogr -f MBTILES) or any tile
// tool, gives the maps streets without the internet.
//
// MBTiles stores rows in the TMS scheme (row 0 at the south); the tiles are served in the
// XYZ scheme of web maps (row 0 at the north), so the row is flipped on every read.
package basemap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

// MaxZoom is the deepest zoom a tile address may name.
const MaxZoom = 24

// MBTiles is an open MBTiles file. It is safe for concurrent use.
type MBTiles struct {
	db *sql.DB
	// Path is the file's absolute path.
	Path string
	// Format is png, jpg, webp or pbf; Ext is the extension of its tile URLs.
	Format, Ext string
	// ContentType is the tiles' media type.
	ContentType string
	Name        string
	Attribution string
	Description string
	// MinZoom and MaxZoom are the zooms the file holds tiles for.
	MinZoom, MaxZoom int
	// Bounds is west, south, east, north in WGS84 degrees (the whole world if the file does
	// not say).
	Bounds [4]float64
	// VectorLayers is the vector_layers list of a pbf file's metadata "json", as is.
	VectorLayers json.RawMessage
}

var formats = map[string]struct{ ext, ctype string }{
	"png":  {"png", "image/png"},
	"jpg":  {"jpg", "image/jpeg"},
	"jpeg": {"jpg", "image/jpeg"},
	"webp": {"webp", "image/webp"},
	"pbf":  {"pbf", "application/vnd.mapbox-vector-tile"},
	"mvt":  {"pbf", "application/vnd.mapbox-vector-tile"},
}

// Open opens an MBTiles file read-only and reads its metadata.
func Open(ctx context.Context, path string) (*MBTiles, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("底图 %s：%v", path, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("底图文件 %s 不存在或无法读取：%v", path, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("底图 %s 是目录，应为 .mbtiles 文件", path)
	}
	// Read-only: a missing file is not created, and nothing is ever written.
	q := url.Values{"mode": {"ro"}, "_pragma": {"query_only(1)", "busy_timeout(5000)"}}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("底图 %s：%v", path, err)
	}
	m := &MBTiles{db: db, Path: abs, MinZoom: 0, MaxZoom: -1, Bounds: [4]float64{-180, -85.0511, 180, 85.0511}}
	if err := m.readMetadata(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("底图 %s 不是可用的 MBTiles 文件：%v", path, err)
	}
	return m, nil
}

func (m *MBTiles) readMetadata(ctx context.Context) error {
	rows, err := m.db.QueryContext(ctx, "SELECT name, value FROM metadata")
	if err != nil {
		return fmt.Errorf("读不到 metadata 表（%v）", err)
	}
	defer rows.Close()
	meta := map[string]string{}
	for rows.Next() {
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		meta[strings.ToLower(k.String)] = v.String
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The tiles table (or view) answers the query every tile makes.
	var n int
	if err := m.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM tiles LIMIT 1)").Scan(&n); err != nil {
		return fmt.Errorf("读不到 tiles 表（%v）", err)
	}
	f := strings.ToLower(strings.TrimSpace(meta["format"]))
	if f == "" {
		f = m.sniffFormat(ctx)
	}
	ft, ok := formats[f]
	if !ok {
		return fmt.Errorf("不支持的瓦片格式 %q（支持 png、jpg、webp 和 pbf）", f)
	}
	m.Format, m.Ext, m.ContentType = f, ft.ext, ft.ctype
	if f == "jpeg" {
		m.Format = "jpg"
	}
	if f == "mvt" {
		m.Format = "pbf"
	}
	m.Name = strings.TrimSpace(meta["name"])
	if m.Name == "" {
		m.Name = strings.TrimSuffix(filepath.Base(m.Path), filepath.Ext(m.Path))
	}
	m.Attribution = meta["attribution"]
	m.Description = meta["description"]
	if b, ok := parseBounds(meta["bounds"]); ok {
		m.Bounds = b
	}
	minZ, okMin := parseZoom(meta["minzoom"])
	maxZ, okMax := parseZoom(meta["maxzoom"])
	if !okMin || !okMax || minZ > maxZ {
		// Not said (or said wrongly): the zooms the tiles are at.
		var lo, hi sql.NullInt64
		if err := m.db.QueryRowContext(ctx, "SELECT min(zoom_level), max(zoom_level) FROM tiles").Scan(&lo, &hi); err != nil {
			return err
		}
		if !lo.Valid {
			return errors.New("文件中没有瓦片")
		}
		minZ, maxZ = int(lo.Int64), int(hi.Int64)
	}
	if minZ < 0 || maxZ > MaxZoom || minZ > maxZ {
		return fmt.Errorf("缩放级别 %d–%d 超出 0–%d", minZ, maxZ, MaxZoom)
	}
	m.MinZoom, m.MaxZoom = minZ, maxZ
	if m.Format == "pbf" && meta["json"] != "" {
		var j struct {
			VectorLayers json.RawMessage `json:"vector_layers"`
		}
		if json.Unmarshal([]byte(meta["json"]), &j) == nil && len(j.VectorLayers) > 0 {
			m.VectorLayers = j.VectorLayers
		}
	}
	return nil
}

// sniffFormat guesses the format from the first tile's bytes, for files whose metadata
// does not name it.
func (m *MBTiles) sniffFormat(ctx context.Context) string {
	var b []byte
	if err := m.db.QueryRowContext(ctx, "SELECT tile_data FROM tiles LIMIT 1").Scan(&b); err != nil {
		return ""
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "png"
	case bytes.HasPrefix(b, []byte("\xff\xd8")):
		return "jpg"
	case len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "pbf"
	}
	return ""
}

func parseZoom(s string) (int, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v != float64(int(v)) {
		return 0, false
	}
	return int(v), true
}

func parseBounds(s string) ([4]float64, bool) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, false
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return b, false
		}
		b[i] = v
	}
	if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || b[0] >= b[2] || b[1] >= b[3] {
		return b, false
	}
	return b, true
}

// Close closes the file.
func (m *MBTiles) Close() error { return m.db.Close() }

// Tile is one tile as served.
type Tile struct {
	Data []byte
	// ContentType is the media type; Encoding is "gzip" for gzipped vector tiles.
	ContentType, Encoding string
	// ETag is a strong validator of Data.
	ETag string
}

// Get returns the tile at z/x/y (XYZ scheme; y is "N.ext" with the file's extension).
// A bad address is EINVALID; a tile the file does not hold is ENOTFOUND.
func (m *MBTiles) Get(ctx context.Context, z, x, y string) (*Tile, error) {
	zv, xv, yv, err := ParseZXY(z, x, y, m.Ext)
	if err != nil {
		return nil, err
	}
	if zv < m.MinZoom || zv > m.MaxZoom {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "底图在第 %d 级没有瓦片（有瓦片的级别为 %d–%d）", zv, m.MinZoom, m.MaxZoom)
	}
	row := (1 << zv) - 1 - yv // TMS
	var data []byte
	err = m.db.QueryRowContext(ctx, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?", zv, xv, row).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(data) == 0) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "底图没有瓦片 %d/%d/%d", zv, xv, yv)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	t := &Tile{Data: data, ContentType: m.ContentType, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if m.Format == "pbf" && bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Encoding = "gzip"
	}
	return t, nil
}

// ParseZXY reads a tile address: z from 0 to MaxZoom, x and y from 0 to 2^z − 1 (read by
// tiles.ParseZXYMax, as the register's own tiles are), and y followed by "." and ext.
// Anything else is EINVALID with a message in Chinese.
func ParseZXY(z, x, y, ext string) (zv, xv, yv int, err error) {
	num, found := strings.CutSuffix(y, "."+ext)
	if !found || strings.Contains(num, ".") {
		return 0, 0, 0, riskmap.Errorf(riskmap.EINVALID, "瓦片地址 %s 应以 .%s 结尾（本底图的瓦片格式）", quote(y), ext)
	}
	t, err := tiles.ParseZXYMax(z, x, num, MaxZoom)
	if err != nil {
		return 0, 0, 0, err
	}
	return int(t.Z), int(t.X), int(t.Y), nil
}

// quote shows what was sent, shortened, so that an error never echoes a page of input.
func quote(s string) string {
	if s == "" {
		return "（空）"
	}
	r := []rune(s)
	if len(r) > 24 {
		s = string(r[:24]) + "…"
	}
	return strconv.Quote(s)
}

// TileJSON describes the basemap as TileJSON 3.0.0, its tiles at tilesURL (a template
// with {z}/{x}/{y}).
func (m *MBTiles) TileJSON(tilesURL string) map[string]any {
	tj := map[string]any{
		"tilejson":    "3.0.0",
		"name":        m.Name,
		"description": m.Description,
		"attribution": m.Attribution,
		"scheme":      "xyz",
		"format":      m.Format,
		"tiles":       []string{tilesURL},
		"minzoom":     m.MinZoom,
		"maxzoom":     m.MaxZoom,
		"bounds":      m.Bounds[:],
		"center":      []float64{(m.Bounds[0] + m.Bounds[2]) / 2, (m.Bounds[1] + m.Bounds[3]) / 2, float64(m.MinZoom)},
	}
	if m.Format == "pbf" {
		vl := m.VectorLayers
		if len(vl) == 0 {
			vl = json.RawMessage("[]")
		}
		tj["vector_layers"] = vl
	}
	return tj
}

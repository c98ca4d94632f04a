package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"102.8,24.5,103.1,24.9", "1,2,3", "NaN,1,2,3", "1e400,0,0,0", "-180,-90,180,90", " 1 , 2 ,3,4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := httpapi.ParseBBox(s)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("bad bbox must be EINVALID: %v", err)
			}
			return
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] || b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			t.Fatalf("accepted an impossible bbox %v from %q", b, s)
		}
	})
}

// FuzzListQuery sends arbitrary query strings to the unit list: the answer is 200 or 400,
// never a 500.
func FuzzListQuery(f *testing.F) {
	cfg := config.Default()
	ix := spatialindex.New(encode, nil)
	ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for i := int64(1); i <= 50; i++ {
			u := &riskmap.Unit{ID: i, Version: 1, Code: "F", Name: "名", Category: "roads", RegionCode: "530481001001",
				Grade: riskmap.Grades[i%4], Status: riskmap.StatusApproved, Geometry: orb.Point{102.9 + float64(i)/1000, 24.6}}
			if !yield(u, nil) {
				return
			}
		}
	})
	// The list is for logged-in users: the fuzzer is an admin with an API token.
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(f.TempDir(), "fuzz.gpkg"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	admin := &riskmap.User{Name: "fuzz", Role: riskmap.RoleAdmin, PasswordHash: "$argon2id$unused", CreatedAt: time.Now()}
	if err := store.CreateUserRecorded(ctx, admin, nil); err != nil {
		f.Fatal(err)
	}
	if err := store.CreateAPIToken(ctx, &riskmap.APIToken{Name: "fuzz", UserID: admin.ID, TokenHash: sha("rmk_fuzz"), CreatedAt: time.Now()}); err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Index: ix, Catalog: cfg.Catalog, Grader: cfg.Grader,
		RegionRule: cfg.RegionRule, Logger: slog.New(slog.DiscardHandler)}))
	f.Cleanup(srv.Close)
	for _, s := range []string{"bbox=102,24,103,25&limit=5", "grade=red,蓝&category=roads", "q=%27%20OR%201%3D1--", "cursor=10&limit=1000000", "region=5304&q=名", "limit=0", "bbox=1,2,3,4,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/units?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer rmk_fuzz")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 && res.StatusCode != 400 {
			t.Fatalf("query %q: status %d", raw, res.StatusCode)
		}
	})
}

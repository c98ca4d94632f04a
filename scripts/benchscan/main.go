// Command benchscan opens a store and reads every unit back, printing the rate. make bench
// uses it to measure what the spatial index pays at start.
//
//	go run ./scripts/benchscan --db DSN
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

func main() {
	db := flag.String("db", "./data/riskmap.gpkg", "postgres:// DSN or GeoPackage path")
	flag.Parse()
	ctx := context.Background()
	start := time.Now()
	var s riskmap.Store
	var err error
	if strings.HasPrefix(*db, "postgres") {
		s, err = postgis.Open(ctx, *db)
	} else {
		s, err = gpkg.Open(ctx, *db)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchscan:", err)
		os.Exit(1)
	}
	defer s.Close()
	n, vertices := 0, 0
	for u, err := range s.Units(ctx) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchscan:", err)
			os.Exit(1)
		}
		n++
		if u.Geometry != nil {
			vertices++
		}
	}
	d := time.Since(start)
	fmt.Printf("read %d units in %.2fs (open included): %.0f units/s\n", n, d.Seconds(), float64(n)/d.Seconds())
}

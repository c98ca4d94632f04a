package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateImports = flag.Bool("update-imports", false, "rewrite the import graph in README.md")

// adapters stand around the domain and never import each other (STYLE.md), except for
// the edges listed in allowedUses, and then only the names listed there.
var adapters = []string{"postgis", "gpkg", "spatialindex", "tiles", "httpapi", "mqttfeed"}

// allowedUses are the adapter-to-adapter imports that remain, by importer and imported
// package, with every name the importer may use. The concrete index (spatialindex.Index)
// and tile service (tiles.Service) are not among them: tiles and httpapi take interfaces
// they declare, and cmd/riskmap wires the concrete types.
var allowedUses = map[[2]string][]string{
	// The renderers walk the index's features and per-cell counts, and the cache hears its
	// changes: value types, not the index; they read a tile's features ahead of drawing
	// (SortByID, Warm).
	{"tiles", "spatialindex"}: {"Cell", "CellOf", "CellZoom", "Change", "Feature", "Representative", "SortByID", "Warm"},
	// The API walks a snapshot's features and counts (httpapi.Index returns the snapshot),
	// and the supervision view takes the units past due from its due-day order (DueKind);
	// a list reads its page's features ahead of writing them (Warm).
	{"httpapi", "spatialindex"}: {"Change", "CountKey", "DueKind", "DueReidentify", "DueReview", "Feature", "Snapshot", "Warm"},
	// The server makes each view's tile service and writes TileJSON; it draws the tiles of
	// the sites (issue 16) from their in-memory layers.
	{"httpapi", "tiles"}: {"LayerRegions", "LayerShelters", "LayerTargets", "LayerUnits", "MetadataJSON", "NewRegionGrades", "NewService",
		"Options", "ParseSiteZXY", "RegionFields", "SiteFeature", "SiteProp", "SiteTile", "Tile", "TileBound", "TileJSON", "UnitFields"},
}

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

const module = "riskmap/"

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Imports", "riskmap/pkg/...", "riskmap/cmd/...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// short names a package of this module by its path without "riskmap/pkg/".
func short(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "pkg/")
}

// TestAdaptersImportNoAdapter: no adapter imports another, but for allowedUses, and
// those use only the names allowed.
func TestAdaptersImportNoAdapter(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, p := range listPackages(t) {
		from := short(p.ImportPath)
		if !slices.Contains(adapters, from) {
			continue
		}
		for _, imp := range p.Imports {
			to := short(imp)
			if !strings.HasPrefix(imp, module) || !slices.Contains(adapters, to) {
				continue
			}
			names, ok := allowedUses[[2]string{from, to}]
			if !ok {
				t.Errorf("%s imports the adapter %s: declare the small interface it needs instead", from, to)
				continue
			}
			seen[[2]string{from, to}] = true
			for name, at := range usedNames(t, p, imp) {
				if !slices.Contains(names, name) {
					t.Errorf("%s uses %s.%s (%s), which is not among the names allowed", from, to, name, at)
				}
			}
		}
	}
	for edge := range allowedUses {
		if !seen[edge] {
			t.Errorf("%s no longer imports %s: take the edge out of allowedUses and the README", edge[0], edge[1])
		}
	}
}

// usedNames returns the names of package imp that p's non-test files use, with a place
// each is used.
func usedNames(t *testing.T, p listedPackage, imp string) map[string]string {
	t.Helper()
	used := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, is := range f.Imports {
			if path, _ := strconv.Unquote(is.Path.Value); path == imp {
				local = imp[strings.LastIndex(imp, "/")+1:]
				if is.Name != nil {
					local = is.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
					if _, dup := used[sel.Sel.Name]; !dup {
						used[sel.Sel.Name] = fset.Position(sel.Pos()).String()
					}
				}
			}
			return true
		})
	}
	return used
}

// importGraph is the README's table: every package of the module and the packages of the
// module it imports (tests aside), from go list.
func importGraph(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| package | imports (of this module; tests aside) |\n|---|---|\n")
	for _, p := range listPackages(t) {
		var in []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				in = append(in, "`"+short(imp)+"`")
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", short(p.ImportPath), strings.Join(in, ", "))
	}
	return b.String()
}

const (
	graphBegin = "<!-- import graph: go test ./cmd/riskmap -run TestImportGraph -update-imports -->\n"
	graphEnd   = "<!-- end of import graph -->\n"
)

// TestImportGraph: the README's import graph is the one go list reports.
func TestImportGraph(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, graphBegin), strings.Index(s, graphEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no import graph between %q and %q", graphBegin, graphEnd)
	}
	want := importGraph(t)
	if got := s[i+len(graphBegin) : j]; got != want {
		if *updateImports {
			if err := os.WriteFile(path, []byte(s[:i+len(graphBegin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's import graph is out of date; run go test ./cmd/riskmap -run TestImportGraph -update-imports. Want:\n%s", want)
	}
}

package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMessagesAreChinese walks every message a client or an operator can be shown: the
// format of each coded error (riskmap.Errorf) and of each field problem (Problems.Add) in
// the module's packages. One that says something in English words and nothing in Chinese
// fails the test, with its place.
func TestMessagesAreChinese(t *testing.T) {
	cjk := regexp.MustCompile(`\p{Han}`)
	word := regexp.MustCompile(`[A-Za-z]{3,}`)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir("../../pkg", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// The contract suite and the test database helper speak to developers.
			if n := d.Name(); n == "storetest" || n == "pgtest" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inRiskmap := f.Name.Name == "riskmap"
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			coded := false
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok {
					coded = fun.Sel.Name == "Errorf" && x.Name == "riskmap" ||
						fun.Sel.Name == "Add" && x.Name != "riskmap" // a Problems value: p.Add(field, format, …)
				}
			case *ast.Ident:
				coded = inRiskmap && fun.Name == "Errorf"
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !coded || !ok || lit.Kind != token.STRING {
				return true
			}
			if key, ok := call.Args[0].(*ast.BasicLit); ok && len(key.Value) > 1 && key.Value[1] >= 'A' && key.Value[1] <= 'Z' {
				return true // an http.Header's Add("Vary", …), not a field's problem
			}
			msg, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			checked++
			if word.MatchString(msg) && !cjk.MatchString(msg) {
				t.Errorf("%s: a message without Chinese: %q", fset.Position(lit.Pos()), msg)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 150 {
		t.Fatalf("only %d messages found; the walk has lost its way", checked)
	}
}

package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"riskmap/pkg/riskmap"
)

var (
	hanRe      = regexp.MustCompile(`\p{Han}`)
	latinWord  = regexp.MustCompile(`[A-Za-z]{3,}`)
	needsEnRe  = regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`)
	verbRe     = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)
	verbIndexR = regexp.MustCompile(`\[\d+\]`)
)

// sinkKey names a function that turns a format into a message a user is shown: the
// directory of its package and its name (methods by their name alone).
type sinkKey struct{ dir, name string }

// messageFile is one parsed source file of the walk.
type messageFile struct {
	dir, path string
	f         *ast.File
	operator  bool // its fmt.Errorf messages reach operators (cmd, config, demo)
}

// formatParam returns the index of the "format string" parameter of a function type, or -1.
func formatParam(ft *ast.FuncType) int {
	i := 0
	var names []string
	var types []ast.Expr
	for _, fld := range ft.Params.List {
		if len(fld.Names) == 0 {
			names, types = append(names, ""), append(types, fld.Type)
			i++
			continue
		}
		for _, n := range fld.Names {
			names, types = append(names, n.Name), append(types, fld.Type)
			i++
		}
	}
	for j := range names {
		if id, ok := types[j].(*ast.Ident); ok && id.Name == "string" && names[j] == "format" {
			return j
		}
	}
	return -1
}

// TestMessagesAreChinese walks every message a client or an operator can be shown: the
// format of each coded error (riskmap.Errorf), field problem (Problems.Add, FieldErrorf),
// of every wrapper that hands its format on to one of them (forbidden(…), invalid(…)),
// the fixed messages of the HTTP edge (httpError) and the errors the command and its
// configuration give operators (fmt.Errorf in cmd, pkg/config, pkg/demo). A message that
// says something in Latin words and nothing in Chinese fails; so does a Chinese message
// the English catalog (pkg/riskmap/messages_en.go) has no entry for, and the test prints
// those ready to paste into the catalog.
func TestMessagesAreChinese(t *testing.T) {
	fset := token.NewFileSet()
	var files []messageFile
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
			dir := filepath.Dir(path)
			op := strings.HasPrefix(path, "../../cmd") || strings.HasSuffix(dir, "pkg/config") || strings.HasSuffix(dir, "pkg/demo") ||
				strings.HasSuffix(dir, "pkg/grading") || strings.HasSuffix(dir, "pkg/monitoring") || strings.HasSuffix(dir, "pkg/analysis")
			files = append(files, messageFile{dir: dir, path: path, f: f, operator: op})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Package-level string constants, by package and name: a message may be one.
	consts := map[string]string{}
	for _, mf := range files {
		for _, d := range mf.f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if v, err := strconv.Unquote(lit.Value); err == nil {
								consts[mf.f.Name.Name+"."+n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	// literal is the text of a string literal or constant, as seen from mf.
	literal := func(mf messageFile, e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
		case *ast.Ident:
			s, ok := consts[mf.f.Name.Name+"."+e.Name]
			return s, ok
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok {
				s, ok := consts[x.Name+"."+e.Sel.Name]
				return s, ok
			}
		}
		return "", false
	}

	// sinkIndex says whether call hands a message format to a user, and at which argument.
	sinks := map[sinkKey]int{}
	sinkIndex := func(mf messageFile, call *ast.CallExpr) int {
		inRiskmap := mf.f.Name.Name == "riskmap"
		switch fun := call.Fun.(type) {
		case *ast.SelectorExpr:
			x, _ := fun.X.(*ast.Ident)
			if x != nil && x.Name == "riskmap" {
				switch fun.Sel.Name {
				case "Errorf", "FieldErrorf", "Render":
					return 1
				case "Textf":
					return 0
				}
				return -1
			}
			if fun.Sel.Name == "Add" && len(call.Args) >= 2 {
				// A Problems value: p.Add(field, format, …); not an http.Header's Add("Vary",
				// …), a url.Values' Add("_pragma", p) or the router's Add(method, path, h).
				if key, ok := call.Args[0].(*ast.BasicLit); ok && len(key.Value) > 1 && (key.Value[1] >= 'A' && key.Value[1] <= 'Z' || key.Value[1] == '_') {
					return -1
				}
				if id, ok := call.Args[1].(*ast.Ident); ok && id.Name != "format" {
					return -1
				}
				return 1
			}
			if x != nil && (x.Name == "fmt" || x.Name == "slog" || x.Name == "log") {
				return -1
			}
			if i, ok := sinks[sinkKey{mf.dir, fun.Sel.Name}]; ok {
				return i
			}
		case *ast.Ident:
			if inRiskmap {
				switch fun.Name {
				case "Errorf", "FieldErrorf", "Render":
					return 1
				case "Textf":
					return 0
				}
			}
			if i, ok := sinks[sinkKey{mf.dir, fun.Name}]; ok {
				return i
			}
		}
		return -1
	}
	// Wrappers: functions (and function literals given a name) with a "format string, args
	// ...any" pair that pass their format on to a sink. Found until none is new.
	type wrapper struct {
		key  sinkKey
		idx  int
		body ast.Node
	}
	var wrappers []wrapper
	for _, mf := range files {
		ast.Inspect(mf.f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if i := formatParam(n.Type); i >= 0 && n.Body != nil {
					wrappers = append(wrappers, wrapper{sinkKey{mf.dir, n.Name.Name}, i, n.Body})
				}
			case *ast.AssignStmt:
				if len(n.Lhs) == 1 && len(n.Rhs) == 1 {
					id, ok1 := n.Lhs[0].(*ast.Ident)
					lit, ok2 := n.Rhs[0].(*ast.FuncLit)
					if ok1 && ok2 {
						if i := formatParam(lit.Type); i >= 0 {
							wrappers = append(wrappers, wrapper{sinkKey{mf.dir, id.Name}, i, lit.Body})
						}
					}
				}
			}
			return true
		})
	}
	fileOf := map[sinkKey]messageFile{}
	for _, mf := range files {
		for _, w := range wrappers {
			if w.key.dir == mf.dir {
				fileOf[w.key] = mf
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, w := range wrappers {
			if _, ok := sinks[w.key]; ok {
				continue
			}
			found := false
			ast.Inspect(w.body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || found {
					return !found
				}
				if i := sinkIndex(fileOf[w.key], call); i >= 0 && i < len(call.Args) {
					if id, ok := call.Args[i].(*ast.Ident); ok && id.Name == "format" {
						found = true
					}
				}
				return true
			})
			if found {
				sinks[w.key] = w.idx
				changed = true
			}
		}
	}

	type found struct {
		msg   string
		where string
		// client: shown to clients through the HTTP edge (needs an English entry)
		client bool
	}
	var msgs []found
	for _, mf := range files {
		ast.Inspect(mf.f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				idx, client := sinkIndex(mf, n), true
				if idx < 0 && mf.operator {
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "fmt" && sel.Sel.Name == "Errorf" {
							idx, client = 0, false
						}
					}
				}
				if idx < 0 || idx >= len(n.Args) {
					return true
				}
				for _, arg := range n.Args[idx+1:] {
					// The text of another error as an argument stays in the language it was
					// made in: riskmap.MessageOf(err) is rendered in the message's.
					if c, ok := arg.(*ast.CallExpr); ok && client {
						if sel, ok := c.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "ErrorMessage" || sel.Sel.Name == "Error" && len(c.Args) == 0) {
							t.Errorf("%s: the text of an error as an argument of a message: pass riskmap.MessageOf(err) or riskmap.TextOf(err), rendered in the language of the message", fset.Position(arg.Pos()))
						}
					}
				}
				a := n.Args[idx]
				if s, ok := literal(mf, a); ok {
					msgs = append(msgs, found{s, fset.Position(a.Pos()).String(), client})
				} else if id, ok := a.(*ast.Ident); (!ok || id.Name != "format") && !isRender(n) {
					t.Errorf("%s: a message whose format is not a literal or constant: the test cannot read it, nor the catalog translate it", fset.Position(a.Pos()))
				}
			case *ast.CompositeLit:
				name := ""
				switch ty := n.Type.(type) {
				case *ast.SelectorExpr:
					if x, ok := ty.X.(*ast.Ident); ok && x.Name == "riskmap" {
						name = ty.Sel.Name
					}
				case *ast.Ident:
					if ty.Name == "httpError" {
						name = ty.Name
					}
				}
				switch name {
				case "Error", "FieldError":
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Message" {
								t.Errorf("%s: a riskmap.%s made with its Message: use riskmap.Errorf or riskmap.FieldErrorf, whose format the catalog can translate", fset.Position(n.Pos()), name)
							}
						}
					}
				case "httpError":
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "message" {
							continue
						}
						if s, ok := literal(mf, kv.Value); ok {
							msgs = append(msgs, found{s, fset.Position(kv.Value.Pos()).String(), true})
						} else {
							t.Errorf("%s: an httpError whose message is not a literal: give it a literal format and args", fset.Position(kv.Value.Pos()))
						}
					}
				}
			}
			return true
		})
	}
	if len(msgs) < 200 {
		t.Fatalf("only %d messages found; the walk has lost its way", len(msgs))
	}

	missing := map[string]string{}
	for _, m := range msgs {
		if latinWord.MatchString(m.msg) && !needsEnRe.MatchString(m.msg) {
			t.Errorf("%s: a message without Chinese: %q", m.where, m.msg)
			continue
		}
		if !m.client || !needsEnRe.MatchString(m.msg) {
			continue
		}
		if en, ok := riskmap.EnglishCatalog(m.msg); !ok || en == "" {
			if _, seen := missing[m.msg]; !seen {
				missing[m.msg] = m.where
			}
		}
	}
	if len(missing) > 0 {
		keys := make([]string, 0, len(missing))
		for k := range missing {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\t%q: \"\", // %s\n", k, strings.TrimPrefix(missing[k], "../../"))
		}
		t.Errorf("%d messages have no English in pkg/riskmap/messages_en.go; add (and translate) these entries:\n%s", len(missing), b.String())
	}
}

// isRender says whether call is riskmap.Render, which renders messages kept apart from
// their format (an httpError's): its format is checked where it is written.
func isRender(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "riskmap" && sel.Sel.Name == "Render"
}

// verbs are the formatting verbs of a format, in order (indexed ones sorted).
func verbs(format string) []string {
	vs := verbRe.FindAllString(format, -1)
	vs = slices.DeleteFunc(vs, func(v string) bool { return v == "%%" })
	indexed := false
	for i, v := range vs {
		if verbIndexR.MatchString(v) {
			indexed = true
			vs[i] = verbIndexR.ReplaceAllString(v, "")
		}
	}
	if indexed {
		sort.Strings(vs)
	}
	return vs
}

// TestEnglishCatalog checks each entry of the English catalog: English words, no Chinese,
// and the verbs of the Chinese format, so that the same arguments fill it.
func TestEnglishCatalog(t *testing.T) {
	for _, zh := range riskmap.EnglishFormats() {
		en, _ := riskmap.EnglishCatalog(zh)
		switch {
		case en == "":
			t.Errorf("%q has no English", zh)
		case hanRe.MatchString(en) || needsEnRe.MatchString(en):
			t.Errorf("the English of %q has Chinese or full-width punctuation: %q", zh, en)
		}
		vz, ve := verbs(zh), verbs(en)
		if verbIndexR.MatchString(en) {
			slices.Sort(vz)
		}
		if !slices.Equal(vz, ve) {
			t.Errorf("the English of %q has the verbs %v, the Chinese %v: %q", zh, ve, vz, en)
		}
	}
}

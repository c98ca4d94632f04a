package workbook

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"regexp"
	"strings"

	"riskmap/pkg/riskmap"
)

// Limits bound what an upload may hold, checked on the zip's central directory before
// excelize opens anything, so that a small file that inflates to gigabytes (an xlsx bomb)
// is refused unread.
type Limits struct {
	// MaxRows is the most data rows read (all sheets together).
	MaxRows int
	// MaxUncompressed is the most bytes all the zip's entries inflate to together;
	// MaxEntry the most one entry inflates to; MaxSharedStrings the most the shared
	// strings table inflates to (excelize keeps it in memory).
	MaxUncompressed, MaxEntry, MaxSharedStrings int64
	// MaxRatio is the highest compression ratio of an entry larger than 1 MB.
	MaxRatio int64
	// MaxEntries is the most entries (files) in the zip.
	MaxEntries int
	// MaxProblems is the most problems kept; the rest are counted (Book.ProblemCount).
	MaxProblems int
}

// DefaultLimits: 200,000 data rows, 1.2 GB inflated in all (no entry over 1 GB: the sheet
// of 200,000 exported units inflates to some 500 MB; excelize streams parts over 16 MB from
// temporary files, so memory stays bounded; the shared strings, which it keeps in memory, no
// more than 64 MB), a ratio of at most 200 for entries over 1 MB, 2,000 entries.
var DefaultLimits = Limits{MaxRows: 200000, MaxUncompressed: 1200 << 20, MaxEntry: 1 << 30,
	MaxSharedStrings: 64 << 20, MaxRatio: 200, MaxEntries: 2000, MaxProblems: 100000}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxUncompressed > 0 {
		d.MaxUncompressed = l.MaxUncompressed
	}
	if l.MaxEntry > 0 {
		d.MaxEntry = l.MaxEntry
	}
	if l.MaxSharedStrings > 0 {
		d.MaxSharedStrings = l.MaxSharedStrings
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxProblems > 0 {
		d.MaxProblems = l.MaxProblems
	}
	return d
}

func notXLSX() error {
	return riskmap.Errorf(riskmap.EINVALID, "文件不是 Excel 工作簿（.xlsx）；请用 Excel 或 WPS 另存为 .xlsx 后再上传")
}

// inspect checks the zip's central directory against the limits, and returns it.
func inspect(r io.ReaderAt, size int64, l Limits) (*zip.Reader, error) {
	head := make([]byte, 4)
	if size < 22 {
		return nil, notXLSX()
	}
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, notXLSX()
	}
	if bytes.Equal(head, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
		return nil, riskmap.Errorf(riskmap.EINVALID, "这是旧版 Excel 97-2003 工作簿（.xls）或加密的工作簿；请另存为 .xlsx（不加密码）后再上传")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, notXLSX()
	}
	if len(zr.File) > l.MaxEntries {
		return nil, riskmap.Errorf(riskmap.EINVALID, "工作簿含 %d 个部件，超过上限 %d：不像风险清单", len(zr.File), l.MaxEntries)
	}
	var total uint64
	hasWorkbook := false
	for _, f := range zr.File {
		n := f.UncompressedSize64
		total += n
		name := strings.ToLower(path.Clean(f.Name))
		if name == "xl/workbook.xml" {
			hasWorkbook = true
		}
		if n > uint64(l.MaxEntry) {
			return nil, riskmap.Errorf(riskmap.EINVALID, "工作簿的部件 %s 解压后 %d MB，超过上限 %d MB", clip(f.Name), n>>20, l.MaxEntry>>20)
		}
		if name == "xl/sharedstrings.xml" && n > uint64(l.MaxSharedStrings) {
			return nil, riskmap.Errorf(riskmap.EINVALID, "工作簿的共享文本表解压后 %d MB，超过上限 %d MB", n>>20, l.MaxSharedStrings>>20)
		}
		if n > 1<<20 && (f.CompressedSize64 == 0 || n/f.CompressedSize64 > uint64(l.MaxRatio)) {
			return nil, riskmap.Errorf(riskmap.EINVALID, "工作簿的部件 %s 压缩比异常（解压后 %d MB）：疑似压缩炸弹，拒绝读取", clip(f.Name), n>>20)
		}
	}
	if total > uint64(l.MaxUncompressed) {
		return nil, riskmap.Errorf(riskmap.EINVALID, "工作簿解压后共 %d MB，超过上限 %d MB", total>>20, l.MaxUncompressed>>20)
	}
	if !hasWorkbook {
		return nil, notXLSX()
	}
	return zr, nil
}

// sheetPaths maps sheet names to their worksheet parts (xl/worksheets/sheet1.xml), from
// xl/workbook.xml and its relationships.
func sheetPaths(zr *zip.Reader) map[string]string {
	read := func(name string) []byte {
		for _, f := range zr.File {
			if strings.EqualFold(path.Clean(f.Name), name) && f.UncompressedSize64 < 16<<20 {
				rc, err := f.Open()
				if err != nil {
					return nil
				}
				defer rc.Close()
				b, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
				return b
			}
		}
		return nil
	}
	rels := map[string]string{}
	for _, m := range relRE.FindAllSubmatch(read("xl/_rels/workbook.xml.rels"), -1) {
		id, target := attr(m[0], "Id"), attr(m[0], "Target")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join("xl", target)
		}
		rels[id] = target
	}
	out := map[string]string{}
	for _, m := range sheetRE.FindAllSubmatch(read("xl/workbook.xml"), -1) {
		name := xmlUnescape(attr(m[0], "name"))
		for _, a := range []string{"r:id", "relationships:id"} {
			if id := attr(m[0], a); id != "" {
				out[name] = rels[id]
			}
		}
		if out[name] == "" {
			// a namespace prefix other than r
			if mm := anyIDRE.FindSubmatch(m[0]); mm != nil {
				out[name] = rels[string(mm[1])]
			}
		}
	}
	return out
}

var (
	relRE   = regexp.MustCompile(`<(?:\w+:)?Relationship\s[^>]*>`)
	sheetRE = regexp.MustCompile(`<(?:\w+:)?sheet\s[^>]*>`)
	anyIDRE = regexp.MustCompile(`\s\w+:id="([^"]*)"`)
)

func attr(tag []byte, name string) string {
	re := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `="([^"]*)"`)
	if m := re.FindSubmatch(tag); m != nil {
		return string(m[1])
	}
	return ""
}

func xmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'").Replace(s)
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:40]) + "…"
}

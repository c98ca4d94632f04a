package spatialindex

import (
	"slices"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"

	"riskmap/pkg/riskmap"
)

// Each feature keeps its unit's GeoJSON (names, control measures, explanations: about 1.8 KB
// of mostly Chinese text for a synthetic unit) for lists, details and exports. It is kept
// compressed, in S2's block format against a dictionary made of the documents a load meets
// first: the documents of a register repeat one another's keys, categories, departments and
// control measures, so a unit's document takes about 320 bytes instead of 1,850, and comes
// back in under a microsecond (klauspost/compress/s2; zstd with a trained dictionary was
// smaller, 270 bytes, but took 20 µs a document to compress and 3 µs to read).

// dictDocs is how many documents the dictionary is made of, at most dictBytes of them.
const (
	dictDocs  = 1024
	dictBytes = 64000 // s2.MaxDictSize is 65536
)

// makeDict makes a dictionary of documents spread over docs, or nil when they are too few
// to make one.
func makeDict(docs [][]byte) *s2.Dict {
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	step := 1
	if total > dictBytes {
		step = (total + dictBytes - 1) / dictBytes
	}
	var hist []byte
	for i := 0; i < len(docs); i += step {
		if len(hist)+len(docs[i]) > dictBytes {
			break
		}
		hist = append(hist, docs[i]...)
	}
	if len(hist) < s2.MinDictSize {
		return nil
	}
	return s2.MakeDict(hist, []byte(`{"type":"Feature"`))
}

// docBuffers hold documents as they are encoded, encodeBuffers as they are compressed.
var docBuffers, encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}, sync.Pool{New: func() any { return new([]byte) }}

// docSource says how the features that point to it keep their documents: compressed with
// dict, or as they are when dict is nil; or, when write is set, not at all, written from
// the facts when read (a public index, NewPublic).
//
// With head set, a document that begins with what head writes from the feature's facts is
// kept without that beginning (the id, the geometry, the code and the name of a register
// document: a quarter of what compression leaves of it), and head writes it back when the
// document is read. A document kept whole begins with '{', one kept without its head with
// ',' (the comma before the next property), so the two are told apart when read.
type docSource struct {
	dict  *s2.Dict
	write Writer
	head  *Head
}

// Head is the beginning of an index's documents that the facts it keeps say, so that the
// documents need not keep it (Index.SetHead): Write writes it from the facts, Len says how
// long it is at the start of a document encoded from the same unit, without writing it (0
// when the document does not begin with it followed by a comma). Len must only return a
// length where what Write writes is exactly what the document holds there: the index's
// Encoder must write the facts as they are (featurejson.FeatureHeadLen finds the geometry
// without comparing it), and a feature's geometry must not change once indexed, as
// everything else about it (a document kept without its head follows its facts).
type Head struct {
	Write Writer
	Len   func(doc []byte, id int64, f *riskmap.UnitFacts) int
}

// strip returns raw without its head, when Len finds it followed by a comma; else raw whole.
func (h *Head) strip(raw []byte, id int64, f *riskmap.UnitFacts) []byte {
	if n := h.Len(raw, id, f); n > 0 && n < len(raw) && raw[n] == ',' {
		return raw[n:]
	}
	return raw
}

// setDoc keeps a copy of raw as f's document, compressed with src's dictionary when there is
// one, and without its head when src has one and raw begins with it.
func setDoc(f *Feature, raw []byte, src *docSource) {
	if src == nil || src.dict == nil || raw == nil {
		f.doc, f.src = string(raw), nil
		return
	}
	if src.head != nil {
		raw = src.head.strip(raw, f.ID, &f.UnitFacts)
	}
	dict := src.dict
	bp := encodeBuffers.Get().(*[]byte)
	if n := s2.MaxEncodedLen(len(raw)); cap(*bp) < n {
		*bp = make([]byte, n)
	}
	enc := dict.Encode((*bp)[:0], raw)
	f.doc, f.src = string(enc), src
	*bp = enc[:0]
	encodeBuffers.Put(bp)
}

// emptyFeature stands for a document that cannot be read back, which only a fault of
// memory could cause: a list stays valid GeoJSON.
const emptyFeature = `{"type":"Feature","geometry":null,"properties":{}}`

// HasJSON reports whether the feature has a document: one kept, or a public index's Writer
// (an index made without either has none).
func (f *Feature) HasJSON() bool { return f.doc != "" || f.src != nil && f.src.write != nil }

// AppendJSON appends the unit's GeoJSON Feature to dst.
func (f *Feature) AppendJSON(dst []byte) []byte {
	src := f.src
	switch {
	case src != nil && src.write != nil:
		return src.write(dst, f.ID, &f.UnitFacts)
	case src == nil || src.dict == nil:
		return append(dst, f.doc...)
	}
	// The kept bytes, read in place (the decoder only reads them).
	kept := unsafe.Slice(unsafe.StringData(f.doc), len(f.doc))
	n, err := s2.DecodedLen(kept)
	if err != nil || n == 0 {
		return append(dst, emptyFeature...)
	}
	start := len(dst)
	if src.head != nil {
		// Most documents are kept without their head: write it first, and take it out
		// again for one that turns out to be whole.
		dst = src.head.Write(dst, f.ID, &f.UnitFacts)
	}
	at := len(dst)
	dst = slices.Grow(dst, n)[:at+n]
	out, err := src.dict.Decode(dst[at:], kept)
	switch {
	case err != nil || len(out) != n:
		return append(dst[:start], emptyFeature...)
	case at > start && out[0] != ',': // kept whole (only a headless one begins so)
		return dst[:start+copy(dst[start:], out)]
	}
	return dst
}

// JSON returns the unit's GeoJSON Feature, a copy the caller may keep and change (nil when
// the feature has none: HasJSON).
func (f *Feature) JSON() []byte {
	if !f.HasJSON() {
		return nil
	}
	return f.AppendJSON(nil)
}

// KeptBytes is the size of the document as kept (0 when it is written from the facts).
func (f *Feature) KeptBytes() int { return len(f.doc) }

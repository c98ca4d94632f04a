// Package unitcodec reads a risk unit as both stores keep it, and writes its JSON documents
// for both: the documents (assessment, grade explanation, controls, and the GeoPackage's
// list of accident types; read by Reader, written by the Append functions),
// its WKB geometry, its grade and status, and the way a store reads the whole register
// back: ranges of ids read on several connections and yielded in order. PostGIS and the
// GeoPackage store the same documents in the same JSON and the same WKB, so one reader and
// one appender serve both and a fix reaches both.
package unitcodec

import "riskmap/pkg/riskmap"

// InternGrade and InternStatus return the riskmap constants for the values they know, so
// that a unit's grade and status hold on to no row's text.
func InternGrade(s string) riskmap.Grade {
	for _, g := range riskmap.Grades {
		if string(g) == s {
			return g
		}
	}
	return riskmap.Grade(s)
}

// InternStatus is InternGrade for a status.
func InternStatus(s string) riskmap.Status {
	for _, st := range [...]riskmap.Status{riskmap.StatusApproved, riskmap.StatusDraft, riskmap.StatusSubmitted, riskmap.StatusRetired} {
		if string(st) == s {
			return st
		}
	}
	return riskmap.Status(s)
}

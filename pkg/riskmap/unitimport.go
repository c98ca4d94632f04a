package riskmap

import "context"

// ImportWrite is one unit an import writes: a new unit (ID 0) or a new revision of unit
// ID whose stored version must still be Version. Author, when not nil, is the unit's
// author record as it is to be kept with the write (SetUnitAuthor); the store sets its
// UnitID. Unit.Author is recorded as for CreateUnit and UpdateUnit.
type ImportWrite struct {
	Unit   *Unit
	Author *UnitAuthor
}

// UnitImport is what an import (Excel 导入) writes, all of it in one transaction.
type UnitImport struct {
	// Writes are the units, prepared (validated and graded), in the order written.
	Writes []ImportWrite
	// Progress, when set, is called now and then with the count of units written so far,
	// and once when all are written (before the commit).
	Progress func(written int)
	// Record, when set, builds what the import keeps besides the units (its audit row, the
	// answer for an Idempotency-Key; Author is ignored); it is called once every unit is
	// written, inside the transaction. An error rolls everything back.
	Record func() (*WriteRecords, error)
}

// UnitImportStore is the narrow store an import needs; both stores implement it (contract:
// storetest's Imports).
type UnitImportStore interface {
	// UnitsByCode returns the units that are not retired whose code is among codes (at
	// most 1000 codes a call), in no particular order.
	UnitsByCode(ctx context.Context, codes []string) ([]*Unit, error)
	// ImportUnits writes every unit of imp in one transaction: all or nothing. A unit
	// changed since its Version is EPRECONDITION, a missing one ENOTFOUND, a code taken
	// ECONFLICT; ctx ending stops the import (its error); in each case nothing is written.
	// Written units get ID, Version, CreatedAt and UpdatedAt (and Status, draft when "").
	ImportUnits(ctx context.Context, imp *UnitImport) error
}

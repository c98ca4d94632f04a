package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Packing the R-tree of a bulk load.
//
// Inserting a million entries into SQLite's R*Tree one at a time costs about a fifth of a
// million-unit load, even in Hilbert order. When a load brings at least as many entries as
// the index holds, the store instead packs the whole tree (sort-tile-recursive) and writes
// SQLite's shadow tables directly, as GDAL's GeoPackage driver also does since 3.8. The
// format is rtree.c's ("Database Format of R-Tree Tables"):
//
//	<name>_node(nodeno INTEGER PRIMARY KEY, data BLOB)   node 1 is the root
//	<name>_parent(nodeno INTEGER PRIMARY KEY, parentnode) for every node but the root
//	<name>_rowid(rowid INTEGER PRIMARY KEY, nodeno)       the leaf of every entry
//
// A node blob is a 2-byte tree depth (meaningful in the root only; leaves are depth 0), a
// 2-byte cell count, then cells of an 8-byte id (entry id in a leaf, child node number
// otherwise) and minx, maxx, miny, maxy as 4-byte floats, all big-endian, zero-padded to the
// node size. Coordinates are rounded outwards to float32, as SQLite does. The tests check
// the result with SQLite's own rtreecheck().

// rtreeCellSize is the bytes of one cell of a 2-D float R-tree.
const rtreeCellSize = 8 + 4*4

// rtreeCell is an entry or a child node with its box in R-tree precision.
type rtreeCell struct {
	id                     int64
	minx, maxx, miny, maxy float32
}

// cellOf rounds a box outwards to float32.
func cellOf(id int64, b orb.Bound) rtreeCell {
	return rtreeCell{id: id, minx: down32(b.Min[0]), maxx: up32(b.Max[0]), miny: down32(b.Min[1]), maxy: up32(b.Max[1])}
}

func down32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func (c rtreeCell) cx() float32 { return c.minx/2 + c.maxx/2 }
func (c rtreeCell) cy() float32 { return c.miny/2 + c.maxy/2 }

// union returns the box around cells.
func union(cells []rtreeCell) rtreeCell {
	u := cells[0]
	for _, c := range cells[1:] {
		u.minx, u.maxx = min(u.minx, c.minx), max(u.maxx, c.maxx)
		u.miny, u.maxy = min(u.miny, c.miny), max(u.maxy, c.maxy)
	}
	return u
}

// packLevel groups cells into nodes of at most m cells, sort-tile-recursive: vertical
// slices by x, then runs by y within each slice, so that each node covers a compact area.
func packLevel(cells []rtreeCell, m int) [][]rtreeCell {
	nodes := (len(cells) + m - 1) / m
	slicesN := int(math.Ceil(math.Sqrt(float64(nodes))))
	perSlice := slicesN * m
	slices.SortFunc(cells, func(a, b rtreeCell) int { return cmp.Compare(a.cx(), b.cx()) })
	var out [][]rtreeCell
	for start := 0; start < len(cells); start += perSlice {
		s := cells[start:min(start+perSlice, len(cells))]
		slices.SortFunc(s, func(a, b rtreeCell) int { return cmp.Compare(a.cy(), b.cy()) })
		for i := 0; i < len(s); i += m {
			out = append(out, s[i:min(i+m, len(s))])
		}
	}
	return out
}

// packedNode is one node of a packed tree.
type packedNode struct {
	no     int64
	parent int64 // 0 for the root
	cells  []rtreeCell
}

// packRTree builds a packed tree over entries (which it reorders) and returns its nodes,
// numbered from 1 (the root) level by level down to the leaves, which come last; the depth
// of the tree; and the number of leaves.
func packRTree(entries []rtreeCell, m int) ([]packedNode, int, int) {
	// levels[0] are the leaves; every level's cells point into the level below.
	levels := [][][]rtreeCell{packLevel(entries, m)}
	for len(levels[len(levels)-1]) > 1 {
		below := levels[len(levels)-1]
		parents := make([]rtreeCell, len(below))
		for i, n := range below {
			parents[i] = union(n)
			parents[i].id = int64(i) // index into below, renumbered at the end
		}
		levels = append(levels, packLevel(parents, m))
	}
	// Number nodes from the root down: the root must be node 1.
	depth := len(levels) - 1
	numbers := make([][]int64, len(levels))
	next := int64(1)
	for l := depth; l >= 0; l-- {
		numbers[l] = make([]int64, len(levels[l]))
		for i := range levels[l] {
			numbers[l][i] = next
			next++
		}
	}
	var out []packedNode
	for l := depth; l >= 0; l-- {
		for i, cells := range levels[l] {
			out = append(out, packedNode{no: numbers[l][i], cells: cells})
		}
	}
	byNo := func(no int64) *packedNode { return &out[no-1] }
	for l := depth; l >= 1; l-- {
		for i, cells := range levels[l] {
			for j := range cells {
				child := numbers[l-1][cells[j].id]
				cells[j].id = child
				byNo(child).parent = numbers[l][i]
			}
		}
	}
	return out, depth, len(levels[0])
}

// encodeNode writes a node blob of size bytes.
func encodeNode(n packedNode, depth, size int) []byte {
	b := make([]byte, size)
	if n.no == 1 {
		binary.BigEndian.PutUint16(b, uint16(depth))
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(n.cells)))
	off := 4
	for _, c := range n.cells {
		binary.BigEndian.PutUint64(b[off:], uint64(c.id))
		binary.BigEndian.PutUint32(b[off+8:], math.Float32bits(c.minx))
		binary.BigEndian.PutUint32(b[off+12:], math.Float32bits(c.maxx))
		binary.BigEndian.PutUint32(b[off+16:], math.Float32bits(c.miny))
		binary.BigEndian.PutUint32(b[off+20:], math.Float32bits(c.maxy))
		off += rtreeCellSize
	}
	return b
}

// rtreeSize returns the number of entries in the units' R-tree.
func rtreeSize(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM rtree_risk_units_geom_rowid").Scan(&n)
	return n, err
}

// rebuildIndex replaces the units' R-tree with a packed tree over its current entries and
// the new ones. It runs inside the load's transaction, with the insert trigger suspended.
func (s *Store) rebuildIndex(ctx context.Context, tx *sql.Tx, added []indexEntry) error {
	var nodeSize int
	if err := tx.QueryRowContext(ctx, "SELECT length(data) FROM rtree_risk_units_geom_node WHERE nodeno = 1").Scan(&nodeSize); err != nil {
		return s.dbErr(err, "read the R-tree root")
	}
	m := (nodeSize - 4) / rtreeCellSize
	if m < 4 || m > 0xFFFF {
		return fmt.Errorf("gpkg: R-tree node size %d is not usable", nodeSize)
	}
	cells := make([]rtreeCell, 0, len(added))
	rows, err := tx.QueryContext(ctx, "SELECT id, minx, maxx, miny, maxy FROM rtree_risk_units_geom")
	if err != nil {
		return s.dbErr(err, "read the R-tree")
	}
	for rows.Next() {
		var c rtreeCell
		var minx, maxx, miny, maxy float64 // float32 values already: the conversion is exact
		if err := rows.Scan(&c.id, &minx, &maxx, &miny, &maxy); err != nil {
			rows.Close()
			return s.dbErr(err, "read the R-tree")
		}
		c.minx, c.maxx, c.miny, c.maxy = float32(minx), float32(maxx), float32(miny), float32(maxy)
		cells = append(cells, c)
	}
	if err := rows.Close(); err != nil {
		return s.dbErr(err, "read the R-tree")
	}
	for _, e := range added {
		cells = append(cells, cellOf(e.id, e.b))
	}
	if len(cells) == 0 {
		return nil
	}
	nodes, depth, leaves := packRTree(cells, m)
	// Each entry's leaf, in id order so that the _rowid inserts append.
	type leafOf struct{ id, leaf int64 }
	rowids := make([]leafOf, 0, len(cells))
	for _, n := range nodes[len(nodes)-leaves:] {
		for _, c := range n.cells {
			rowids = append(rowids, leafOf{c.id, n.no})
		}
	}
	slices.SortFunc(rowids, func(a, b leafOf) int { return cmp.Compare(a.id, b.id) })

	for _, q := range []string{"DELETE FROM rtree_risk_units_geom_node", "DELETE FROM rtree_risk_units_geom_parent",
		"DELETE FROM rtree_risk_units_geom_rowid"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return s.dbErr(err, "clear the R-tree")
		}
	}
	nodeStmt, err := tx.PrepareContext(ctx, "INSERT INTO rtree_risk_units_geom_node (nodeno, data) VALUES (?, ?)")
	if err != nil {
		return s.dbErr(err, "write the R-tree")
	}
	defer nodeStmt.Close()
	parentStmt, err := tx.PrepareContext(ctx, "INSERT INTO rtree_risk_units_geom_parent (nodeno, parentnode) VALUES (?, ?)")
	if err != nil {
		return s.dbErr(err, "write the R-tree")
	}
	defer parentStmt.Close()
	for _, n := range nodes {
		if _, err := nodeStmt.ExecContext(ctx, n.no, encodeNode(n, depth, nodeSize)); err != nil {
			return s.dbErr(err, "write the R-tree")
		}
		if n.parent != 0 {
			if _, err := parentStmt.ExecContext(ctx, n.no, n.parent); err != nil {
				return s.dbErr(err, "write the R-tree")
			}
		}
	}
	return s.execEach(ctx, tx, "write the R-tree", "write the R-tree",
		"INSERT INTO rtree_risk_units_geom_rowid (rowid, nodeno) VALUES (?, ?)",
		len(rowids), 4096, func(i int) []any { return []any{rowids[i].id, rowids[i].leaf} })
}

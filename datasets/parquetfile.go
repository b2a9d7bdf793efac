package datasets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// parquetSource reads a Parquet file one row group at a time. Rows are
// decoded from the schema itself (each leaf's path and its definition and
// repetition levels) rather than through reflection, so files from pyarrow,
// DuckDB or Spark decode alike: LIST columns in any of their encodings,
// nested structs such as ARC's choices {text, label}, dictionary-encoded
// strings and nulls.
type parquetSource struct {
	name   string
	f      *os.File
	pf     *parquet.File
	leaves []leaf
	groups []parquet.RowGroup
	gi     int
	rows   parquet.Rows
	buf    []parquet.Row
	bufN   int
	bufI   int
	row    int
}

// leaf describes one column: where it goes in the record and how to read
// its levels.
type leaf struct {
	path        []string // record path, list wrapper names removed
	repeated    bool     // inside one repeated group (a list)
	repDef      int      // definition level at which a list element exists
	maxDef      int
	unsupported string // non-empty: why this column cannot be read
}

func openParquet(f *os.File, name string) (source, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fileError(name, "%v", err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fileError(name, "not a readable Parquet file: %v", err)
	}
	s := &parquetSource{name: name, f: f, pf: pf, groups: pf.RowGroups(), buf: make([]parquet.Row, 128)}
	s.leaves = leavesOf(pf.Schema())
	return s, nil
}

// leavesOf walks the schema depth-first, in column order.
func leavesOf(schema *parquet.Schema) []leaf {
	var out []leaf
	var walk func(n parquet.Node, path []string, def, rep, repDef int)
	walk = func(n parquet.Node, path []string, def, rep, repDef int) {
		if n.Leaf() {
			l := leaf{path: cleanListPath(path), repeated: rep == 1, repDef: repDef, maxDef: def}
			if rep > 1 {
				l.unsupported = "a list of lists (a nested LIST column) is not supported"
			}
			out = append(out, l)
			return
		}
		for _, fld := range n.Fields() {
			d, r, rd := def, rep, repDef
			if fld.Optional() {
				d++
			}
			if fld.Repeated() {
				d++
				r++
				if r == 1 {
					rd = d
				}
			}
			walk(fld, append(append([]string{}, path...), fld.Name()), d, r, rd)
		}
	}
	walk(schema, nil, 0, 0, 0)
	return out
}

// cleanListPath drops the wrapper groups of the LIST encodings
// (list/element, bag/array_element, array/item), so ["choices", "list",
// "element"] becomes ["choices"].
func cleanListPath(path []string) []string {
	out := make([]string, 0, len(path))
	for i, p := range path {
		if i > 0 {
			switch p {
			case "list", "element", "bag", "array_element", "item", "array":
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func (s *parquetSource) next() (*raw, error) {
	for s.bufI >= s.bufN {
		if s.rows == nil {
			if s.gi >= len(s.groups) {
				return nil, io.EOF
			}
			s.rows = s.groups[s.gi].Rows()
			s.gi++
		}
		n, err := s.rows.ReadRows(s.buf)
		s.bufN, s.bufI = n, 0
		if err == io.EOF {
			s.rows.Close()
			s.rows = nil
			if n == 0 {
				continue
			}
		} else if err != nil {
			return nil, fileError(s.name, "row %d: %v", s.row, err)
		}
	}
	row := s.buf[s.bufI]
	s.bufI++
	loc := Location{File: s.name, Row: s.row}
	s.row++
	m, rerr := s.decode(row, loc)
	if rerr != nil {
		return nil, rerr
	}
	return &raw{fields: m, loc: loc}, nil
}

func (s *parquetSource) decode(row parquet.Row, loc Location) (map[string]any, *RecordError) {
	m := map[string]any{}
	var rerr *RecordError
	row.Range(func(col int, vals []parquet.Value) bool {
		if col >= len(s.leaves) {
			rerr = recordErr(loc, "", "row has more columns than the schema")
			return false
		}
		l := s.leaves[col]
		field := strings.Join(l.path, ".")
		if l.unsupported != "" {
			// Keep the reason: a layout that needs this column says why
			// it cannot have it, instead of calling it missing.
			setPath(m, l.path, unsupported(l.unsupported))
			return true
		}
		if !l.repeated {
			if len(vals) == 0 || vals[0].DefinitionLevel() < l.maxDef {
				setPath(m, l.path, nil)
				return true
			}
			v, err := goValue(vals[0])
			if err != nil {
				rerr = recordErr(loc, field, "%v", err)
				return false
			}
			setPath(m, l.path, v)
			return true
		}
		// A list: one value per element; a single value below repDef means
		// an empty (or null) list.
		if len(vals) == 1 && vals[0].DefinitionLevel() < l.repDef {
			if vals[0].DefinitionLevel() == l.repDef-1 {
				setPath(m, l.path, []any{})
			} else {
				setPath(m, l.path, nil)
			}
			return true
		}
		list := make([]any, 0, len(vals))
		for _, v := range vals {
			if v.DefinitionLevel() < l.maxDef {
				list = append(list, nil)
				continue
			}
			x, err := goValue(v)
			if err != nil {
				rerr = recordErr(loc, field, "%v", err)
				return false
			}
			list = append(list, x)
		}
		setPath(m, l.path, list)
		return true
	})
	return m, rerr
}

// setPath stores v under a nested path, creating maps as needed.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

func goValue(v parquet.Value) (any, error) {
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean(), nil
	case parquet.Int32:
		return int64(v.Int32()), nil
	case parquet.Int64:
		return v.Int64(), nil
	case parquet.Float:
		return float64(v.Float()), nil
	case parquet.Double:
		return v.Double(), nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := v.ByteArray()
		if !utf8.Valid(b) {
			return nil, errors.New("invalid UTF-8")
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("unsupported Parquet type %v", v.Kind())
}

func (s *parquetSource) emptyReason() string { return "the file has no rows" }

func (s *parquetSource) close() error {
	if s.rows != nil {
		s.rows.Close()
	}
	return s.f.Close()
}

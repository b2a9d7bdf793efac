package datasets

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// format is a file format, from the file name.
type format int

const (
	formatJSONL format = iota + 1
	formatJSONLGz
	formatJSON
	formatCSV
	formatParquet
)

func formatOf(path string) (format, bool) {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".jsonl.gz"), strings.HasSuffix(name, ".ndjson.gz"):
		return formatJSONLGz, true
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"):
		return formatJSONL, true
	case strings.HasSuffix(name, ".json"):
		return formatJSON, true
	case strings.HasSuffix(name, ".csv"):
		return formatCSV, true
	case strings.HasSuffix(name, ".parquet"):
		return formatParquet, true
	}
	return 0, false
}

// stem is the file name without its format extensions: "mmlu.jsonl.gz" is
// "mmlu". IDs of records without their own are "<stem>:<row>".
func stem(path string) string {
	name := filepath.Base(path)
	for _, ext := range []string{".gz", ".jsonl", ".ndjson", ".json", ".csv", ".parquet"} {
		if len(name) > len(ext) && strings.EqualFold(name[len(name)-len(ext):], ext) {
			name = name[:len(name)-len(ext)]
		}
	}
	return name
}

// resolve expands each path (a file, a directory, or a glob) into the
// supported data files, each group sorted so the order is the same on every
// machine.
func resolve(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("datasets: no dataset path given")
	}
	for _, p := range paths {
		// A path that exists is taken as it is, so a name with brackets
		// ("data[1].jsonl") is not read as a pattern.
		_, statErr := os.Stat(p)
		if statErr != nil && strings.ContainsAny(p, "*?[") {
			matches, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("datasets: %s: bad pattern: %w", p, err)
			}
			var files []string
			for _, m := range matches {
				if _, ok := formatOf(m); ok {
					if st, err := os.Stat(m); err == nil && !st.IsDir() {
						files = append(files, m)
					}
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("datasets: %s: no .jsonl, .jsonl.gz, .json, .csv or .parquet file matches", p)
			}
			slices.Sort(files)
			for _, f := range files {
				add(f)
			}
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		if !st.IsDir() {
			if _, ok := formatOf(p); !ok {
				return nil, fmt.Errorf("datasets: %s: unsupported file type (want .jsonl, .jsonl.gz, .json, .csv or .parquet)", p)
			}
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		var files []string
		for _, e := range entries {
			// Hidden files are left out: macOS copies carry "._name.csv"
			// resource forks, and Convert writes ".partial-" files while
			// it works.
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if _, ok := formatOf(e.Name()); ok {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("datasets: %s: directory holds no .jsonl, .jsonl.gz, .json, .csv or .parquet file", p)
		}
		slices.Sort(files)
		for _, f := range files {
			add(f)
		}
	}
	return out, nil
}

var (
	magicParquet = []byte("PAR1")
	magicGzip    = []byte{0x1f, 0x8b}
	utf8BOM      = []byte{0xEF, 0xBB, 0xBF}
)

// sniff checks that a file's first bytes agree with its extension, so a
// mislabelled file fails with a clear message instead of a flood of parse
// errors.
func sniff(f *os.File, name string, fm format) error {
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fileError(name, "%v", err)
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fileError(name, "%v", err)
	}
	what := func() string {
		switch {
		case bytes.HasPrefix(head, magicParquet):
			return "a Parquet file"
		case bytes.HasPrefix(head, magicGzip):
			return "gzip-compressed"
		case bytes.IndexByte(head, 0) >= 0:
			return "binary"
		}
		return ""
	}
	switch fm {
	case formatParquet:
		if !bytes.HasPrefix(head, magicParquet) {
			if w := what(); w != "" {
				return fileError(name, "not a Parquet file: it is %s", w)
			}
			return fileError(name, "not a Parquet file: no PAR1 magic")
		}
	case formatJSONLGz:
		if !bytes.HasPrefix(head, magicGzip) {
			return fileError(name, "not gzip-compressed, though the name ends in .gz")
		}
	case formatJSONL, formatJSON, formatCSV:
		kind := map[format]string{formatJSONL: "JSONL", formatJSON: "JSON", formatCSV: "CSV"}[fm]
		if w := what(); w != "" {
			return fileError(name, "not %s: it is %s", kind, w)
		}
		// Text in the wrong format would otherwise fail record by record
		// (or, for JSON in a .csv, pass as a header with no rows).
		like := looksLike(head)
		switch {
		case fm == formatCSV && like == "JSON lines":
			return fileError(name, "not CSV: looks like JSON lines (one object per line); name it .jsonl")
		case fm == formatCSV && like == "a JSON array":
			return fileError(name, "not CSV: looks like a JSON array; name it .json")
		case fm == formatJSONL && like == "a JSON array":
			return fileError(name, "not JSONL: looks like a JSON array; name it .json")
		case fm == formatJSONL && like == "CSV":
			return fileError(name, "not JSONL: looks like CSV (the first line is %q); name it .csv", firstLine(head))
		}
	}
	return nil
}

// looksLike guesses a text format from a file's first bytes: "JSON lines",
// "a JSON array", "CSV", or "" when it cannot tell. It errs towards "":
// only shapes no real file of the other format starts with count.
func looksLike(head []byte) string {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(b) == 0 {
		return ""
	}
	switch b[0] {
	case '{':
		if rest := bytes.TrimLeft(b[1:], " \t\r\n"); len(rest) > 0 && (rest[0] == '"' || rest[0] == '}') {
			return "JSON lines"
		}
		return ""
	case '[':
		if rest := bytes.TrimLeft(b[1:], " \t\r\n"); len(rest) > 0 && (rest[0] == '{' || rest[0] == ']') {
			return "a JSON array"
		}
		return ""
	}
	line := firstLine(b)
	if strings.Contains(line, ",") && !strings.ContainsAny(line, "{[") {
		return "CSV"
	}
	return ""
}

// firstLine is the first line of b, cut to 60 bytes for messages.
func firstLine(b []byte) string {
	b = bytes.TrimPrefix(b, utf8BOM)
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}

// displayName shortens a path for messages: relative paths stay as given,
// so users recognise them.
func displayName(path string) string {
	return filepath.ToSlash(filepath.Clean(path))
}

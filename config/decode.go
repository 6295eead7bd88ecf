package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// problem converts one positioned decode error.
func (ix *docIndex) problem(de *toml.DecodeError) Problem {
	line, col := de.Position()
	key := []string(de.Key())
	raw := ix.find(key, line, col)
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	switch msg {
	case "unknown field":
		// Point at the table holding the key: the key itself is in the message.
		raw = parentKey(raw)
		msg = fmt.Sprintf("unknown key %q%s", last(key), suggestKey(key))
	case "missing table":
		raw = parentKey(raw)
		msg = fmt.Sprintf("unknown table %q%s", last(key), suggestKey(key))
	default:
		msg = rewriteMismatch(msg)
	}
	return Problem{Path: displayPath(raw, ix.nameOf), Line: line, Message: msg, key: raw, col: col}
}

func last(key []string) string {
	if len(key) == 0 {
		return ""
	}
	return key[len(key)-1]
}

// mismatchRE matches go-toml's type mismatch message; compiled on first
// use, as only a broken config needs it (every command loads a config, and
// process start-up counts for a one-shot check).
var mismatchRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^cannot decode TOML (.+?) into (?:struct field \S+ of type|a Go value of type) (\S+)$`)
})

// wantOf says, per Go type of the config, what to write instead.
var wantOf = map[string]string{
	"int":               "an integer",
	"bool":              "true or false",
	"string":            "a string",
	"[]string":          "an array of strings",
	"config.Secret":     "a string",
	"config.Duration":   `a duration string such as "10s", "15m" or "30d"`,
	"config.Schedule":   `a cron spec string such as "*/15 * * * *" or "@hourly"`,
	"config.Date":       `a date such as 2027-06-01`,
	"config.HostPort":   `an address string such as "192.0.2.10:443"`,
	"config.Resolver":   `an IP:PORT string such as "127.0.0.1:53"`,
	"pinwatchd.Pin":     `a pin string such as "sha256/…"`,
	"[]pinwatchd.Pin":   `an array of pin strings such as ["sha256/…", "sha256/…"]`,
	"[]config.HostPort": `an array of address strings such as ["192.0.2.10:443"]`,
}

// rewriteMismatch turns "cannot decode TOML string into struct field
// main.TargetConfig.Port of type int" into "want an integer, got a string".
func rewriteMismatch(msg string) string {
	m := mismatchRE().FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got, typ := m[1], m[2]
	want, ok := wantOf[typ]
	switch {
	case ok:
	case strings.HasPrefix(typ, "[]config."):
		want = "an array of tables, written [[name]]"
	case strings.HasPrefix(typ, "config."):
		want = "a table, written [name]"
	default:
		want = typ
	}
	return fmt.Sprintf("want %s, got a TOML %s", want, got)
}

// textFields maps the dotted key (without indices) of every field decoded
// through UnmarshalText to its Go type name, e.g. "target.pins" →
// "pinwatchd.Pin".
var textFields = func() map[string]string {
	m := map[string]string{}
	for table, t := range tableTypes {
		for f := range t.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if tag != "" && ft.Kind() != reflect.String && reflect.PointerTo(ft).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
				m[joinKey(table, tag)] = ft.String()
			}
		}
	}
	return m
}()

// nonStringValues reports every integer, float or boolean written where a
// string is wanted (a duration, schedule, pin, date, address or secret).
func (ix *docIndex) nonStringValues() []Problem {
	var probs []Problem
	for path, k := range ix.scalars {
		typ, ok := textFields[stripIndices(path)]
		if !ok || k == unstable.String {
			continue
		}
		got := strings.ToLower(k.String())
		if k == unstable.Bool {
			got = "boolean"
		}
		probs = append(probs, Problem{
			Path:    displayPath(path, ix.nameOf),
			Line:    ix.pos[path].line,
			Message: fmt.Sprintf("want %s, got a TOML %s", wantOf[typ], got),
			key:     path,
			col:     ix.pos[path].col,
		})
	}
	sort.Slice(probs, func(i, j int) bool {
		a, b := ix.pos[probs[i].key], ix.pos[probs[j].key]
		return a.line < b.line || a.line == b.line && a.col < b.col
	})
	return probs
}

// tableTypes maps the dotted key of each table to its Go type, for
// suggestions on unknown keys.
var tableTypes = map[string]reflect.Type{
	"":        reflect.TypeFor[Config](),
	"alerts":  reflect.TypeFor[AlertsConfig](),
	"slack":   reflect.TypeFor[SlackConfig](),
	"http":    reflect.TypeFor[HTTPConfig](),
	"metrics": reflect.TypeFor[MetricsConfig](),
	"pinset":  reflect.TypeFor[PinSetConfig](),
	"target":  reflect.TypeFor[TargetConfig](),
}

// suggestKey returns "; did you mean "host"?" for a near miss, else the list
// of known keys of the table.
func suggestKey(key []string) string {
	if len(key) == 0 {
		return ""
	}
	t, ok := tableTypes[strings.Join(key[:len(key)-1], ".")]
	if !ok {
		return ""
	}
	var known []string
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag != "" && tag != "-" {
			known = append(known, tag)
		}
	}
	bad := last(key)
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(bad), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; known keys: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// position is a 1-based line and column.
type position struct{ line, col int }

// docIndex maps the raw key paths of a document ("target[2].pinsets[0]") to
// where they are written, and array tables ("target[2]") to their name. It
// is built only when there is a problem to report.
type docIndex struct {
	lineStarts []int
	pos        map[string]position
	names      map[string]string
	scalars    map[string]unstable.Kind // kind of every non-container value
	tables     []tableAt                // table headers in document order
}

// tableAt is a table header and its line.
type tableAt struct {
	path string
	line int
}

// indexDocument walks the document with go-toml's parser. A syntax error
// stops the walk; what came before is indexed.
func indexDocument(doc []byte) *docIndex {
	ix := &docIndex{lineStarts: []int{0}, pos: map[string]position{}, names: map[string]string{}, scalars: map[string]unstable.Kind{}}
	for i, b := range doc {
		if b == '\n' {
			ix.lineStarts = append(ix.lineStarts, i+1)
		}
	}
	counts := map[string]int{} // array table → elements seen
	prefix := ""
	var p unstable.Parser
	p.Reset(doc)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts, at := ix.keyOf(e)
			path, dotted := "", ""
			for i, part := range parts {
				path, dotted = joinKey(path, part), joinKey(dotted, part)
				n, isArray := counts[dotted]
				switch {
				case i == len(parts)-1 && e.Kind == unstable.ArrayTable:
					counts[dotted] = n + 1
					path += "[" + strconv.Itoa(n) + "]"
				case isArray && n > 0:
					path += "[" + strconv.Itoa(n-1) + "]"
				}
			}
			prefix = path
			ix.set(path, at)
			ix.tables = append(ix.tables, tableAt{path, at.line})
		case unstable.KeyValue:
			ix.keyValue(prefix, e)
		}
	}
	return ix
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// keyOf returns the parts of a node's key and where the key starts.
func (ix *docIndex) keyOf(n *unstable.Node) ([]string, position) {
	var parts []string
	var at position
	it := n.Key()
	for it.Next() {
		if parts == nil {
			at = ix.at(it.Node().Raw)
		}
		parts = append(parts, string(it.Node().Data))
	}
	return parts, at
}

func (ix *docIndex) keyValue(prefix string, kv *unstable.Node) {
	parts, at := ix.keyOf(kv)
	path := prefix
	for _, part := range parts {
		path = joinKey(path, part)
		ix.set(path, at)
	}
	val := kv.Value()
	if _, seen := ix.names[prefix]; !seen && len(parts) == 1 && parts[0] == "name" && val.Kind == unstable.String && prefix != "" {
		ix.names[prefix] = string(val.Data)
	}
	ix.value(path, val, at)
}

// value indexes the elements of arrays and the keys of inline tables.
func (ix *docIndex) value(path string, n *unstable.Node, at position) {
	switch n.Kind {
	case unstable.Array:
		i := 0
		for it := n.Children(); it.Next(); i++ {
			c := it.Node()
			p := path + "[" + strconv.Itoa(i) + "]"
			cat := at
			if c.Raw.Length > 0 {
				cat = ix.at(c.Raw)
			}
			ix.set(p, cat)
			ix.value(p, c, cat)
		}
	case unstable.InlineTable:
		for it := n.Children(); it.Next(); {
			if it.Node().Kind == unstable.KeyValue {
				ix.keyValue(path, it.Node())
			}
		}
	default:
		ix.scalars[path] = n.Kind
	}
}

func (ix *docIndex) set(path string, at position) {
	if _, ok := ix.pos[path]; !ok {
		ix.pos[path] = at
	}
}

// at converts a byte range of the document to its start position.
func (ix *docIndex) at(r unstable.Range) position {
	off := int(r.Offset)
	line := sort.SearchInts(ix.lineStarts, off+1) // lines starting at or before off
	return position{line: line, col: off - ix.lineStarts[line-1] + 1}
}

// line returns the line of a raw key path, or of its closest written
// ancestor (a missing key reports the line of its table); 0 if none.
func (ix *docIndex) line(key string) int {
	for key != "" {
		if p, ok := ix.pos[key]; ok {
			return p.line
		}
		key = parentKey(key)
	}
	return 0
}

// parentKey strips the last element of a raw key path: "a[1].b" → "a[1]" →
// "a" → "".
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// stripIndices turns "target[2].pins[0]" into "target.pins".
func stripIndices(key string) string {
	var b strings.Builder
	depth := 0
	for _, r := range key {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// find returns the raw key path of a decode error: among the paths whose
// dotted form is key, the one starting exactly at line:col, else the
// shortest on that line, else the dotted key itself.
func (ix *docIndex) find(key []string, line, col int) string {
	want := strings.Join(key, ".")
	best, exact := "", false
	for p, at := range ix.pos {
		if at.line != line || stripIndices(p) != want {
			continue
		}
		isExact := at.col == col
		switch {
		case best == "",
			isExact && !exact,
			isExact == exact && (len(p) < len(best) || len(p) == len(best) && p < best):
			best, exact = p, isExact
		}
	}
	if best != "" {
		return best
	}
	// Parser errors such as a key set twice carry the key without its
	// table: take the table whose header precedes the line.
	if want != "" {
		for i := len(ix.tables) - 1; i >= 0; i-- {
			if t := ix.tables[i]; t.line <= line {
				if stripIndices(t.path) != want && !strings.HasPrefix(want, stripIndices(t.path)+".") {
					return t.path + "." + want
				}
				break
			}
		}
	}
	return want
}

// nameOf returns the name of the array table "kind[i]" in the document.
func (ix *docIndex) nameOf(kind string, i int) string {
	return ix.names[kind+"["+strconv.Itoa(i)+"]"]
}

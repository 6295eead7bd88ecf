package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
)

// TestExpiresDateForms: a pin-set's expires is a TOML date or the same as a
// string (SPEC §10), both meaning midnight UTC of that day.
func TestExpiresDateForms(t *testing.T) {
	want := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, value := range map[string]string{
		"TOML date":     `2027-06-01`,
		"string":        `"2027-06-01"`,
		"literal":       `'2027-06-01'`,
		"padded string": `" 2027-06-01 "`,
		// The key spelled with an escape in a quoted key: the document
		// then never contains "expires" as written.
		"escaped key": `2027-06-01`,
	} {
		t.Run(name, func(t *testing.T) {
			key := "expires"
			if name == "escaped key" {
				key = `"\u0065xpires"`
			}
			doc := "[[pinset]]\nname = \"app\"\npins = [\"" + pinA + "\", \"" + pinB + "\"]\n" + key + " = " + value +
				"\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\npinsets = [\"app\"]\n"
			c, err := Parse(strings.NewReader(doc), "date.toml", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Targets()[0].PinSets[0].Expires; !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("expires = %s, want %s", got, want)
			}
		})
	}
}

// TestRenotifyOff: renotify_after = "0s" is accepted and means no
// reminders (the policy's zero); a negative value is refused with its line.
func TestRenotifyOff(t *testing.T) {
	const target = "\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"
	c, err := Parse(strings.NewReader("[alerts]\nrenotify_after = \"0s\"\n"+target), "zero.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.RenotifyAfter.Duration != 0 {
		t.Errorf("renotify_after = %v, want 0", c.Alerts.RenotifyAfter)
	}
	_, err = Parse(strings.NewReader("[alerts]\nrenotify_after = \"-1h\"\n"+target), "neg.toml", Options{})
	want := `neg.toml:2: alerts.renotify_after: renotify_after = "-1h0m0s" must not be negative; "0s" turns reminders off`
	if err == nil || err.Error() != want {
		t.Errorf("negative renotify_after: %v, want %s", err, want)
	}
}

// TestOnlyDateUnmarshalsTOML: decodeAll turns go-toml's Unmarshaler
// interface on only when a document can set a Date (mayHoldDate); a new
// config type with UnmarshalTOML would be skipped in other documents.
func TestOnlyDateUnmarshalsTOML(t *testing.T) {
	unmarshaler := reflect.TypeFor[unstable.Unmarshaler]()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		if ty != reflect.TypeFor[Date]() && (ty.Implements(unmarshaler) || reflect.PointerTo(ty).Implements(unmarshaler)) {
			t.Errorf("%s (%s) implements UnmarshalTOML: teach mayHoldDate its keys", path, ty)
		}
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(ty.Elem(), path+"[]")
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "Config")
	if !seen[reflect.TypeFor[Date]()] {
		t.Error("Date is not reachable from Config: the walk is broken")
	}
}

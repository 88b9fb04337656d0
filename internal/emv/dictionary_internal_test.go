package emv

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The dictionary and the Go structs describe the same messages twice; this test keeps them in step.
// A struct field the dictionary lacks would be decoded without ever being validated, and a dictionary
// entry without a field would be validated and then dropped.
func TestDictionaryAndStructsNameTheSameElements(t *testing.T) {
	for typ, table := range dictionary {
		compareNames(t, typ, table, reflect.TypeOf(newMessage(typ)).Elem())
	}
}

func compareNames(t *testing.T, where string, table []element, st reflect.Type) {
	t.Helper()
	fields := map[string]reflect.Type{}
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	var names []string
	for _, el := range table {
		if !slices.Contains(names, el.name) {
			names = append(names, el.name)
		}
		ft, ok := fields[el.name]
		if !ok {
			t.Errorf("%s: dictionary has %s, the struct does not", where, el.name)
			continue
		}
		sub := el.sub
		if el.item != nil && el.item.sub != nil {
			sub = el.item.sub
		}
		if inner := structOf(ft); sub != nil && inner != nil {
			compareNames(t, where+"."+el.name, sub, inner)
		}
	}
	for name := range fields {
		if !slices.Contains(names, name) {
			t.Errorf("%s: struct has %s, the dictionary does not", where, name)
		}
	}
}

// structOf finds the struct a field decodes into through pointers, slices and the two-shape types.
func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(CardholderInfo{}):
		return reflect.TypeOf(cardholderInfoObject{})
	case strings.HasPrefix(t.Name(), "OneOrMany["):
		f, _ := t.FieldByName("Items")
		return structOf(f.Type)
	case t.Kind() == reflect.Struct:
		return t
	}
	return nil
}

func TestEveryEntryBelongsToSomeVersion(t *testing.T) {
	var walk func(string, []element)
	walk = func(where string, table []element) {
		for _, el := range table {
			if el.in == 0 {
				t.Errorf("%s.%s belongs to no version", where, el.name)
			}
			if el.req&^req(el.in, anyCh, anyCat) != 0 {
				t.Errorf("%s.%s is required in a version that does not define it", where, el.name)
			}
			walk(where+"."+el.name, el.sub)
			if el.item != nil {
				walk(where+"."+el.name, el.item.sub)
			}
		}
	}
	for typ, table := range dictionary {
		walk(typ, table)
	}
}

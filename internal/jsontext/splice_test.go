package jsontext_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/radbridge/radbridge/internal/jsontext"
)

func compact(tb testing.TB, s string) jsontext.Object {
	tb.Helper()
	obj, err := jsontext.Compact([]byte(s))
	if err != nil {
		tb.Fatalf("Compact(%q) = %v", s, err)
	}
	return obj
}

// Example puts a server's id and meta.versionId first, keeps the rest of meta and every
// other member as sent, and sets status.
func Example() {
	obj, err := jsontext.Compact([]byte(`{
  "resourceType": "Observation",
  "meta": {"versionId": "7", "source": "urn:app"},
  "id": "client",
  "valueQuantity": {"value": 1.50, "unit": "mm"},
  "status": "preliminary"
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out := append([]byte(nil), '{')
	out = obj.AppendMembers(out, "resourceType")
	out = append(jsontext.AppendName(out, "id"), `"obs-1"`...)
	out = append(jsontext.AppendName(out, "meta"), '{')
	out = append(jsontext.AppendName(out, "versionId"), `"1"`...)
	if m, ok := obj.Last("meta"); ok {
		if meta, ok := m.Object(); ok {
			out = meta.AppendMembersExcept(out, "versionId")
		}
	}
	out = append(out, '}')
	out = obj.AppendMembersExcept(out, "resourceType", "id", "meta")
	out = append(out, '}')
	fmt.Println(string(out))

	stored, _ := jsontext.Compact(out)
	fmt.Println(string(stored.AppendSet(nil, "status", []byte(`"final"`))))
	// Output:
	// {"resourceType":"Observation","id":"obs-1","meta":{"versionId":"1","source":"urn:app"},"valueQuantity":{"value":1.50,"unit":"mm"},"status":"preliminary"}
	// {"resourceType":"Observation","id":"obs-1","meta":{"versionId":"1","source":"urn:app"},"valueQuantity":{"value":1.50,"unit":"mm"},"status":"final"}
}

func TestObject_AppendSet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "in place", in: `{"a":1,"status":"x","b":2}`, want: `{"a":1,"status":"new","b":2}`},
		{name: "added last", in: `{"a":1,"b":2}`, want: `{"a":1,"b":2,"status":"new"}`},
		{name: "empty", in: `{}`, want: `{"status":"new"}`},
		{name: "duplicates dropped", in: `{"status":1,"a":1,"st\u0061tus":2,"status":3}`, want: `{"status":"new","a":1}`},
		{name: "others kept", in: `{ "n" : 1.50 , "s" : "\u00e9\/" , "status":{"x":[]} }`, want: `{"n":1.50,"s":"\u00e9\/","status":"new"}`},
		{name: "only alike", in: `{"Status":"x","status ":"y"}`, want: `{"Status":"x","status ":"y","status":"new"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := compact(t, tc.in).AppendSet(nil, "status", []byte(`"new"`)); string(got) != tc.want {
				t.Errorf("AppendSet(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestObject_AppendMembers(t *testing.T) {
	obj := compact(t, `{"a":1,"b":[2],"\u0061":3,"c":{"d":4},"b":5}`)
	for _, tc := range []struct {
		names   []string
		members string
		except  string
	}{
		{names: nil, members: `{}`, except: `{"a":1,"b":[2],"\u0061":3,"c":{"d":4},"b":5}`},
		{names: []string{"a"}, members: `{"a":1,"\u0061":3}`, except: `{"b":[2],"c":{"d":4},"b":5}`},
		{names: []string{"b", "c"}, members: `{"b":[2],"c":{"d":4},"b":5}`, except: `{"a":1,"\u0061":3}`},
		{names: []string{"x"}, members: `{}`, except: `{"a":1,"b":[2],"\u0061":3,"c":{"d":4},"b":5}`},
	} {
		if got := append(obj.AppendMembers([]byte("{"), tc.names...), '}'); string(got) != tc.members {
			t.Errorf("AppendMembers(%q) = %s, want %s", tc.names, got, tc.members)
		}
		if got := append(obj.AppendMembersExcept([]byte("{"), tc.names...), '}'); string(got) != tc.except {
			t.Errorf("AppendMembersExcept(%q) = %s, want %s", tc.names, got, tc.except)
		}
	}
}

func TestAppendName(t *testing.T) {
	for _, tc := range []struct{ dst, name, want string }{
		{dst: "{", name: "id", want: `{"id":`},
		{dst: `{"a":1`, name: "id", want: `{"a":1,"id":`},
		{dst: `{"a":{}`, name: "id", want: `{"a":{},"id":`},
		{dst: "", name: "id", want: `"id":`},
		{dst: "{", name: `a"b\c<é>` + "\n", want: `{"a\"b\\c\u003cé\u003e\n":`},
	} {
		got := jsontext.AppendName([]byte(tc.dst), tc.name)
		if string(got) != tc.want {
			t.Errorf("AppendName(%q, %q) = %s, want %s", tc.dst, tc.name, got, tc.want)
		}
		if tc.dst != "{" {
			continue
		}
		var m map[string]int
		err := json.Unmarshal(append(got, "0}"...), &m)
		if _, ok := m[tc.name]; err != nil || len(m) != 1 || !ok {
			t.Errorf("AppendName(%q, %q) with a value decodes as %v, %v", tc.dst, tc.name, m, err)
		}
	}
}

func TestMember_Object(t *testing.T) {
	obj := compact(t, `{"meta":{"versionId":"1","tag":[{"code":"a"}]},"text":"x","empty":{}}`)
	meta, _ := obj.Last("meta")
	inner, ok := meta.Object()
	if !ok || inner.Len() != 2 || string(inner.Bytes()) != `{"versionId":"1","tag":[{"code":"a"}]}` {
		t.Fatalf("meta.Object() = %s, %d members, %v", inner.Bytes(), inner.Len(), ok)
	}
	if tag, ok := inner.Last("tag"); !ok || string(tag.Value()) != `[{"code":"a"}]` || tag.Name() != "tag" {
		t.Errorf("meta tag = %q, %v", tag.Bytes(), ok)
	}
	text, _ := obj.Last("text")
	if _, ok := text.Object(); ok {
		t.Error(`Object() of "x" reports an object`)
	}
	empty, _ := obj.Last("empty")
	if o, ok := empty.Object(); !ok || o.Len() != 0 || string(o.Bytes()) != "{}" {
		t.Errorf("Object() of {} = %s, %d members, %v", o.Bytes(), o.Len(), ok)
	}
}

package fhirserver_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/internal/enginetest"
)

// readBack GETs a Location (absolute, as radbridge answers it, or relative to the
// FHIR base as a transaction-response gives it) and fails unless it answers 200 with
// the resource of that id and version.
func readBack(t *testing.T, f *enginetest.Fixture, base, loc string) enginetest.Response {
	t.Helper()
	path := strings.TrimPrefix(loc, base+"/fhir/")
	r := f.Do(t, "GET", base+"/fhir/"+path, nil)
	typID, vid, _ := strings.Cut(path, "/_history/")
	typ, id, _ := strings.Cut(typID, "/")
	meta, _ := r.Body["meta"].(map[string]any)
	if r.Status != http.StatusOK || r.Body["resourceType"] != typ || r.Body["id"] != id || vid != "" && meta["versionId"] != vid {
		t.Fatalf("GET %s = %d %s", loc, r.Status, r.Raw)
	}
	return r
}

// TestFHIR_VRead_Locations: the Location of a create and of an update reads back, and
// an earlier version of a ServiceRequest a client sent reads as it was then.
func TestFHIR_VRead_Locations(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	srv := fhirServer(t, f)
	created := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", enginetest.MRIRequest("VR-1"))
	if created.Status != http.StatusCreated {
		t.Fatalf("POST: %d %s", created.Status, created.Raw)
	}
	v1 := readBack(t, f, srv.URL, created.Header.Get("Location"))
	if !bytes.Equal(v1.Raw, created.Raw) {
		t.Errorf("version 1 reads %s, want the created %s", v1.Raw, created.Raw)
	}
	id := created.Body["id"].(string)
	held := bytes.Replace(enginetest.MRIRequest("VR-1"), []byte(`"status":"active"`), []byte(`"status":"on-hold","id":"`+id+`"`), 1)
	updated := f.Do(t, "PUT", srv.URL+"/fhir/ServiceRequest/"+id, held)
	if updated.Status != http.StatusOK || !strings.HasSuffix(updated.Header.Get("Location"), "/_history/2") {
		t.Fatalf("PUT: %d %q %s", updated.Status, updated.Header.Get("Location"), updated.Raw)
	}
	if v2 := readBack(t, f, srv.URL, updated.Header.Get("Location")); v2.Body["status"] != "on-hold" {
		t.Errorf("version 2 status %v, want on-hold", v2.Body["status"])
	}
	if v1 := readBack(t, f, srv.URL, created.Header.Get("Location")); v1.Body["status"] != "active" {
		t.Errorf("version 1 after the update: status %v, want active", v1.Body["status"])
	}
	// The order's Task has its current version only (one per lifecycle change).
	task := f.Do(t, "GET", srv.URL+"/fhir/Task/"+id+"-task", nil)
	vid, _ := strconv.Atoi(task.Body["meta"].(map[string]any)["versionId"].(string))
	if vid < 2 {
		t.Fatalf("Task version %d: the order should have changed status more than once", vid)
	}
	readBack(t, f, srv.URL, "Task/"+id+"-task/_history/"+strconv.Itoa(vid))
	for _, path := range []string{"ServiceRequest/" + id + "/_history/3", "ServiceRequest/" + id + "/_history/0",
		"ServiceRequest/" + id + "/_history/01", "Task/" + id + "-task/_history/" + strconv.Itoa(vid-1)} {
		if r := f.Do(t, "GET", srv.URL+"/fhir/"+path, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404 (%s)", path, r.Status, r.Raw)
		}
	}
}

package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// The admin API's changes are recorded by route, with the path they changed; its reads and its
// refused calls are not.
func TestTheAdminAPIsChangesAreRecordedAndItsReadsAndFailuresAreNot(t *testing.T) {
	for _, be := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(be.name, func(t *testing.T) {
			log := New(be.open(t))
			mux := http.NewServeMux()
			mux.HandleFunc("POST /v1/cardholders/{id}/unlock", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("id") == "missing" {
					http.Error(w, "no such cardholder", http.StatusNotFound)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			mux.HandleFunc("GET /v1/cardholders/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
			srv := httptest.NewServer(log.API("admin-api", func(err error) { t.Error(err) })(mux))
			defer srv.Close()
			for _, req := range []struct{ method, path string }{
				{"POST", "/v1/cardholders/ch-1/unlock"}, {"GET", "/v1/cardholders/ch-1"}, {"POST", "/v1/cardholders/missing/unlock"},
			} {
				r, _ := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader(""))
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			es, err := log.List(context.Background(), Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Via != ViaAPI || es[0].Actor != "admin-api" ||
				es[0].Action != "POST /v1/cardholders/{id}/unlock" || es[0].Target != "/v1/cardholders/ch-1/unlock" {
				t.Fatalf("entries %+v", es)
			}
		})
	}
}

// A card number typed where a name belongs (the sign-in form's name field) or sent in an API path
// is masked before the entry is stored.
func TestACardNumberNeverReachesTheLogWhole(t *testing.T) {
	log := New(storetest.OpenSQLite(t))
	ctx := context.Background()
	if err := log.Record(ctx, Entry{Actor: "4000010000001009", Via: ViaConsole, Action: "signin.refused",
		Target: "/v1/cardholders/4000010000001009", Detail: "typed 4000010000001009"}); err != nil {
		t.Fatal(err)
	}
	es, err := log.List(ctx, Filter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %v", es, err)
	}
	for _, v := range []string{es[0].Actor, es[0].Target, es[0].Detail} {
		if strings.Contains(v, "4000010000001009") || !strings.Contains(v, "1009") {
			t.Errorf("stored %q", v)
		}
	}
}

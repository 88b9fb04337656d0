package threedsserver_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

// TestTheOpenAPIFileDescribesExactlyTheServedRoutes keeps api/openapi.yaml and the merchant API in
// step: every documented operation is served, and every served route is documented.
func TestTheOpenAPIFileDescribesExactlyTheServedRoutes(t *testing.T) {
	data, err := os.ReadFile("../../api/openapi.yaml")
	must(t, err)
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	must(t, yaml.Unmarshal(data, &doc))
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	served := slices.Clone(threedsserver.MerchantRoutes)
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("openapi.yaml documents %v; the API serves %v", documented, served)
	}
	// Each documented route reaches the API's own handler: without a key it is 401, not the mux's 404 or 405.
	h := threedsserver.NewServer(threedsserver.Config{Store: emptyStore{}}).MerchantHandler()
	for _, route := range documented {
		method, path, _ := strings.Cut(route, " ")
		path = strings.ReplaceAll(path, "{id}", "3dfc51f7-a5f7-440a-b848-ab95222dd6c8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s answered %d; want 401 from the API itself", route, rec.Code)
		}
	}
}

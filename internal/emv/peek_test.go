package emv_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

func TestPeekErroReadsAPeersErroAsItWasWrittenButBounded(t *testing.T) {
	long := strings.Repeat("d", 5000)
	tests := []struct {
		name, body string
		ok         bool
		want       emv.Erro
	}{
		{"an Erro that breaks our rules is read all the same",
			`{"messageType":"Erro","messageVersion":"2.2.0","errorCode":"203","errorComponent":"S","errorDetail":"eci","errorMessageType":"RReq"}`,
			true, emv.Erro{MessageType: "Erro", MessageVersion: "2.2.0", ErrorCode: "203", ErrorComponent: "S", ErrorDetail: "eci", ErrorMessageType: "RReq"}},
		{"what a peer wrote too long is cut to the dictionary's lengths",
			`{"messageType":"Erro","errorCode":"20345","errorComponent":"SDA","errorDetail":"` + long + `","errorMessageType":"RReqRReq"}`,
			true, emv.Erro{MessageType: "Erro", ErrorCode: "203", ErrorComponent: "S", ErrorDetail: long[:2048], ErrorMessageType: "RReq"}},
		{"an ARes is no Erro", `{"messageType":"ARes","errorCode":"203"}`, false, emv.Erro{}},
		{"text is no Erro", `Bad Gateway`, false, emv.Erro{}},
		{"nothing is no Erro", ``, false, emv.Erro{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := emv.PeekErro([]byte(tt.body))
			if ok != tt.ok {
				t.Fatalf("ok = %v; want %v", ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(*e, tt.want) {
				t.Errorf("got %+v; want %+v", *e, tt.want)
			}
		})
	}
}

func TestAnErrosSummaryIsOneShortLine(t *testing.T) {
	e := &emv.Erro{ErrorCode: "405", ErrorComponent: "D", ErrorMessageType: "RReq", ErrorDetail: strings.Repeat("x", 300) + "\n"}
	got := e.Summary()
	if want := "Erro 405 from D about RReq: " + strings.Repeat("x", 256); got != want {
		t.Errorf("Summary() = %q; want %q", got, want)
	}
}

package logx_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/logx"
)

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a bare card number keeps its first six and last four digits", "pan 4111111111111111 ok", "pan 411111******1111 ok"},
		{"a card number typed in groups keeps its spaces", "4111 1111 1111 1111", "4111 11** **** 1111"},
		{"a card number typed with dashes keeps its dashes", "4111-1111-1111-1111", "4111-11**-****-1111"},
		{"a Luhn-invalid number is masked all the same", "4111111111111112", "411111******1112"},
		{"a thirteen-digit number is masked", "4222222222222", "422222***2222"},
		{"a nineteen-digit number is masked", "6011000000000000004", "601100*********0004"},
		{"a run longer than nineteen digits is masked too", "4111 1111 1111 1111 1234", "4111 11** **** **** 1234"},
		{"a twelve-digit number is left alone", "order 123456789012", "order 123456789012"},
		{"two spaces end a run", "1234567  1234567", "1234567  1234567"},
		{"two card numbers in one text are both masked", "a=4111111111111111,b=5555555555554444", "a=411111******1111,b=555555******4444"},
		{"a card number glued to letters is masked", "x4111111111111111y", "x411111******1111y"},
		{"a one-time code in a URL query is redacted", "GET /c?otp=123456&lang=en", "GET /c?otp=[redacted]&lang=en"},
		{"a one-time code in JSON is redacted", `{"otp":"123456","n":1}`, `{"otp":"[redacted]","n":1}`},
		{"a password after a colon is redacted", "password: hunter2", "password: [redacted]"},
		{"a bearer token keeps nothing after the header name", "Authorization: Bearer abc.def", "Authorization: [redacted]"},
		{"an error code stays readable", "errorCode=203 detail=acctNumber", "errorCode=203 detail=acctNumber"},
		{"a URL scheme is not a key", "https://ds.example/areq", "https://ds.example/areq"},
		{"an empty value is left empty", "otp=&x=1", "otp=&x=1"},
		{"redacting redacted text changes nothing", `got "otp=[redacted]" and 411111******1111`, `got "otp=[redacted]" and 411111******1111`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logx.RedactText(tt.in); got != tt.want {
				t.Errorf("RedactText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPAN(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a sixteen-digit card shows six and four", "4111111111111111", "411111******1111"},
		{"a grouped card keeps its grouping", "4111 1111 1111 1111", "4111 11** **** 1111"},
		{"a short value is masked entirely", "123456789012", "************"},
		{"an empty value stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logx.MaskPAN(tt.in); got != tt.want {
				t.Errorf("MaskPAN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"otp", true},
		{"otpCode", true},
		{"OTPCode", true},
		{"code", true},
		{"oneTimeCode", true},
		{"verification_code", true},
		{"securityCode", true},
		{"password", true},
		{"db-password", true},
		{"OPEN3DS_STORE_PASSWORD", true},
		{"clientSecret", true},
		{"csrfToken", true},
		{"pin", true},
		{"pinBlock", true},
		{"cvv2", true},
		{"CVC", true},
		{"Authorization", true},
		{"Set-Cookie", true},
		{"apiKey", true},
		{"X-Api-Key", true},
		{"APIKey", true},
		{"privateKeyPEM", true},
		{"key", true},
		{"authenticationValue", true},
		{"dsn", true},
		{"errorCode", false},
		{"statusCode", false},
		{"countryCode", false},
		{"acctNumber", false},
		{"shippingAddress", false},
		{"mapping", false},
		{"keyID", false},
		{"kid", false},
		{"otpLength", false},
		{"passwordFile", false},
		{"monkey", false},
		{"request_id", false},
		{"authenticationType", false},
	}
	for _, tt := range tests {
		name := tt.key + " is not a secret"
		if tt.want {
			name = tt.key + " is a secret"
		}
		t.Run(name, func(t *testing.T) {
			if got := logx.IsSecretKey(tt.key); got != tt.want {
				t.Errorf("IsSecretKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

package endpoint

import (
	"strings"
	"testing"
)

func TestParseModelID(t *testing.T) {
	tests := []struct {
		in      string
		want    ModelID
		wantErr string
	}{
		{in: "ep-abc123", want: ModelID{Endpoint: "ep-abc123"}},
		{in: "ep-abc123:lora-route", want: ModelID{Endpoint: "ep-abc123", Adapter: "lora-route"}},
		{in: "meta-llama-3.1-8b-instruct", want: ModelID{Endpoint: "meta-llama-3.1-8b-instruct"}},
		{in: "org/name", want: ModelID{Endpoint: "org/name"}},
		{in: "org/name:adapter", want: ModelID{Endpoint: "org/name", Adapter: "adapter"}},
		{in: "", wantErr: `endpoint: model "": empty`},
		{in: "a::b", wantErr: `endpoint: model "a::b": more than one ':'`},
		{in: "a:b:c", wantErr: `more than one ':'`},
		{in: ":b", wantErr: `empty endpoint ID before ':'`},
		{in: "a:", wantErr: `empty adapter route after ':'`},
		{in: "a b", wantErr: `contains whitespace`},
		{in: " a", wantErr: `contains whitespace`},
		{in: "a\tb", wantErr: `contains whitespace`},
		{in: "a\u00a0b", wantErr: `contains whitespace`},
		{in: "a\x00b", wantErr: `control`},
		{in: "a\x7fb", wantErr: `control`},
		{in: "a\xffb", wantErr: `invalid character`},
	}
	for _, tt := range tests {
		got, err := ParseModelID(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v", tt.in, got, err)
		}
		if got.String() != tt.in {
			t.Errorf("%q: String() = %q", tt.in, got.String())
		}
	}
}

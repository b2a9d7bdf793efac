package endpoint

import (
	"fmt"
	"strings"
	"unicode"
)

// ModelID names what a request runs on: a dedicated endpoint, optionally one
// of its LoRA adapters ("ENDPOINT_ID:ADAPTER_ROUTE"), or a serverless model
// code such as "meta-llama-3.1-8b-instruct" (kept whole in Endpoint).
type ModelID struct {
	Endpoint string
	Adapter  string
}

// ParseModelID parses "ENDPOINT_ID" or "ENDPOINT_ID:ADAPTER_ROUTE".
func ParseModelID(s string) (ModelID, error) {
	bad := func(why string) (ModelID, error) {
		return ModelID{}, fmt.Errorf("endpoint: model %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	for _, r := range s {
		if unicode.IsSpace(r) {
			return bad("contains whitespace")
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return bad("contains a control or invalid character")
		}
	}
	switch strings.Count(s, ":") {
	case 0:
		return ModelID{Endpoint: s}, nil
	case 1:
		ep, ad, _ := strings.Cut(s, ":")
		if ep == "" {
			return bad("empty endpoint ID before ':'")
		}
		if ad == "" {
			return bad("empty adapter route after ':'")
		}
		return ModelID{Endpoint: ep, Adapter: ad}, nil
	default:
		return bad("more than one ':' (want ENDPOINT_ID or ENDPOINT_ID:ADAPTER_ROUTE)")
	}
}

// String returns the form the API's model field takes.
func (m ModelID) String() string {
	if m.Adapter == "" {
		return m.Endpoint
	}
	return m.Endpoint + ":" + m.Adapter
}

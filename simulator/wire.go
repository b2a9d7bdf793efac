package simulator

import "encoding/json"

// Request bodies, written from ../shared/reference/friendli-api.md (§2.1,
// §3, §4). Optional fields are pointers so "absent" and "null" differ from
// a zero value. Unknown fields are ignored, as the real servers do.

type completionsRequest struct {
	Model              *string         `json:"model"`
	Prompt             json.RawMessage `json:"prompt"` // string (or a one-element list)
	Tokens             []int           `json:"tokens"`
	ForcedOutputTokens []int           `json:"forced_output_tokens"`
	MaxTokens          *int            `json:"max_tokens"`
	MaxTotalTokens     *int            `json:"max_total_tokens"`
	MinTokens          *int            `json:"min_tokens"`
	MinTotalTokens     *int            `json:"min_total_tokens"`
	Logprobs           *int            `json:"logprobs"`
	// IncludeOutputLogprobs is the pre-2024-12 switch; it asks for
	// logprobs only when Quirks.LegacyLogprobs mimics such an engine.
	IncludeOutputLogprobs *bool           `json:"include_output_logprobs"`
	N                     *int            `json:"n"`
	Seed                  json.RawMessage `json:"seed"` // int or []int
	Stream                *bool           `json:"stream"`
	StreamOptions         *streamOptions  `json:"stream_options"`
	Stop                  json.RawMessage `json:"stop"` // []string (a bare string is accepted)
	StopTokens            []struct {
		Tokens []int `json:"tokens"`
	} `json:"stop_tokens"`
	EOSToken []int `json:"eos_token"`
	samplingFields
	unsupportedFields
}

type chatRequest struct {
	Model     *string       `json:"model"`
	Messages  []chatMessage `json:"messages"`
	MaxTokens *int          `json:"max_tokens"`
	// MaxCompletionTokens is OpenAI's newer name, accepted as an alias.
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	MinTokens           *int            `json:"min_tokens"`
	N                   *int            `json:"n"`
	Seed                json.RawMessage `json:"seed"`
	Stop                json.RawMessage `json:"stop"` // string or []string
	Stream              *bool           `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	Logprobs            *bool           `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	Tools               []chatTool      `json:"tools"`
	EOSToken            []int           `json:"eos_token"`
	LogitBias           json.RawMessage `json:"logit_bias"`
	samplingFields
	unsupportedFields
}

type samplingFields struct {
	Temperature *float64 `json:"temperature"`
	TopK        *int     `json:"top_k"`
	TopP        *float64 `json:"top_p"`
	MinP        *float64 `json:"min_p"`
}

// unsupportedFields are documented options the simulator cannot honour
// without giving up O(1) sampling or inventing behaviour. A non-default
// value is refused with 422 rather than silently ignored.
type unsupportedFields struct {
	ResponseFormat           json.RawMessage `json:"response_format"`
	RepetitionPenalty        *float64        `json:"repetition_penalty"`
	FrequencyPenalty         *float64        `json:"frequency_penalty"`
	PresencePenalty          *float64        `json:"presence_penalty"`
	NoRepeatNgram            *int            `json:"no_repeat_ngram"`
	EncoderNoRepeatNgram     *int            `json:"encoder_no_repeat_ngram"`
	EncoderRepetitionPenalty *float64        `json:"encoder_repetition_penalty"`
	BadWords                 []string        `json:"bad_words"`
	BadWordTokens            json.RawMessage `json:"bad_word_tokens"`
	EmbeddingToReplace       json.RawMessage `json:"embedding_to_replace"`
	TokenIndexToReplace      json.RawMessage `json:"token_index_to_replace"`
	XTCThreshold             *float64        `json:"xtc_threshold"`
	XTCProbability           *float64        `json:"xtc_probability"`
}

type streamOptions struct {
	IncludeUsage *bool `json:"include_usage"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"` // string, null, or [{type:"text",text}]
}

type chatContentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type chatTool struct {
	Type string `json:"type"`
}

type tokenizeRequest struct {
	Model  *string         `json:"model"`
	Prompt json.RawMessage `json:"prompt"`
}

type detokenizeRequest struct {
	Model  *string `json:"model"`
	Tokens []int   `json:"tokens"`
}

type renderRequest struct {
	Model    *string       `json:"model"`
	Messages []chatMessage `json:"messages"`
}

package endpoint

import "encoding/json"

// Ptr returns a pointer to v, for the optional request fields.
func Ptr[T any](v T) *T { return &v }

// CompletionRequest is the body of /v1/completions. Unset optional fields are
// not sent, so the server's defaults apply.
//
// Seed is a single value; the API's per-choice seed list (with N) is not
// exposed because nothing here needs it.
type CompletionRequest struct {
	Model              string `json:"model,omitempty"`
	Prompt             string `json:"prompt,omitempty"`
	Tokens             []int  `json:"tokens,omitempty"`
	ForcedOutputTokens []int  `json:"forced_output_tokens,omitempty"`
	// Logprobs is the integer top-k of the completions API, not a bool.
	Logprobs       *int            `json:"logprobs,omitempty"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	MaxTotalTokens *int            `json:"max_total_tokens,omitempty"`
	MinTokens      *int            `json:"min_tokens,omitempty"`
	MinTotalTokens *int            `json:"min_total_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	TopK           *int            `json:"top_k,omitempty"`
	TopP           *float64        `json:"top_p,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	N              *int            `json:"n,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	// Stream is set by CompletionsStream; Completions refuses a request
	// with it set.
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
}

// StreamOptions asks for a final usage chunk when IncludeUsage is set.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat constrains the output: Type "text", "json_object",
// "json_schema" (with JSONSchema) or "regex" (with Schema holding the
// regular expression).
type ResponseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
	Schema     string            `json:"schema,omitempty"`
}

// JSONSchemaFormat holds only the schema: Friendli's json_schema has no name
// or strict fields.
type JSONSchemaFormat struct {
	Schema json.RawMessage `json:"schema"`
}

// ChatRequest is the body of /v1/chat/completions.
type ChatRequest struct {
	Model    string    `json:"model,omitempty"`
	Messages []Message `json:"messages"`
	// Logprobs is a bool for chat; TopLogprobs needs it set.
	Logprobs       *bool           `json:"logprobs,omitempty"`
	TopLogprobs    *int            `json:"top_logprobs,omitempty"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	MinTokens      *int            `json:"min_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	TopK           *int            `json:"top_k,omitempty"`
	TopP           *float64        `json:"top_p,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	N              *int            `json:"n,omitempty"`
	Tools          []Tool          `json:"tools,omitempty"`
	ToolChoice     any             `json:"tool_choice,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	StreamOptions  *StreamOptions  `json:"stream_options,omitempty"`
}

// Message is a chat message, sent and received.
type Message struct {
	Role string `json:"role"`
	// Content is "" for a null content (an assistant message that only
	// calls tools).
	Content    string     `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	// ReasoningContent is returned by reasoning models when the server
	// parses reasoning out of the content.
	ReasoningContent string `json:"reasoning_content,omitempty"`
}

// Tool is a function the model may call, or a built-in serverless tool such
// as {"type":"math:calculator"} (Function nil).
type Tool struct {
	Type     string       `json:"type"`
	Function *FunctionDef `json:"function,omitempty"`
}

// FunctionDef describes a callable function; Parameters is a JSON Schema.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ToolCall is a call the model made. In stream deltas Index says which call a
// fragment extends and Arguments arrives in pieces.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is a function name and its JSON-encoded arguments.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

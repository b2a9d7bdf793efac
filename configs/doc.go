// Package configs loads YAML run configurations and checks them.
//
// A config is a plain value. Flags override it key by key (the CLI records
// which keys it set with SetBy), and Validate reports every problem naming
// where the value came from: the file and line for YAML keys, the flag for
// command-line values.
package configs

// Package configs loads YAML run configurations and checks them.
//
// A config is a plain value. Flags override it key by key (the CLI records
// which keys it set with SetBy), and Validate reports every problem naming
// where the value came from: the file and line for YAML keys, the flag for
// command-line values. What configs cannot judge alone (a prompt template,
// which only the scorers' parser reads) is passed to Validate as a Check, so
// it is refused at the same time, with the same place.
package configs

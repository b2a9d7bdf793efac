package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/evalbench/evalbench/datasets"
)

// dataPaths takes the dataset from --dataset, else from the arguments, so
// every command that reads data accepts --dataset.
func dataPaths(c *cli.Context) []string {
	if p := c.StringSlice("dataset"); len(p) > 0 {
		return append(p, c.Args().Slice()...)
	}
	return c.Args().Slice()
}

func inspectCommand(e env) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe and validate dataset files",
		ArgsUsage: "PATH...",
		Description: `Prints the detected layout, row count, subjects, choices per question,
answer distribution, three sample rows and every invalid record. Exits 1 when
any record is invalid.

Examples:
   evalbench inspect testdata/samples/mmlu_sample/test.jsonl
   evalbench inspect --format json ../shared/data/mmlu/test
   evalbench inspect --layout generic --field question=prompt --field choices=options --field answer=label data.jsonl`,
		Flags:        append(datasetFlags(), commonFlags()...),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			paths := dataPaths(c)
			if len(paths) == 0 {
				return usagef("inspect needs a dataset: evalbench inspect PATH...")
			}
			fields, err := parseFields(c.StringSlice("field"))
			if err != nil {
				return err
			}
			onInvalid := c.String("on-invalid")
			if onInvalid == "" {
				onInvalid = "skip" // inspect exists to list every bad record
			}
			opts, err := dataOptions(c.String("layout"), fields, onInvalid)
			if err != nil {
				return err
			}
			sum, err := datasets.Inspect(c.Context, paths, opts)
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "text", "":
				err = sum.WriteText(e.stdout)
			case "json":
				err = sum.WriteJSON(e.stdout)
			default:
				return usagef("--format %q: want text or json", c.String("format"))
			}
			if err != nil {
				return err
			}
			if n := sum.InvalidCount(); n > 0 {
				return fmt.Errorf("%d invalid records", n)
			}
			return nil
		},
	}
}

func convertCommand(e env) *cli.Command {
	flags := append(datasetFlags(),
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `FILE`: .jsonl, .jsonl.gz, .csv or .parquet"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing on success"},
	)
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert a dataset between JSONL, CSV and Parquet",
		ArgsUsage: "IN OUT",
		Description: `Reads any supported layout and writes evalbench's own columns (id, subject,
question, choices, answer, labels). Parquet gets a LIST column for the choices
and zstd compression.

Examples:
   evalbench convert ../shared/data/mmlu/test mmlu_test.parquet
   evalbench convert --dataset piqa/valid.jsonl --out piqa.parquet`,
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			paths := dataPaths(c)
			out := c.String("out")
			if out == "" && len(paths) >= 2 {
				out, paths = paths[len(paths)-1], paths[:len(paths)-1]
			}
			if len(paths) == 0 || out == "" {
				return usagef("convert needs an input and an output: evalbench convert IN OUT")
			}
			fields, err := parseFields(c.StringSlice("field"))
			if err != nil {
				return err
			}
			opts, err := dataOptions(c.String("layout"), fields, c.String("on-invalid"))
			if err != nil {
				return err
			}
			n, err := datasets.Convert(c.Context, paths, out, opts)
			if err != nil {
				return err
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(e.stdout, "wrote %d examples to %s\n", n, out)
			}
			return nil
		},
	}
}

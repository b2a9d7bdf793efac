package main

import (
	"errors"
	"fmt"
	"io"

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
any record is invalid, when a file cannot be read or has no records. With
--format json the output is always one whole JSON document, the error in
its "fatal" key.

Answers: a number is a 0-based index. A string is a choice label (A, B, ...
or the dataset's own, such as ARC's 1..4), else the exact text of one
choice, else a decimal index. So choices ["10", "20"] with answer "20" mean
the second choice; write the answer as a JSON number to give an index.

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
			format := c.String("format")
			if format != "text" && format != "" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			sum, err := datasets.Inspect(c.Context, paths, opts)
			if err != nil {
				return err
			}
			if format == "json" {
				err = sum.WriteJSON(e.stdout)
			} else {
				err = sum.WriteText(e.stdout)
			}
			if err != nil {
				return err
			}
			switch {
			case sum.Fatal != "" && sum.Invalid > 0:
				return fmt.Errorf("%d invalid records, then: %s", sum.Invalid, sum.Fatal)
			case sum.Fatal != "":
				return errors.New(sum.Fatal)
			case sum.Invalid > 0:
				return fmt.Errorf("%d invalid records", sum.Invalid)
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
question, choices, answer, labels, and fields: the original record as JSON),
which read back as the same examples. Parquet gets LIST columns for the
choices and labels, and zstd compression. With --on-invalid skip, the records
left out are counted and listed on stderr.

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
			res, err := datasets.Convert(c.Context, paths, out, opts)
			// Skipped records are listed even with --quiet and on failure:
			// a conversion that drops data must say so.
			listSkipped(e.stderr, res.Skipped)
			if err != nil {
				return err
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(e.stdout, "wrote %d examples to %s", res.Written, out)
				if n := len(res.Skipped); n > 0 {
					fmt.Fprintf(e.stdout, "; skipped %d invalid records", n)
				}
				fmt.Fprintln(e.stdout)
			}
			return nil
		},
	}
}

// maxListedSkipped caps how many skipped records convert lists.
const maxListedSkipped = 10

func listSkipped(w io.Writer, skipped []*datasets.RecordError) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "convert: skipped %d invalid records:\n", len(skipped))
	for i, e := range skipped {
		if i == maxListedSkipped {
			fmt.Fprintf(w, "  ... and %d more (evalbench inspect lists more)\n", len(skipped)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", e)
	}
}

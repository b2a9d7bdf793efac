module github.com/evalbench/evalbench

go 1.26.0

require (
	git.sr.ht/~sbinet/gg v0.7.0 // gonum/plot's PNG canvas, handed an image to draw on in place (no copy)
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // latency histograms: mergeable, fixed relative error, O(1) memory
	github.com/hashicorp/golang-lru/v2 v2.0.7 // bounded tokenize cache, so memory stays flat on any dataset
	github.com/parquet-go/parquet-go v0.32.0 // reads pyarrow/DuckDB Parquet datasets row group by row group; writes samples.parquet
	github.com/schollz/progressbar/v3 v3.19.1 // progress bar on a terminal
	github.com/urfave/cli/v2 v2.27.7 // command-line parsing and --help
	github.com/valyala/fastjson v1.6.10 // scoring replies (top-k logprobs) and the simulator's requests, decoded without reflection
	golang.org/x/sync v0.24.0 // errgroup, semaphore and singleflight for the fan-out
	golang.org/x/term v0.47.0 // is stderr a terminal (bar) or a log (periodic lines)
	golang.org/x/time v0.16.0 // token-bucket rate limit for --rate
	gonum.org/v1/gonum v0.17.0 // statistics: stderr, binomial tests, bootstrap draws
	gonum.org/v1/plot v0.17.0 // plots in SVG and PNG for the reports
	gopkg.in/yaml.v3 v3.0.1 // YAML run configs, with line numbers for errors
)

require (
	codeberg.org/go-fonts/liberation v0.5.0 // indirect
	codeberg.org/go-latex/latex v0.2.0 // indirect
	codeberg.org/go-pdf/fpdf v0.11.1 // indirect
	github.com/ajstarks/svgo v0.0.0-20211024235047-1546f124cd8b // indirect
	github.com/andybalholm/brotli v1.1.1 // indirect
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/golang/freetype v0.0.0-20170609003504-e2365dfdc4a0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/parquet-go/bitpack v1.0.0 // indirect
	github.com/parquet-go/jsonlite v1.0.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.21 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/twpayne/go-geom v1.6.1 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
	golang.org/x/image v0.30.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.34.2 // indirect
)

package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/evalbench/evalbench/datasets"
	"github.com/evalbench/evalbench/endpoint"
	"github.com/evalbench/evalbench/internal/grace"
	"github.com/evalbench/evalbench/results"
	"github.com/evalbench/evalbench/scorers"
)

// ErrInterrupted is returned when the run's context was cancelled before
// every sample was done. The journal and run.json are written regardless.
var ErrInterrupted = errors.New("runner: interrupted")

// Summary tells what a run did.
type Summary struct {
	Dir string
	// Examples is what the run covers, per model: the selected examples
	// plus Beyond (run.json's examples).
	Examples int
	// Beyond counts examples an earlier session journaled past this
	// session's smaller --limit; they stay part of the run.
	Beyond  int
	Resumed int // selected samples found done in the journal
	Scored  int // samples finished OK in this session
	Failed  int // samples finished failed in this session
	Partial bool
	// PreflightOK is set once the session's preflight check passed, or was
	// not needed because nothing was left to score.
	PreflightOK bool
	Wall        time.Duration
	// LabelPaths says, per model, which letter-scoring path was used.
	LabelPaths map[string]string
}

// reorderWindow bounds how many examples are held to group them by subject,
// so examples sharing a few-shot prefix go out together while memory stays
// flat.
const reorderWindow = 1024

// abortAfter is how many samples must all fail, with none scored, before a
// run stops: a wrong model, token or URL should cost a few requests, not a
// dataset's worth.
const abortAfter = 20

// Run scores every selected example under every model and journals each
// sample as it finishes. api is normally an *endpoint.Client.
//
// Once the run directory is prepared, Run returns a Summary whatever
// happens, and run.json ends in a truthful status: complete, partial
// (interrupted; ErrInterrupted is returned) or failed (the error is
// returned and recorded).
func Run(ctx context.Context, api scorers.API, opts Options) (*Summary, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	began := opts.Now()

	// A first pass validates the whole dataset and counts it, so bad input
	// fails before any request is paid for and progress can show an ETA.
	sv, err := survey(ctx, opts)
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	count, layout := sv.count, sv.layout
	task := cmp.Or(opts.Task, taskOf(layout))
	method := cmp.Or(opts.Method, defaultMethod(task))
	var prompt *scorers.Prompt
	if opts.Template != "" {
		prompt, err = scorers.CustomPrompt(opts.Template, opts.Description, method)
	} else {
		prompt, err = scorers.PromptFor(task, method)
	}
	if err != nil {
		return nil, err
	}
	fingerprint, err := datasets.Fingerprint(ctx, opts.Dataset, opts.DataOptions)
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	var fewshot *datasets.FewShot
	var fewFingerprint string
	if opts.Shots > 0 {
		fopts := opts.DataOptions
		fopts.Layout = "" // the few-shot split may be in another format
		if fewshot, err = datasets.LoadFewShot(ctx, opts.FewShot, fopts); err != nil {
			return nil, interrupted(ctx, err)
		}
		if fewFingerprint, err = datasets.Fingerprint(ctx, opts.FewShot, fopts); err != nil {
			return nil, interrupted(ctx, err)
		}
	}

	settings := results.Settings{
		BaseURL:            opts.BaseURL,
		Dataset:            opts.Dataset,
		DatasetFingerprint: fingerprint,
		Layout:             string(layout),
		Task:               task,
		FewShot:            opts.FewShot,
		FewShotFingerprint: fewFingerprint,
		Shots:              opts.Shots,
		Scoring:            string(method),
		Template:           prompt.Name,
		TemplateHash:       prompt.Hash(),
		TopK:               opts.TopK,
		Limit:              opts.Limit,
		Concurrency:        opts.Concurrency,
		Rate:               opts.Rate,
		OnInvalid:          invalidName(opts.DataOptions.OnInvalid),
	}
	for _, m := range opts.Models {
		settings.Models = append(settings.Models, m.String())
	}

	dir := opts.Out
	if dir == "" {
		dir = DefaultOut(began, opts.Models[0])
	}
	run, prev, journalInfo, err := prepareDir(ctx, dir, settings, count, opts)
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	run.Examples = count + len(prev.beyond)
	run.Invalid = sv.skipped
	run.Status, run.Stopped = results.RunRunning, ""
	if err := results.WriteRun(dir, run); err != nil {
		return nil, err
	}
	if journalInfo.Torn {
		fmt.Fprintf(opts.Log, "runner: the journal ended in a torn line (a crash mid-write); that sample will be redone\n")
	}
	sum := &Summary{Dir: dir, Examples: run.Examples, Beyond: len(prev.beyond), Resumed: len(prev.done), LabelPaths: map[string]string{}}
	if len(prev.done) > 0 {
		fmt.Fprintf(opts.Log, "runner: resuming %s: %d samples already done\n", dir, len(prev.done))
	}
	if sum.Beyond > 0 {
		fmt.Fprintf(opts.Log, "runner: the journal holds %d examples past --limit %d from earlier sessions; the run and its report keep them\n", sum.Beyond, opts.Limit)
	}

	// From here on every way out goes through the status below.
	stage := "the preflight check"
	runErr := func() error {
		if len(prev.done) == count*len(opts.Models) {
			// Nothing left to score: the command only rebuilds the report,
			// which must not depend on the endpoint being up.
			sum.PreflightOK = true
			return nil
		}
		if err := preflight(ctx, api, opts.Models); err != nil {
			return err
		}
		journal, err := results.OpenJournal(filepath.Join(dir, results.JournalFile), journalInfo.ValidSize)
		if err != nil {
			return err
		}
		stage, sum.PreflightOK = "", true
		runErr := dispatch(ctx, api, opts, prompt, method, fewshot, sv, prev.done, journal, sum)
		if cerr := journal.Close(); runErr == nil && cerr != nil {
			runErr = cerr
		}
		return runErr
	}()

	sum.Wall = opts.Now().Sub(began)
	run.WallSeconds += sum.Wall.Seconds()
	run.Finished = opts.Now().UTC()
	missingSelected := count*len(opts.Models) - sum.Resumed - sum.Scored - sum.Failed
	missing := missingSelected + prev.beyondMissing
	switch {
	case ctx.Err() != nil && missing > 0:
		run.Status, run.Stopped = results.RunPartial, "interrupted"
		if stage != "" {
			run.Stopped += " during " + stage
		}
		runErr = fmt.Errorf("%w during %s", ErrInterrupted, cmp.Or(stage, "scoring"))
	case ctx.Err() != nil:
		// Ctrl-C as the last sample finished: nothing is missing.
		run.Status = results.RunComplete
		runErr = ErrInterrupted
	case runErr != nil:
		run.Status, run.Stopped = results.RunFailed, runErr.Error()
	case missingSelected > 0:
		// dispatch only returns nil once every selected sample has a line.
		run.Status, run.Stopped = results.RunFailed, fmt.Sprintf("runner: %d selected samples have no result", missingSelected)
		runErr = errors.New(run.Stopped)
	case missing > 0:
		// This session did all it was asked; an earlier, interrupted one
		// left examples past this --limit scored by some models only.
		run.Status = results.RunPartial
		run.Stopped = fmt.Sprintf("%d samples of examples past --limit %d have no result; resume with a larger --limit to score them", missing, opts.Limit)
		fmt.Fprintf(opts.Log, "runner: %s\n", run.Stopped)
	default:
		run.Status = results.RunComplete
	}
	sum.Partial = run.Status != results.RunComplete
	if err := results.WriteRun(dir, run); err != nil && runErr == nil {
		runErr = err
	}
	return sum, runErr
}

// interrupted turns an error caused by the run's cancellation into
// ErrInterrupted, so Ctrl-C at any stage exits as an interrupt.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrInterrupted, err)
	}
	return err
}

func invalidName(p datasets.InvalidPolicy) string {
	if p == datasets.Skip {
		return "skip"
	}
	return "fail"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DefaultOut is runs/<timestamp>-<model>.
func DefaultOut(t time.Time, m endpoint.ModelID) string {
	return filepath.Join("runs", t.Format("20060102-150405")+"-"+unsafeName.ReplaceAllString(m.String(), "_"))
}

// surveyed is what the first pass over the dataset found.
type surveyed struct {
	count   int
	layout  datasets.Layout
	skipped []results.Invalid
	// head is the first window of examples, in dataset order, kept so the
	// first requests go out without waiting for a second read.
	head []job
}

// survey reads the dataset once, validating every record.
func survey(ctx context.Context, opts Options) (surveyed, error) {
	var sv surveyed
	r, err := datasets.Open(ctx, opts.Dataset, opts.DataOptions)
	if err != nil {
		return sv, err
	}
	defer r.Close()
	for opts.Limit == 0 || sv.count < opts.Limit {
		ex, err := r.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return sv, err
		}
		if sv.count < reorderWindow {
			sv.head = append(sv.head, job{seq: sv.count, ex: ex})
		}
		sv.count++
	}
	for _, e := range r.Skipped() {
		sv.skipped = append(sv.skipped, results.Invalid{Error: e.Error()})
	}
	if sv.count == 0 {
		return sv, fmt.Errorf("runner: dataset %v has no valid examples", opts.Dataset)
	}
	sv.layout = r.Layout()
	return sv, nil
}

// journaled is what an earlier session left in the journal.
type journaled struct {
	// done holds the selected samples (seq < count) whose last line is ok;
	// failed ones are redone, since the failure may have been transient.
	done map[string]bool
	// beyond holds the IDs of examples journaled past this session's
	// selection (seq >= count: a smaller --limit than before). They stay
	// part of the run, so that run.json's examples account for every line.
	beyond map[string]bool
	// beyondMissing counts (model, example) pairs of beyond with no line:
	// the session that journaled them was interrupted before every model
	// had scored them, and this session, not selecting them, will not.
	beyondMissing int
}

// prepareDir creates the run directory, or checks that the journal in it was
// made with the same settings, and returns what it already holds.
func prepareDir(ctx context.Context, dir string, settings results.Settings, count int, opts Options) (*results.Run, journaled, results.JournalInfo, error) {
	var info results.JournalInfo
	none := journaled{done: map[string]bool{}, beyond: map[string]bool{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, none, info, fmt.Errorf("runner: %w", err)
	}
	journalPath := filepath.Join(dir, results.JournalFile)
	prev, err := results.ReadRun(dir)
	_, statErr := os.Stat(journalPath)
	hasJournal := statErr == nil
	fresh := &results.Run{Settings: settings, Started: opts.Now().UTC(), Version: opts.Version}
	switch {
	case err != nil && !hasJournal:
		return fresh, none, info, nil
	case err != nil && hasJournal:
		if !opts.Fresh {
			return nil, none, info, fmt.Errorf("runner: %s holds a journal but no readable %s (%v); use --fresh to start over or pick another --out", dir, results.RunFile, err)
		}
	default:
		if diff := prev.Settings.Mismatch(settings); len(diff) > 0 && !opts.Fresh {
			return nil, none, info, fmt.Errorf("runner: %s holds a journal made with different settings:\n  %s\nuse --fresh to discard it, or pick another --out", dir, joinLines(diff))
		} else if len(diff) == 0 {
			j := journaled{done: map[string]bool{}, beyond: map[string]bool{}}
			beyondKeys := map[string]bool{}
			info, err := results.ReadJournal(ctx, journalPath, func(s *results.Sample) error {
				// The settings match, so the dataset is the same and an
				// example's seq (its position) is the same in every session.
				if s.Seq >= count {
					j.beyond[s.ID] = true
					beyondKeys[s.Key()] = true
					return nil
				}
				// The last line of a key wins, as in the report.
				j.done[s.Key()] = s.Status == results.StatusOK
				return nil
			})
			if err != nil {
				return nil, none, info, err
			}
			for k, ok := range j.done {
				if !ok {
					delete(j.done, k)
				}
			}
			j.beyondMissing = len(j.beyond)*len(settings.Models) - len(beyondKeys)
			prev.Settings = settings
			prev.Version = opts.Version
			return prev, j, info, nil
		}
	}
	// --fresh: keep the old journal beside, never silently destroy work.
	for _, name := range []string{results.JournalFile, results.RunFile} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			if err := os.Rename(p, p+".prev"); err != nil {
				return nil, none, info, fmt.Errorf("runner: %w", err)
			}
		}
	}
	fmt.Fprintf(opts.Log, "runner: --fresh: moved the old journal to %s.prev\n", journalPath)
	return fresh, none, info, nil
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}

// preflight makes one tokenize call per model, so a wrong token, model or
// URL fails at once with the server's own words.
func preflight(ctx context.Context, api scorers.API, models []endpoint.ModelID) error {
	for _, m := range models {
		if _, _, err := api.Tokenize(ctx, m.String(), "Hello"); err != nil {
			return fmt.Errorf("runner: model %s: %w", m, err)
		}
	}
	return nil
}

type job struct {
	seq int
	ex  datasets.Example
}

// prefixOrder orders a window of examples by subject, keeping dataset order
// within one: the examples of a subject share their description and
// few-shot prefix, so sent close together they find it in the server's
// prefix cache.
func prefixOrder(batch []job) {
	slices.SortStableFunc(batch, func(a, b job) int { return cmp.Compare(a.ex.Subject, b.ex.Subject) })
}

// dispatch streams the dataset a second time and scores every example that
// is not done yet, under every model.
func dispatch(ctx context.Context, api scorers.API, opts Options, prompt *scorers.Prompt, method scorers.Method,
	fewshot *datasets.FewShot, sv surveyed, done map[string]bool, journal *results.Journal, sum *Summary) error {
	count := sv.count

	// Requests in flight outlive an interrupt by opts.Grace; new ones stop
	// at once (the Limiter watches ctx).
	work, cancelWork := grace.Context(ctx, opts.Grace)
	defer cancelWork()

	// A fatal error (journal write, every sample failing) stops the run
	// the same way an interrupt does.
	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)

	limiter := NewLimiter(runCtx, api, opts.Concurrency, opts.Rate)
	scs := make([]*scorers.Scorer, len(opts.Models))
	for i, m := range opts.Models {
		sc, err := scorers.New(limiter, m, scorers.Options{
			Method: method, Prompt: prompt, TopK: opts.TopK, Shots: opts.Shots, FewShot: fewshot,
		})
		if err != nil {
			return err
		}
		scs[i] = sc
	}

	total := count*len(opts.Models) - len(done)
	prog := newProgress(opts, total)
	defer prog.finish()

	var (
		mu        sync.Mutex
		firstFail string
		okCount   int
		failCount int
		wg        sync.WaitGroup
	)
	// Examples in flight: enough to keep every request slot busy (a
	// continuation question holds several), few enough to bound memory.
	slots := make(chan struct{}, 2*opts.Concurrency)

	finish := func(s *results.Sample) {
		if runCtx.Err() != nil && s.Status == results.StatusFailed {
			// Cut short by the interrupt, not failed: redo it next time.
			return
		}
		if err := journal.Append(s); err != nil {
			abort(err)
			return
		}
		mu.Lock()
		if s.Status == results.StatusOK {
			okCount++
			sum.Scored++
		} else {
			failCount++
			sum.Failed++
			if firstFail == "" {
				firstFail = s.Model + ": " + s.Error
			}
		}
		if okCount == 0 && failCount >= abortAfter {
			abort(fmt.Errorf("runner: the first %d samples all failed; first error: %s", failCount, firstFail))
		}
		mu.Unlock()
		prog.add(s)
	}

	send := func(batch []job) {
		prefixOrder(batch)
		for _, j := range batch {
			for _, sc := range scs {
				if done[sc.Model().String()+"\x00"+j.ex.ID] {
					continue
				}
				select {
				case slots <- struct{}{}:
				case <-runCtx.Done():
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-slots }()
					finish(sc.Score(work, &j.ex, j.seq))
				}()
			}
		}
	}

	r, err := datasets.Open(ctx, opts.Dataset, opts.DataOptions)
	if err != nil {
		return err
	}
	defer r.Close()
	// The head is the first window, already read and checked: it goes out
	// at once, and the reader then skips past it. (send reorders what it
	// is given; sv.head keeps dataset order for the check below.)
	send(slices.Clone(sv.head))
	batch := make([]job, 0, reorderWindow)
	var readErr error
	for seq := 0; seq < count && runCtx.Err() == nil; seq++ {
		ex, err := r.Next()
		if err == io.EOF {
			readErr = fmt.Errorf("runner: dataset ended after %d examples, %d expected: did it change during the run?", seq, count)
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if seq < len(sv.head) {
			if ex.ID != sv.head[seq].ex.ID {
				readErr = fmt.Errorf("runner: example %d is %q, was %q: did the dataset change during the run?", seq, ex.ID, sv.head[seq].ex.ID)
				break
			}
			continue
		}
		batch = append(batch, job{seq: seq, ex: ex})
		if len(batch) == reorderWindow {
			send(batch)
			batch = batch[:0:0]
		}
	}
	if readErr == nil && runCtx.Err() == nil {
		send(batch)
	}
	wg.Wait()

	for i, sc := range scs {
		if method == scorers.Letter {
			sum.LabelPaths[opts.Models[i].String()] = sc.LabelPath()
		}
	}
	if readErr != nil {
		return readErr
	}
	if cause := context.Cause(runCtx); cause != nil && ctx.Err() == nil {
		return cause
	}
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return nil
}

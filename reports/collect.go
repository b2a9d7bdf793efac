package reports

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/evalbench/evalbench/results"
)

// maxFailures bounds the distinct failure reasons listed per model.
const maxFailures = 10

// Flags of a sampleRec.
const (
	recOK      uint8 = 1 << iota // scored; otherwise failed
	recAcc                       // acc: pred == gold
	recAccNorm                   // acc_norm: pred_norm == gold
	recTop                       // top softmax choice == gold (calibration)
)

// sampleRec is what the report keeps of one (model, example): enough to
// aggregate after the last line for the key has been seen, and to pair
// models per example, without holding the sample.
type sampleRec struct {
	line    int32 // 1-based journal line; 0 = no line for this key
	subject int32
	errIdx  int32 // failed: index into collector.errors
	method  int32 // scored: index into collector.methods
	flags   uint8
	conf    float64 // top softmax probability
	brier   float64
}

// modelAcc accumulates one model's lines.
type modelAcc struct {
	name       string
	recs       []sampleRec // indexed by example index
	superseded int

	requests Requests
	errors   map[int]int
	latency  map[string]*latencyAcc
}

// collector folds journal lines into per-model records as they stream by.
type collector struct {
	run      *results.Run
	modelIdx map[string]int
	models   []*modelAcc

	lines int

	exampleIdx map[string]int32
	exampleIDs []string

	subjectIdx map[string]int32
	subjects   []string

	methodIdx map[string]int32
	methods   []string

	errorIdx map[string]int32
	errors   []string
}

func newCollector(run *results.Run) (*collector, error) {
	c := &collector{
		run:        run,
		modelIdx:   map[string]int{},
		exampleIdx: map[string]int32{},
		subjectIdx: map[string]int32{},
		methodIdx:  map[string]int32{},
		errorIdx:   map[string]int32{},
	}
	for _, m := range run.Settings.Models {
		if _, dup := c.modelIdx[m]; dup {
			return nil, fmt.Errorf("field %q: model %q listed twice", "settings.models", m)
		}
		c.modelIdx[m] = len(c.models)
		c.models = append(c.models, &modelAcc{
			name:    m,
			errors:  map[int]int{},
			latency: map[string]*latencyAcc{KindCompletions: newLatencyAcc(), KindTokenize: newLatencyAcc()},
		})
	}
	return c, nil
}

// subjectName names a sample's subject; a dataset without subjects is one
// subject named after the task.
func (c *collector) subjectName(s string) string {
	if s != "" {
		return s
	}
	return cmp.Or(c.run.Settings.Task, "all")
}

// intern returns s's index in list, adding it if new.
func intern(m map[string]int32, list *[]string, s string) (int32, error) {
	if i, ok := m[s]; ok {
		return i, nil
	}
	if len(*list) >= math.MaxInt32 {
		return 0, errors.New("too many distinct values")
	}
	i := int32(len(*list))
	m[s] = i
	*list = append(*list, s)
	return i, nil
}

func (c *collector) lineErr(format string, args ...any) error {
	return fmt.Errorf("reports: %s:%d: %s", results.JournalFile, c.lines, fmt.Sprintf(format, args...))
}

// add takes one journal line. ReadJournal hands over only whole, valid
// lines and stops at the first bad one, so the calls count the lines.
func (c *collector) add(s *results.Sample) error {
	c.lines++
	if c.lines > math.MaxInt32 {
		return c.lineErr("journal longer than %d lines", math.MaxInt32)
	}
	mi, ok := c.modelIdx[s.Model]
	if !ok {
		return c.lineErr("field %q: %q is not one of run.json's settings.models %q", "model", s.Model, c.run.Settings.Models)
	}
	m := c.models[mi]
	rec := sampleRec{line: int32(c.lines)}
	var err error
	if rec.subject, err = intern(c.subjectIdx, &c.subjects, c.subjectName(s.Subject)); err != nil {
		return c.lineErr("field %q: %v", "subject", err)
	}
	switch s.Status {
	case results.StatusOK:
		// The journal's acc flags are what the scorer decided; a line whose
		// flags contradict its own predictions was edited or written by a
		// bug, and averaging it in would be silently wrong.
		if s.Acc != (s.Pred == s.Gold) {
			return c.lineErr("field %q: %v contradicts pred %d and gold %d", "acc", s.Acc, s.Pred, s.Gold)
		}
		if s.AccNorm != (s.PredNorm == s.Gold) {
			return c.lineErr("field %q: %v contradicts pred_norm %d and gold %d", "acc_norm", s.AccNorm, s.PredNorm, s.Gold)
		}
		rec.flags |= recOK
		if s.Acc {
			rec.flags |= recAcc
		}
		if s.AccNorm {
			rec.flags |= recAccNorm
		}
		conf, top, brier := softmaxStats(s.LogLik, s.Gold)
		if top {
			rec.flags |= recTop
		}
		rec.conf, rec.brier = conf, brier
		// Journals from before methods were recorded still count, visibly.
		if rec.method, err = intern(c.methodIdx, &c.methods, cmp.Or(s.Method, "unrecorded")); err != nil {
			return c.lineErr("field %q: %v", "method", err)
		}
	default: // failed: Validate admits only ok and failed
		if rec.errIdx, err = intern(c.errorIdx, &c.errors, s.Error); err != nil {
			return c.lineErr("field %q: %v", "error", err)
		}
	}
	ex, err := c.example(s.ID)
	if err != nil {
		return c.lineErr("field %q: %v", "id", err)
	}
	if int(ex) >= len(m.recs) {
		m.recs = append(m.recs, make([]sampleRec, int(ex)+1-len(m.recs))...)
	}
	if m.recs[ex].line != 0 {
		m.superseded++
	}
	m.recs[ex] = rec

	for i := range s.Requests {
		if err := m.addRequest(&s.Requests[i]); err != nil {
			return c.lineErr("field %q: request %d: %v", "requests", i, err)
		}
	}
	return nil
}

func (c *collector) example(id string) (int32, error) {
	if i, ok := c.exampleIdx[id]; ok {
		return i, nil
	}
	if len(c.exampleIDs) >= math.MaxInt32 {
		return 0, errors.New("too many examples")
	}
	i := int32(len(c.exampleIDs))
	c.exampleIdx[id] = i
	c.exampleIDs = append(c.exampleIDs, id)
	return i, nil
}

func (m *modelAcc) addRequest(q *results.Request) error {
	if math.IsNaN(q.LatencyMS) || math.IsInf(q.LatencyMS, 0) || q.LatencyMS < 0 {
		return fmt.Errorf("field %q: invalid latency %v", "latency_ms", q.LatencyMS)
	}
	if q.Attempts < 0 || q.PromptTokens < 0 || q.CompletionTokens < 0 || q.CachedTokens < 0 {
		return fmt.Errorf("negative attempts or token count")
	}
	r := &m.requests
	r.Total++
	switch q.Kind {
	case KindCompletions:
		r.Completions++
	case KindTokenize:
		r.Tokenize++
	default:
		r.Other++
	}
	if q.Attempts > 1 {
		r.Retries += q.Attempts - 1
	}
	for _, st := range q.Errors {
		m.errors[st]++
	}
	r.PromptTokens += int64(q.PromptTokens)
	r.CompletionTokens += int64(q.CompletionTokens)
	r.CachedTokens += int64(q.CachedTokens)
	l := m.latency[q.Kind]
	if l == nil {
		l = newLatencyAcc()
		m.latency[q.Kind] = l
	}
	l.add(q.LatencyMS)
	return nil
}

// finish turns the records into r's per-model results and comparisons.
func (c *collector) finish(ctx context.Context, r *Report) error {
	r.keep = make([]uint64, c.lines/64+1)
	var totalFinal, totalReq int
	var totalTok int64
	groups := isMMLU(c.run.Settings)
	for mi, m := range c.models {
		if err := ctx.Err(); err != nil {
			return err
		}
		mr := c.modelRun(r, mi, m, groups)
		r.Runs = append(r.Runs, mr)
		r.latency = append(r.latency, m.latency)
		r.Journal.Superseded += m.superseded
		totalFinal += mr.Scored + mr.Failed
		totalReq += mr.Requests.Total
		totalTok += mr.Requests.PromptTokens + mr.Requests.CompletionTokens
	}
	wall := c.run.WallSeconds
	r.Throughput = Throughput{
		ExamplesPerS: ratio(float64(totalFinal), wall),
		RequestsPerS: ratio(float64(totalReq), wall),
		TokensPerS:   ratio(float64(totalTok), wall),
	}
	for mi := 1; mi < len(c.models); mi++ {
		r.Comparisons = append(r.Comparisons, c.compare(c.models[0], c.models[mi]))
	}
	return nil
}

func (c *collector) modelRun(r *Report, mi int, m *modelAcc, groups bool) *ModelRun {
	st := c.run.Settings
	mr := &ModelRun{
		Model: m.name, Dataset: datasetName(st), Task: st.Task,
		// A journal from before the runner counted every journaled
		// example may hold more than run.json's count.
		Examples: max(c.run.Examples, len(c.exampleIDs)), Superseded: m.superseded,
		Subjects: map[string]*SubjectStats{}, Methods: map[string]int{},
		LatencyMS: map[string]*Latency{}, WallSeconds: Float(c.run.WallSeconds),
		Failures: []Failure{},
	}
	type failTally struct {
		count, firstLine int
		firstID          string
	}
	fails := map[int32]*failTally{}
	var cal calibrationAcc
	var k, kNorm int
	for ex, rec := range m.recs {
		if rec.line == 0 {
			continue
		}
		r.keep[rec.line/64] |= 1 << (rec.line % 64)
		name := c.subjects[rec.subject]
		ss := mr.Subjects[name]
		if ss == nil {
			ss = &SubjectStats{}
			if groups {
				ss.Group = MMLUGroup(name)
			}
			mr.Subjects[name] = ss
		}
		if rec.flags&recOK == 0 {
			mr.Failed++
			ss.Failed++
			f := fails[rec.errIdx]
			if f == nil {
				f = &failTally{firstLine: int(rec.line), firstID: c.exampleIDs[ex]}
				fails[rec.errIdx] = f
			}
			f.count++
			if int(rec.line) < f.firstLine {
				f.firstLine, f.firstID = int(rec.line), c.exampleIDs[ex]
			}
			continue
		}
		mr.Scored++
		ss.N++
		if rec.flags&recAcc != 0 {
			ss.k++
			k++
		}
		if rec.flags&recAccNorm != 0 {
			ss.kNorm++
			kNorm++
		}
		mr.Methods[c.methods[rec.method]]++
		cal.add(rec.conf, rec.flags&recTop != 0, rec.brier)
	}
	mr.Missing = max(0, mr.Examples-mr.Scored-mr.Failed)

	// Subjects in name order, so every sum below runs in the same order and
	// the report is the same to the last bit on every build.
	names := make([]string, 0, len(mr.Subjects))
	for name := range mr.Subjects {
		names = append(names, name)
	}
	slices.Sort(names)
	var strata []stratum
	var macroSum float64
	for _, name := range names {
		ss := mr.Subjects[name]
		ss.Acc, ss.AccStderr = propStats(ss.k, ss.N)
		ss.AccNorm, ss.AccNormStderr = propStats(ss.kNorm, ss.N)
		if ss.N > 0 {
			strata = append(strata, stratum{k: ss.k, n: ss.N})
			macroSum += float64(ss.k) / float64(ss.N)
		}
	}

	mt := &mr.Metrics
	mt.Acc, mt.AccStderr = propStats(k, mr.Scored)
	mt.AccCI95 = interval(wilson(k, mr.Scored))
	mt.AccNorm, mt.AccNormStderr = propStats(kNorm, mr.Scored)
	mt.AccNormCI95 = interval(wilson(kNorm, mr.Scored))
	mt.AccMacro = NaN()
	if len(strata) > 0 {
		mt.AccMacro = Float(macroSum / float64(len(strata)))
		mt.AccMacroCI95 = interval(macroBootstrap(strata, r.opts.BootstrapIters, uint64(r.opts.Seed), uint64(mi)))
	}

	if groups {
		mr.Groups, mr.UngroupedSubjects = groupStats(names, mr.Subjects)
	}

	mr.Calibration = cal.result()
	mr.Requests = m.requests
	mr.Requests.ErrorsByStatus = map[string]int{}
	for st, n := range m.errors {
		mr.Requests.ErrorsByStatus[statusKey(st)] += n
	}
	for kind, l := range m.latency {
		mr.LatencyMS[kind] = l.result()
	}
	wall := c.run.WallSeconds
	mr.Throughput = Throughput{
		ExamplesPerS: ratio(float64(mr.Scored+mr.Failed), wall),
		RequestsPerS: ratio(float64(mr.Requests.Total), wall),
		TokensPerS:   ratio(float64(mr.Requests.PromptTokens+mr.Requests.CompletionTokens), wall),
	}

	// Most frequent first; ties in order of first appearance in the journal.
	mr.FailureReasons = len(fails)
	order := make([]int32, 0, len(fails))
	for idx := range fails {
		order = append(order, idx)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(fails[b].count, fails[a].count), cmp.Compare(fails[a].firstLine, fails[b].firstLine))
	})
	for _, idx := range order[:min(len(order), maxFailures)] {
		f := fails[idx]
		mr.Failures = append(mr.Failures, Failure{Reason: c.errors[idx], Count: f.count, FirstID: f.firstID})
	}
	return mr
}

// propStats is a proportion and its lm-eval stderr; both NaN when n is 0.
func propStats(k, n int) (Float, Float) {
	if n == 0 {
		return NaN(), NaN()
	}
	return Float(float64(k) / float64(n)), Float(propStderr(k, n))
}

// statusKey names an HTTP status in errors_by_status.
func statusKey(status int) string {
	if status == 0 {
		return "conn"
	}
	return strconv.Itoa(status)
}

// groupStats aggregates subjects into MMLU's four categories and the
// overall mmlu group; names is sorted, so every sum runs in one order.
// Subjects outside lm-eval's mapping are in no group and are returned.
func groupStats(names []string, subjects map[string]*SubjectStats) (map[string]*GroupStats, []string) {
	tally := map[string]*groupAcc{GroupMMLU: {}}
	for _, g := range groupOrder {
		tally[g] = &groupAcc{}
	}
	var ungrouped []string
	for _, name := range names {
		ss := subjects[name]
		if ss.N == 0 {
			continue
		}
		if ss.Group == "" {
			ungrouped = append(ungrouped, name)
			continue
		}
		tally[ss.Group].add(ss.k, ss.kNorm, ss.N)
		tally[GroupMMLU].add(ss.k, ss.kNorm, ss.N)
	}
	out := make(map[string]*GroupStats, len(tally))
	for g, t := range tally {
		out[g] = t.result()
	}
	return out, ungrouped
}

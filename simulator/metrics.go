package simulator

import (
	"slices"
	"strconv"
)

// appendMetrics renders the counters in the Prometheus text exposition
// format (version 0.0.4).
func (s *Server) appendMetrics(b []byte) []byte {
	c := s.stats
	c.mu.Lock()
	keys := make([]pathStatus, 0, len(c.byPath))
	for k := range c.byPath {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pathStatus) int {
		if a.path != b.path {
			if a.path < b.path {
				return -1
			}
			return 1
		}
		if a.status < b.status {
			return -1
		} else if a.status > b.status {
			return 1
		}
		return 0
	})
	vals := make([]int64, len(keys))
	for i, k := range keys {
		vals[i] = c.byPath[k]
	}
	c.mu.Unlock()

	b = append(b, "# HELP simulator_requests_total Replies by path and status (\"reset\" for reset connections).\n# TYPE simulator_requests_total counter\n"...)
	for i, k := range keys {
		b = append(b, `simulator_requests_total{path=`...)
		b = strconv.AppendQuote(b, k.path)
		b = append(b, `,status=`...)
		b = strconv.AppendQuote(b, k.status)
		b = append(b, "} "...)
		b = strconv.AppendInt(b, vals[i], 10)
		b = append(b, '\n')
	}
	metric := func(name, kind, help string, v int64) {
		b = append(b, "# HELP "+name+" "+help+"\n# TYPE "+name+" "+kind+"\n"+name+" "...)
		b = strconv.AppendInt(b, v, 10)
		b = append(b, '\n')
	}
	metric("simulator_received_total", "counter", "HTTP requests received.", c.requests.Load())
	metric("simulator_errors_total", "counter", "Replies with status >= 400, resets and cuts.", c.errors.Load())
	b = append(b, "# HELP simulator_faults_total Injected faults by kind.\n# TYPE simulator_faults_total counter\n"...)
	for _, f := range []struct {
		kind string
		v    int64
	}{{"reset", c.resets.Load()}, {"cut", c.cuts.Load()}, {"slow", c.slow.Load()}} {
		b = append(b, `simulator_faults_total{kind="`+f.kind+`"} `...)
		b = strconv.AppendInt(b, f.v, 10)
		b = append(b, '\n')
	}
	metric("simulator_in_flight", "gauge", "Requests being handled.", c.inFlight.Load())
	metric("simulator_queued", "gauge", "Requests waiting for a capacity slot.", c.queued.Load())
	metric("simulator_queued_total", "counter", "Requests that waited for a capacity slot.", c.queuedTotal.Load())
	metric("simulator_generating", "gauge", "Sequences holding a capacity slot.", c.gen.Load())
	metric("simulator_capacity", "gauge", "Capacity in sequences (0: unlimited).", int64(s.cfg.Capacity))
	metric("simulator_prompt_tokens_total", "counter", "Prompt tokens of started generations.", c.promptTokens.Load())
	metric("simulator_output_tokens_total", "counter", "Tokens generated.", c.outputTokens.Load())
	return b
}

package simulator

import "slices"

// pieceTrie finds the longest token string that starts a text. Greedy
// longest match by map lookups costs up to maxLen string hashes per token,
// and a word outside the vocabulary (split into letters) pays all of them
// for every letter; tokenizing the prompt was a quarter of a scoring
// request's CPU. A double-array trie walks the text once, two array reads
// per byte.
//
// States are indices into states: the root is 0, and the state reached
// from s by byte c is n = states[s].base+c if states[n].check == s.
type pieceTrie struct {
	// One record per state, not one array per field: a step then reads one
	// cache line, not three.
	states []trieState
}

type trieState struct {
	base, check int32
	id          int32 // the token whose string ends here, or -1
}

// newPieceTrie indexes the token strings (strs[id]) of two to maxLen bytes:
// the ones greedy matching can pick.
func newPieceTrie(strs []string, maxLen int) pieceTrie {
	// A plain trie first: nodes with their children as (byte, node).
	type edge struct {
		c    byte
		node int32
	}
	type node struct {
		kids []edge
		id   int32
	}
	nodes := []node{{id: -1}}
	for id, s := range strs {
		if len(s) < 2 || len(s) > maxLen {
			continue
		}
		n := int32(0)
		for i := 0; i < len(s); i++ {
			k := slices.IndexFunc(nodes[n].kids, func(e edge) bool { return e.c == s[i] })
			if k < 0 {
				nodes = append(nodes, node{id: -1})
				k = len(nodes[n].kids)
				nodes[n].kids = append(nodes[n].kids, edge{s[i], int32(len(nodes) - 1)})
			}
			n = nodes[n].kids[k].node
		}
		nodes[n].id = int32(id)
	}

	// Then lay the states out breadth first, each node's children at the
	// first base where all their slots are free.
	free := trieState{check: -1, id: -1}
	t := pieceTrie{states: []trieState{free}}
	grow := func(n int) {
		for len(t.states) < n {
			t.states = append(t.states, free)
		}
	}
	state := make([]int32, len(nodes))
	first := 1 // no free slot below this one
	for queue := []int32{0}; len(queue) > 0; queue = queue[1:] {
		n := queue[0]
		kids := nodes[n].kids
		if len(kids) == 0 {
			continue
		}
		slices.SortFunc(kids, func(a, b edge) int { return int(a.c) - int(b.c) })
		b := first - int(kids[0].c)
	search:
		for ; ; b++ {
			for _, e := range kids {
				if s := b + int(e.c); s < len(t.states) && t.states[s].check != -1 {
					continue search
				}
			}
			break
		}
		s := state[n]
		t.states[s].base = int32(b)
		for _, e := range kids {
			k := b + int(e.c)
			grow(k + 1)
			t.states[k].check, t.states[k].id = s, nodes[e.node].id
			state[e.node] = int32(k)
			queue = append(queue, e.node)
		}
		for first < len(t.states) && t.states[first].check != -1 {
			first++
		}
	}
	return t
}

// longest returns the length and token of the longest indexed string that
// starts p, or 0 if none does.
func (t *pieceTrie) longest(p string) (n, id int) {
	s := int32(0)
	for i := 0; i < len(p); i++ {
		next := t.states[s].base + int32(p[i])
		if uint32(next) >= uint32(len(t.states)) || t.states[next].check != s {
			break
		}
		s = next
		if x := t.states[s].id; x >= 0 {
			n, id = i+1, int(x)
		}
	}
	return n, id
}

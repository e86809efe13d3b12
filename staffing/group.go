package staffing

import (
	"fmt"
	"sort"
	"strings"
)

// Counter is a counter's skill set: the services it may call.
type Counter struct {
	ID       string
	Services []string
}

// Group is a skill group: services and the counters that serve them.
type Group struct {
	// ID is "g1", "g2", … in the order of each group's first service.
	ID string `json:"id"`
	// Services and Counters keep the order they were given in.
	Services []string `json:"services"`
	Counters []string `json:"counters"`
}

// Label names the group by its services.
func (g Group) Label() string { return strings.Join(g.Services, "+") }

// Groups splits the services into skill groups: two services are in the
// same group when one counter serves both, or when a chain of counters
// links them (A and B share a counter, B and C share another). A group's
// counters are every counter serving one of its services; no counter
// belongs to two groups, so the groups' counters add up to the office.
//
// Why connected components and not one group per distinct skill set:
// within a component a ticket of any of its services can be reached by
// the counters through the shared skills, so the component behaves
// nearly as one pool (Wallace and Whitt 2005: a little cross-training
// gives most of the pooling), and Erlang C of the pool is the first
// estimate. Splitting it into dedicated lines would count every counter
// once per line and overstate the need — dedicated lines lose 27 pp of
// SL15 at the same staffing in the benchmark (README §13). Where the
// skill matrix pools worse than a true pool (a service few counters
// serve), the pooled estimate is low: that is what the check by
// simulation of `sportello sim --advise` corrects. Services no counter
// serves form groups without counters. Services not in the list are
// ignored.
func Groups(services []string, counters []Counter) []Group {
	idx := make(map[string]int, len(services))
	for i, s := range services {
		idx[s] = i
	}
	parent := make([]int, len(services))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the root is the group's first service
	}
	for _, c := range counters {
		first := -1
		for _, s := range c.Services {
			i, ok := idx[s]
			if !ok {
				continue
			}
			if first < 0 {
				first = i
			} else {
				union(first, i)
			}
		}
	}
	byRoot := map[int]*Group{}
	var roots []int
	for i, s := range services {
		r := find(i)
		g, ok := byRoot[r]
		if !ok {
			g = &Group{}
			byRoot[r] = g
			roots = append(roots, r)
		}
		g.Services = append(g.Services, s)
	}
	for _, c := range counters {
		for _, s := range c.Services {
			if i, ok := idx[s]; ok {
				g := byRoot[find(i)]
				g.Counters = append(g.Counters, c.ID)
				break
			}
		}
	}
	sort.Ints(roots)
	out := make([]Group, len(roots))
	for k, r := range roots {
		out[k] = *byRoot[r]
		out[k].ID = fmt.Sprintf("g%d", k+1)
	}
	return out
}

// Choose picks which n of the group's counters to open for a demand:
// one at a time, the counter that adds most to Σ aₛ / (1 + nₛ) over its
// services, where aₛ is service s's offered load (Erlangs) and nₛ the
// counters chosen so far that serve s — so capacity goes to each service
// roughly in proportion to its load, and a service few counters serve
// gets one of them early. Ties go to the counter with fewer services
// (the generalists stay free for later), then to the given order. It
// returns at most the group's counters, in the given order.
func Choose(counters []Counter, load map[string]float64, n int) []string {
	chosen := make([]bool, len(counters))
	per := map[string]int{}
	for k := 0; k < n && k < len(counters); k++ {
		best, bestGain := -1, -1.0
		for i, c := range counters {
			if chosen[i] {
				continue
			}
			gain := 0.0
			for _, s := range c.Services {
				gain += load[s] / float64(1+per[s])
			}
			if best < 0 || gain > bestGain+1e-12 || (gain > bestGain-1e-12 && len(c.Services) < len(counters[best].Services)) {
				best, bestGain = i, gain
			}
		}
		chosen[best] = true
		for _, s := range counters[best].Services {
			per[s]++
		}
	}
	var out []string
	for i, c := range counters {
		if chosen[i] {
			out = append(out, c.ID)
		}
	}
	return out
}

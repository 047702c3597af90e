package fusionql

import (
	"strings"
)

// The time guard keeps a join of signal tables from scanning all of history.
// Two tables are time-related when a top-level conjunct of an ON or WHERE
// clause is a comparison or BETWEEN that mentions time columns of both (for
// example l.timestamp BETWEEN t.start_time AND t.end_time, or
// ABS(t.start_time - l.timestamp) < INTERVAL '200ms'). A table is time-bounded
// when a top-level WHERE conjunct compares its time columns with constants
// only. A time column inside a CASE counts as neither, since which arm is
// taken depends on the data. Related tables form groups; a query with more
// than one group where some group has no bounded table is refused, or, with a
// default window, has every table of each unbounded group limited to
// [Now-window, Now].

// timeGroups is the result of the analysis.
type timeGroups struct {
	// group[i] is the group of the query's i-th table (0 is FROM).
	group []int
	// bounded[g] says whether group g has a table bounded in WHERE.
	bounded map[int]bool
}

func analyseTime(q *Query) timeGroups {
	n := 1 + len(q.Joins)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	boundedTable := make([]bool, n)
	relate := func(cond Expr, inWhere bool) {
		for _, c := range conjuncts(cond, nil) {
			var sides []Expr
			switch e := c.(type) {
			case *BinaryExpr:
				if !e.Op.isComparison() || e.Op == OpNe {
					continue
				}
				sides = []Expr{e.L, e.R}
			case *BetweenExpr:
				if e.Not {
					continue
				}
				sides = []Expr{e.X, e.Low, e.High}
			default:
				continue
			}
			timed := map[int]bool{}
			constantSide, otherColumns := false, false
			for _, side := range sides {
				columns := 0
				Inspect(side, func(x Expr) bool {
					if _, ok := x.(*CaseExpr); ok && mentionsColumn(x) {
						// Which arm a CASE takes is data: a time column in
						// it neither bounds nor relates, so count it as some
						// other column.
						columns++
						otherColumns = true
						return false
					}
					ref, ok := x.(*ColumnRef)
					if !ok || ref.binding < 0 {
						return true
					}
					columns++
					if ref.typ == TypeTimestamp {
						timed[ref.binding] = true
					} else {
						otherColumns = true
					}
					return true
				})
				if columns == 0 {
					constantSide = true
				}
			}
			first := -1
			for b := range timed {
				if first < 0 {
					first = b
				} else {
					parent[find(b)] = find(first)
				}
			}
			if inWhere && len(timed) == 1 && constantSide && !otherColumns {
				boundedTable[first] = true
			}
		}
	}
	for _, j := range q.Joins {
		relate(j.On, false)
	}
	if q.Where != nil {
		relate(q.Where, true)
	}
	g := timeGroups{group: make([]int, n), bounded: map[int]bool{}}
	for i := range n {
		g.group[i] = find(i)
		if boundedTable[i] {
			g.bounded[g.group[i]] = true
		}
	}
	return g
}

// unguarded reports whether the time guard applies: several groups, and one
// of them unbounded.
func (g timeGroups) unguarded() bool {
	groups := map[int]bool{}
	unbounded := false
	for _, grp := range g.group {
		groups[grp] = true
		if !g.bounded[grp] {
			unbounded = true
		}
	}
	return len(groups) > 1 && unbounded
}

// guardError points at the first JOIN whose table is related to none of the
// tables before it.
func (g timeGroups) guardError(q *Query) *Error {
	for i, j := range q.Joins {
		related := false
		for k := 0; k <= i; k++ {
			if g.group[k] == g.group[i+1] {
				related = true
			}
		}
		if !related {
			var earlier []string
			for _, t := range append([]*TableRef{q.From}, joinedTables(q)[:i]...) {
				earlier = append(earlier, t.bindingName())
			}
			return errorf(j.JoinPos, "JOIN %s has no time relation to %s and WHERE does not bound time; "+
				"compare a time column of %s with one of %s (e.g. BETWEEN), or bound time in WHERE",
				j.Table.bindingName(), strings.Join(earlier, ", "), j.Table.bindingName(), strings.Join(earlier, ", "))
		}
	}
	// Unreachable when unguarded() is true, but keep a usable error.
	return errorf(q.SelectPos, "the joined tables have no time relation and WHERE does not bound time")
}

// mentionsColumn reports whether e reads a column of a table.
func mentionsColumn(e Expr) bool {
	found := false
	Inspect(e, func(x Expr) bool {
		if ref, ok := x.(*ColumnRef); ok && ref.binding >= 0 {
			found = true
		}
		return !found
	})
	return found
}

// conjuncts splits e at top-level ANDs, looking through parentheses.
func conjuncts(e Expr, out []Expr) []Expr {
	switch n := e.(type) {
	case *BinaryExpr:
		if n.Op == OpAnd {
			return conjuncts(n.R, conjuncts(n.L, out))
		}
	case *ParenExpr:
		return conjuncts(n.X, out)
	}
	return append(out, e)
}

package filters

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
)

// This file decides whether two normalized answers are equal: it splits an
// answer into its structure (a collection with its brackets, a relation, a
// scalar expression, or text) and compares like with like.

type answerKind uint8

const (
	kindText answerKind = iota
	kindScalar
	kindRelation
	kindCollection
)

// maxElements bounds the elements of a collection; maxVariables the free
// variables of an expression compared by evaluation.
const (
	maxElements  = 64
	maxVariables = 8
	maxNesting   = 4
)

type answer struct {
	kind answerKind
	src  string // the normalized text

	expr    *node // scalar
	percent bool  // scalar written with a trailing %

	rel      string // relation: "=", "<", "\le", "\ne"
	lhs, rhs *node

	open, close string // collection brackets: "(" "]" ..., `\{` `\}`, "" for a bare list, "∪" for a union
	elems       []*answer
}

func (a *answer) ordered() bool {
	return a.open != `\{` && a.open != "" && a.open != "∪"
}

// describe names the kind of a collection for reasons.
func (a *answer) describe() string {
	switch {
	case a.kind == kindText:
		return "text"
	case a.kind == kindScalar:
		return "a number or expression"
	case a.kind == kindRelation:
		return "a relation"
	case a.open == `\{`:
		return "a set"
	case a.open == "":
		return "a list"
	case a.open == "∪":
		return "a union"
	case a.open == "matrix":
		return "a matrix"
	default:
		return "a tuple or interval " + a.open + "..." + a.close
	}
}

// parseAnswer reads the structure of a normalized answer.
func parseAnswer(s string, depth int) *answer {
	s = strings.TrimSpace(s)
	text := &answer{kind: kindText, src: s}
	if s == "" || depth > maxNesting {
		return text
	}
	if m, ok := parseMatrix(s, depth); ok {
		return m
	}
	if parts := splitTop(s, `\cup`); len(parts) > 1 {
		return collection(s, "∪", "∪", parts, depth)
	}
	if i := strings.Index(s, `\pm`); i >= 0 && strings.Count(s, `\pm`) == 1 && depthAt(s, i) == 0 {
		// 1 \pm \sqrt{2} is the list of both signs.
		return collection(s, "", "", []string{s[:i] + "+" + s[i+3:], s[:i] + "-" + s[i+3:]}, depth)
	}
	if open, close, inner, ok := outerBrackets(s); ok {
		parts := splitTop(inner, ",")
		if len(parts) > 1 || open == `\{` {
			return collection(s, open, close, parts, depth)
		}
	}
	if s[0] == '{' {
		// {1, 2, 3} written without \{ is a set.
		if inner, ok := braceGroup(s); ok && len(inner)+2 == len(s) {
			if parts := splitTop(inner, ","); len(parts) > 1 {
				return collection(s, `\{`, `\}`, parts, depth)
			}
		}
	}
	if parts := splitTop(s, ","); len(parts) > 1 {
		return collection(s, "", "", parts, depth)
	}
	if iv, ok := intervalOf(s, depth); ok {
		return iv
	}
	if rel, lhs, rhs, ok := splitRelation(s); ok {
		l, err1 := parseExpr(lhs)
		r, err2 := parseExpr(rhs)
		if err1 != nil || err2 != nil {
			return text
		}
		return &answer{kind: kindRelation, src: s, rel: rel, lhs: l, rhs: r}
	}
	a := &answer{kind: kindScalar, src: s}
	if t, ok := strings.CutSuffix(s, "%"); ok {
		a.percent = true
		s = t
	}
	if strings.Contains(s, `\emptyset`) || lettersOnly(s) {
		return text
	}
	n, err := parseExpr(s)
	if err != nil {
		return text
	}
	a.expr = n
	return a
}

func collection(src, open, close string, parts []string, depth int) *answer {
	if len(parts) > maxElements {
		return &answer{kind: kindText, src: src}
	}
	c := &answer{kind: kindCollection, src: src, open: open, close: close}
	for _, p := range parts {
		c.elems = append(c.elems, parseAnswer(dropLeadingVariable(strings.TrimSpace(p)), depth+1))
	}
	return c
}

// lettersOnly reports whether s is a word or words ("yes", "Devon"): text,
// not a product of variables. A single letter is a variable.
func lettersOnly(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && s[i] != ' ' {
			return false
		}
	}
	return true
}

// parseMatrix reads \begin{pmatrix} a & b \\ c & d \end{pmatrix} (also
// bmatrix, matrix, and an array inside brackets: [\begin{array}{cc} ...
// \end{array}]); a matrix inside one pair of brackets is the matrix. A
// vmatrix is not a matrix but a determinant: not handled.
func parseMatrix(s string, depth int) (*answer, bool) {
	if !strings.Contains(s, `\begin{`) {
		return nil, false
	}
	if len(s) > 2 && (s[0] == '(' && s[len(s)-1] == ')' || s[0] == '[' && s[len(s)-1] == ']') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	for _, env := range []string{"pmatrix", "bmatrix", "matrix", "array"} {
		begin, end := `\begin{`+env+`}`, `\end{`+env+`}`
		if !strings.HasPrefix(s, begin) || !strings.HasSuffix(s, end) {
			continue
		}
		inner := s[len(begin) : len(s)-len(end)]
		if env == "array" { // the column specification
			spec, ok := braceGroup(strings.TrimSpace(inner))
			if !ok {
				return nil, false
			}
			inner = strings.TrimSpace(inner)[len(spec)+2:]
		}
		if strings.Count(inner, `\begin{`) > 0 {
			return nil, false // a product or sum of matrices
		}
		rows := strings.Split(strings.TrimSuffix(strings.TrimSpace(inner), `\\`), `\\`)
		var cells []string
		cols := -1
		for _, r := range rows {
			cs := strings.Split(r, "&")
			if cols >= 0 && len(cs) != cols {
				return nil, false
			}
			cols = len(cs)
			cells = append(cells, cs...)
		}
		c := collection(s, "matrix", fmt.Sprintf("%dx%d", len(rows), cols), cells, depth)
		return c, c.kind == kindCollection
	}
	return nil, false
}

// bracket depth bookkeeping treats (, [, {, \{ and \langle alike, so that
// half-open intervals [a, b) nest correctly.
func bracketAt(s string, i int) (delta int, width int) {
	switch {
	case strings.HasPrefix(s[i:], `\{`), strings.HasPrefix(s[i:], `\}`):
		if s[i+1] == '{' {
			return 1, 2
		}
		return -1, 2
	case strings.HasPrefix(s[i:], `\langle`):
		return 1, len(`\langle`)
	case strings.HasPrefix(s[i:], `\rangle`):
		return -1, len(`\rangle`)
	}
	switch s[i] {
	case '(', '[', '{':
		return 1, 1
	case ')', ']', '}':
		return -1, 1
	}
	return 0, 1
}

// depthAt returns the bracket depth at byte i of s.
func depthAt(s string, i int) int {
	d := 0
	for j := 0; j < i; {
		delta, w := bracketAt(s, j)
		d += delta
		j += w
	}
	return d
}

// splitTop splits s at occurrences of sep at bracket depth 0.
func splitTop(s, sep string) []string {
	if !strings.Contains(s, sep) {
		return []string{s}
	}
	var parts []string
	d, start := 0, 0
	for i := 0; i < len(s); {
		if d == 0 && strings.HasPrefix(s[i:], sep) {
			parts = append(parts, s[start:i])
			i += len(sep)
			start = i
			continue
		}
		delta, w := bracketAt(s, i)
		d += delta
		i += w
	}
	return append(parts, s[start:])
}

// outerBrackets reports whether s is one bracketed group, returning its
// brackets and content: (1,2), [0, \infty), \{1, 2\}, \langle 1, 2\rangle.
func outerBrackets(s string) (open, close, inner string, ok bool) {
	delta, w := bracketAt(s, 0)
	if delta != 1 || s[0] == '{' {
		return "", "", "", false
	}
	open = s[:w]
	d := 0
	for i := 0; i < len(s); {
		delta, w := bracketAt(s, i)
		d += delta
		if d == 0 {
			if i+w != len(s) {
				return "", "", "", false
			}
			close = s[i:]
			if (open == `\{`) != (close == `\}`) || (open == `\langle`) != (close == `\rangle`) {
				return "", "", "", false
			}
			return open, close, s[len(open):i], true
		}
		i += w
	}
	return "", "", "", false
}

var relations = []struct{ text, rel string }{
	{`\le`, "<="}, {`\ge`, ">="}, {`\ne`, "!="}, {`\lt`, "<"}, {`\gt`, ">"},
	{"<=", "<="}, {">=", ">="}, {"!=", "!="}, {"=", "="}, {"<", "<"}, {">", ">"},
}

// intervalOf reads a double inequality a < x <= b, whose middle is a
// variable or label, as the interval (a, b].
func intervalOf(s string, depth int) (*answer, bool) {
	type sign struct {
		i, w   int
		strict bool
		less   bool
	}
	var signs []sign
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], `\le`) && !(i+3 < len(s) && isLetter(s[i+3]) && s[i+3] != ' '):
			signs = append(signs, sign{i, 3, false, true})
		case strings.HasPrefix(s[i:], `\ge`) && !(i+3 < len(s) && isLetter(s[i+3])):
			signs = append(signs, sign{i, 3, false, false})
		case strings.HasPrefix(s[i:], `\lt`) && !(i+3 < len(s) && isLetter(s[i+3])):
			signs = append(signs, sign{i, 3, true, true})
		case strings.HasPrefix(s[i:], `\gt`) && !(i+3 < len(s) && isLetter(s[i+3])):
			signs = append(signs, sign{i, 3, true, false})
		case strings.HasPrefix(s[i:], "<="):
			signs = append(signs, sign{i, 2, false, true})
		case strings.HasPrefix(s[i:], ">="):
			signs = append(signs, sign{i, 2, false, false})
		case s[i] == '<':
			signs = append(signs, sign{i, 1, true, true})
		case s[i] == '>':
			signs = append(signs, sign{i, 1, true, false})
		case s[i] == '=' || strings.HasPrefix(s[i:], `\ne`):
			return nil, false
		default:
			continue
		}
		i += signs[len(signs)-1].w - 1
	}
	if len(signs) != 2 || signs[0].less != signs[1].less {
		return nil, false
	}
	lo := strings.TrimSpace(s[:signs[0].i])
	mid := strings.TrimSpace(s[signs[0].i+signs[0].w : signs[1].i])
	hi := strings.TrimSpace(s[signs[1].i+signs[1].w:])
	if !isLabel(mid) || strings.HasPrefix(mid, "|") || lo == "" || hi == "" {
		// 1 <= |z| <= 2 is a union of two intervals, not [1, 2].
		return nil, false
	}
	open, close := "[", "]"
	if signs[0].strict {
		open = "("
	}
	if signs[1].strict {
		close = ")"
	}
	if !signs[0].less { // b > x > a
		lo, hi = hi, lo
		open, close = map[bool]string{true: "(", false: "["}[signs[1].strict], map[bool]string{true: ")", false: "]"}[signs[0].strict]
	}
	c := collection(s, open, close, []string{lo, hi}, depth)
	return c, c.kind == kindCollection
}

// splitRelation splits s at its only top-level relation sign.
func splitRelation(s string) (rel, lhs, rhs string, ok bool) {
	found := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '=' && s[i] != '<' && s[i] != '>' && s[i] != '\\' && s[i] != '!' {
			continue
		}
		for _, r := range relations {
			if !strings.HasPrefix(s[i:], r.text) {
				continue
			}
			if r.text == "!=" && i > 0 && (isDigit(s[i-1]) || s[i-1] == ')') {
				continue // 5! = 120 is a factorial
			}
			if r.text[0] == '\\' && i+len(r.text) < len(s) && isLetter(s[i+len(r.text)]) {
				continue // \left, \neq handled by the normalizer, \leq ...
			}
			found++
			rel, lhs, rhs = r.rel, s[:i], s[i+len(r.text):]
			i += len(r.text) - 1
			break
		}
	}
	if found != 1 {
		return "", "", "", false
	}
	// a > b is b < a.
	switch rel {
	case ">":
		rel, lhs, rhs = "<", rhs, lhs
	case ">=":
		rel, lhs, rhs = "<=", rhs, lhs
	}
	return rel, lhs, rhs, true
}

// comparer holds one comparison's settings and scratch state.
type comparer struct {
	relTol, absTol float64
	points         int
	ev             evaluator
	response       string // read (once, lazily) for a stated rounding
	rounded        int8   // 0 unknown, 1 the response states rounding, -1 not
}

// statesRounding reports, once per comparison, whether the response states
// that its decimals are rounded.
func (c *comparer) statesRounding() bool {
	if c.rounded == 0 {
		c.rounded = -1
		if statesRounding(c.response) {
			c.rounded = 1
		}
	}
	return c.rounded > 0
}

// MinFloatDecimals is how many digits after the point make a decimal a
// printed float (0.0833333333333333) rather than a stated value: such a
// decimal equals the exact value it is the correct rounding of.
const MinFloatDecimals = 10

// literalDecimals returns the digits after the point when n is a decimal
// literal, possibly negated.
func literalDecimals(n *node) int {
	if n == nil {
		return 0
	}
	if n.op == opNeg {
		n = n.a
	}
	if n.op == opNum {
		return n.decimals
	}
	return 0
}

// roundsTo reports whether the decimal d, written with k digits after the
// point, is the correct rounding of v: |v - d| <= 1/2 * 10^-k. Only a
// decimal the response states as rounded (or one long enough to be a
// printed float) is read this way; a wrongly rounded value never passes.
func (c *comparer) roundsTo(d value, k int, v value) bool {
	if k <= 0 || k > 40 || !(k >= MinFloatDecimals || c.statesRounding()) {
		return false
	}
	half := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Mul(big.NewInt(2), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)))
	if d.exact() && v.exact() {
		diff := new(big.Rat).Sub(v.r, d.r)
		return diff.Abs(diff).Cmp(half) <= 0
	}
	h, _ := half.Float64()
	x, y := d.float(), v.float()
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return false
	}
	return math.Abs(x-y) <= h*(1+1e-9)
}

// equal compares two answers and explains the result in one line.
func (c *comparer) equal(a, b *answer) (bool, string) {
	if a.kind == kindText || b.kind == kindText {
		ta, tb := canonicalText(a.src), canonicalText(b.src)
		if ta == tb {
			return true, fmt.Sprintf("equal as text after normalization: %q", ta)
		}
		return false, fmt.Sprintf("not equal as text: %q vs %q", ta, tb)
	}
	if a.kind != b.kind {
		return false, fmt.Sprintf("not equal: %s is %s, %s is %s", a.src, a.describe(), b.src, b.describe())
	}
	switch a.kind {
	case kindCollection:
		return c.equalCollections(a, b)
	case kindRelation:
		return c.equalRelations(a, b)
	}
	return c.equalScalars(a, b)
}

func canonicalText(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, " ", "")
	return strings.Trim(s, "{}")
}

func (c *comparer) equalCollections(a, b *answer) (bool, string) {
	if a.ordered() != b.ordered() || a.ordered() && (a.open != b.open || a.close != b.close) {
		return false, fmt.Sprintf("not equal: %s is %s, %s is %s", a.src, a.describe(), b.src, b.describe())
	}
	if a.ordered() {
		if len(a.elems) != len(b.elems) {
			return false, fmt.Sprintf("not equal: %d elements vs %d", len(a.elems), len(b.elems))
		}
		for i := range a.elems {
			if ok, why := c.equal(a.elems[i], b.elems[i]); !ok {
				return false, fmt.Sprintf("element %d differs: %s", i+1, why)
			}
		}
		return true, fmt.Sprintf("equal element by element as %s", a.describe())
	}
	if len(a.elems) == len(b.elems) {
		// Unordered, same size: match each element of a with a distinct
		// element of b, so multiplicities count (1, 1, 2 is not 1, 2, 2).
		used := make([]bool, len(b.elems))
		for i, x := range a.elems {
			matched := false
			for j, y := range b.elems {
				if used[j] {
					continue
				}
				if ok, _ := c.equal(x, y); ok {
					used[j], matched = true, true
					break
				}
			}
			if !matched {
				return false, fmt.Sprintf("element %d (%s) has no equal in %s", i+1, x.src, b.src)
			}
		}
		return true, fmt.Sprintf("equal as %s, in any order", a.describe())
	}
	// Unordered, different sizes: equal as sets when one side repeats an
	// element (a solution listed twice is still one solution).
	if i, ok := c.covered(a, b); !ok {
		return false, fmt.Sprintf("element %d (%s) has no equal in %s", i+1, a.elems[i].src, b.src)
	}
	if i, ok := c.covered(b, a); !ok {
		return false, fmt.Sprintf("element %d (%s) has no equal in %s", i+1, b.elems[i].src, a.src)
	}
	return true, fmt.Sprintf("equal as %s, in any order", a.describe())
}

// covered reports whether every element of a has an equal in b, or the
// index of the first that has none.
func (c *comparer) covered(a, b *answer) (int, bool) {
	for i, x := range a.elems {
		matched := false
		for _, y := range b.elems {
			if ok, _ := c.equal(x, y); ok {
				matched = true
				break
			}
		}
		if !matched {
			return i, false
		}
	}
	return 0, true
}

func (c *comparer) equalScalars(a, b *answer) (bool, string) {
	vars := variables(b.expr, variables(a.expr, nil))
	if len(vars) > maxVariables {
		ta, tb := canonicalText(a.src), canonicalText(b.src)
		return ta == tb, "too many variables to evaluate; compared as text"
	}
	if len(vars) == 0 {
		c.ev.env = c.ev.env[:0]
		va, err1 := c.ev.eval(a.expr)
		vb, err2 := c.ev.eval(b.expr)
		if err1 != nil || err2 != nil {
			ta, tb := canonicalText(a.src), canonicalText(b.src)
			if ta == tb {
				return true, "equal as text (value undefined)"
			}
			return false, fmt.Sprintf("not equal: %s or %s has no value", a.src, b.src)
		}
		if ok, how := c.equalValues(va, vb); ok {
			return true, fmt.Sprintf("equal %s: %s = %s", how, a.src, b.src)
		}
		if k := literalDecimals(a.expr); c.roundsTo(va, k, vb) {
			return true, fmt.Sprintf("equal after rounding: %s is %s rounded to %d decimals", a.src, b.src, k)
		}
		if k := literalDecimals(b.expr); c.roundsTo(vb, k, va) {
			return true, fmt.Sprintf("equal after rounding: %s is %s rounded to %d decimals", b.src, a.src, k)
		}
		if a.percent != b.percent {
			// 25% is also 0.25.
			p, q := va, vb
			if b.percent {
				p, q = vb, va
			}
			if scaled, err := c.ev.binary(opDiv, p, value{r: big.NewRat(100, 1)}); err == nil {
				if ok, how := c.equalValues(scaled, q); ok {
					return true, fmt.Sprintf("equal as a percentage %s: %s = %s", how, a.src, b.src)
				}
			}
		}
		return false, fmt.Sprintf("not equal: %s = %s but %s = %s", a.src, va, b.src, vb)
	}
	return c.equalFunctions(a.expr, b.expr, vars, a.src, b.src, false)
}

// equalFunctions compares two expressions in vars by evaluation at fixed
// pseudo-random rational points. proportional relaxes equality to f = k g
// for a constant k != 0 (positive when positive is set), for relations.
func (c *comparer) equalFunctions(f, g *node, vars []string, fs, gs string, proportional bool) (bool, string) {
	slices.Sort(vars) // the same variable gets the same values whichever side it came from
	var ratio value
	haveRatio := false
	defined := 0
	for p := 0; p < c.points; p++ {
		c.ev.env = c.ev.env[:0]
		for i, name := range vars {
			c.ev.env = append(c.ev.env, binding{name, value{r: samplePoints[p%len(samplePoints)][i]}})
		}
		vf, err1 := c.ev.eval(f)
		vg, err2 := c.ev.eval(g)
		if err1 != nil || err2 != nil {
			continue // outside one side's domain: no evidence either way
		}
		if !proportional {
			if ok, _ := c.equalValues(vf, vg); !ok {
				return false, fmt.Sprintf("not equal: at %s, %s = %s but %s = %s", pointString(c.ev.env), fs, vf, gs, vg)
			}
			defined++
			continue
		}
		zf, zg := c.isZero(vf), c.isZero(vg)
		if zf != zg {
			return false, fmt.Sprintf("not equal: at %s one side vanishes and the other does not", pointString(c.ev.env))
		}
		if zf {
			continue
		}
		r, err := c.ev.binary(opDiv, vf, vg)
		if err != nil {
			continue
		}
		if !haveRatio {
			ratio, haveRatio = r, true
		} else if ok, _ := c.equalValues(ratio, r); !ok {
			return false, fmt.Sprintf("not equivalent: at %s the sides are not in the same ratio", pointString(c.ev.env))
		}
		defined++
	}
	if defined < minDefinedPoints {
		return false, fmt.Sprintf("not equal: defined at only %d of %d test points", defined, c.points)
	}
	if proportional {
		return true, fmt.Sprintf("equivalent relations: sides agree up to the factor %s at %d points", ratio, defined)
	}
	return true, fmt.Sprintf("equal as functions of %s at %d test points: %s = %s", strings.Join(vars, ", "), defined, fs, gs)
}

// minDefinedPoints is how many evaluation points must give both sides a
// value before two expressions are called equal.
const minDefinedPoints = 3

func (c *comparer) equalRelations(a, b *answer) (bool, string) {
	if a.rel != b.rel {
		return false, fmt.Sprintf("not equal: relation %s vs %s", a.rel, b.rel)
	}
	da := &node{op: opSub, a: a.lhs, b: a.rhs}
	db := &node{op: opSub, a: b.lhs, b: b.rhs}
	vars := variables(db, variables(da, nil))
	if len(vars) == 0 || len(vars) > maxVariables {
		ta, tb := canonicalText(a.src), canonicalText(b.src)
		return ta == tb, "relation without variables; compared as text"
	}
	ok, why := c.equalFunctions(da, db, vars, a.src, b.src, true)
	if ok && a.rel != "=" && a.rel != "!=" {
		// An inequality survives only multiplication by a positive factor.
		if c.negativeRatio(da, db, vars) {
			return false, "not equivalent: the inequalities point in opposite directions"
		}
	}
	return ok, why
}

// negativeRatio reports whether f/g is negative at the first point where
// both are defined and nonzero.
func (c *comparer) negativeRatio(f, g *node, vars []string) bool {
	slices.Sort(vars)
	for p := 0; p < c.points; p++ {
		c.ev.env = c.ev.env[:0]
		for i, name := range vars {
			c.ev.env = append(c.ev.env, binding{name, value{r: samplePoints[p%len(samplePoints)][i]}})
		}
		vf, err1 := c.ev.eval(f)
		vg, err2 := c.ev.eval(g)
		if err1 != nil || err2 != nil || c.isZero(vf) || c.isZero(vg) {
			continue
		}
		return (vf.float() < 0) != (vg.float() < 0)
	}
	return false
}

func (c *comparer) isZero(v value) bool {
	if v.exact() {
		return v.r.Sign() == 0
	}
	return math.Abs(v.f) <= c.absTol
}

// equalValues compares two numbers: exactly when both are exact, within
// the tolerances otherwise. how says which.
func (c *comparer) equalValues(a, b value) (bool, string) {
	if a.exact() && b.exact() {
		return a.r.Cmp(b.r) == 0, "as rationals"
	}
	x, y := a.float(), b.float()
	if x == y { // also equal infinities
		return true, "as numbers"
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsNaN(y) {
		return false, "as numbers"
	}
	d := math.Abs(x - y)
	if d <= c.absTol || d <= c.relTol*math.Max(math.Abs(x), math.Abs(y)) {
		return true, fmt.Sprintf("within relative tolerance %g", c.relTol)
	}
	return false, "as numbers"
}

// samplePoints are the variable values expressions are evaluated at: fixed
// (so verdicts are reproducible), rational (so polynomial identities are
// checked exactly), of both signs and away from 0, ±1 and small integers
// where special cases hide.
var samplePoints = func() [][]*big.Rat {
	nums := []int64{7, -5, 13, -3, 11, -17, 2, -19, 23, -29, 31, -37, 41, -43, 47, -53}
	dens := []int64{3, 7, 5, 11, 4, 9, 13, 6}
	pts := make([][]*big.Rat, 8)
	for p := range pts {
		pts[p] = make([]*big.Rat, maxVariables)
		for v := range pts[p] {
			pts[p][v] = big.NewRat(nums[(p+v*3)%len(nums)], dens[(p*3+v)%len(dens)])
		}
	}
	return pts
}()

func pointString(env []binding) string {
	var b strings.Builder
	for i, x := range env {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.name + "=" + x.v.String())
	}
	return b.String()
}

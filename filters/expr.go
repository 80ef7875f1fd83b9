package filters

import (
	"errors"
	"math/big"
	"strings"
)

// This file parses the scalar part of a normalized answer (the LaTeX subset
// final answers use) into an expression tree. Anything outside the subset is
// an error, and the caller compares the answer as text instead.

var (
	errSyntax   = errors.New("not a math expression")
	errTooLarge = errors.New("expression too large")
)

// maxDepth bounds parser recursion; maxNodes bounds the tree.
const (
	maxDepth = 64
	maxNodes = 1024
)

type opKind uint8

const (
	opNum   opKind = iota // val
	opVar                 // name
	opConst               // name: pi, e, inf
	opNeg                 // -a
	opAdd                 // a + b
	opSub                 // a - b
	opMul                 // a * b
	opDiv                 // a / b
	opPow                 // a ^ b
	opFunc                // name(a)
	opLog                 // log base b of a (b == nil: base 10)
	opFact                // a!
	opAbs                 // |a|
)

type node struct {
	op   opKind
	val  *big.Rat // opNum; shared and never mutated
	name string   // opVar, opConst, opFunc
	a, b *node
	// frac marks \frac{int}{int}, intLit an unsigned integer literal: the
	// two halves of a mixed number 1\frac{1}{2}.
	frac, intLit bool
	// decimals is the number of digits after the point of a decimal
	// literal (0.33 has 2), for the rounding rule.
	decimals int
}

type tokKind uint8

const (
	tEOF   tokKind = iota
	tNum           // 12, 0.5
	tIdent         // x, x_1, \alpha
	tFunc          // sin, \ln, sqrt
	tCmd           // \frac, \pi, \infty, ...
	tOp            // + - * / ^ ( ) [ ] { } | ! % ,
)

type token struct {
	kind tokKind
	text string
}

// functions are the names recognised with or without a backslash.
var functions = map[string]bool{
	"sin": true, "cos": true, "tan": true, "sec": true, "csc": true, "cot": true,
	"arcsin": true, "arccos": true, "arctan": true, "sinh": true, "cosh": true,
	"tanh": true, "ln": true, "log": true, "exp": true, "sqrt": true,
}

// tokenize splits a normalized answer into tokens.
func tokenize(s string) ([]token, error) {
	toks := make([]token, 0, len(s)/2+1)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				j++
				for j < len(s) && isDigit(s[j]) {
					j++
				}
			}
			toks = append(toks, token{tNum, s[i:j]})
			i = j
		case isLetter(c):
			j := i
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			word := s[i:j]
			i = j
			switch {
			case functions[word]:
				toks = append(toks, token{tFunc, word})
				continue
			case word == "pi":
				toks = append(toks, token{tCmd, "pi"})
				continue
			case len(word) > 2:
				// A word is text ("yes", "p.m."), not a product of letters.
				return nil, errSyntax
			}
			for k := 0; k < len(word); k++ {
				name := word[k : k+1]
				if k == len(word)-1 {
					var ok bool
					name, i, ok = subscript(s, name, i)
					if !ok {
						return nil, errSyntax
					}
				}
				toks = append(toks, token{tIdent, name})
			}
		case c == '\\':
			j := i + 1
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			if j == i+1 {
				if j >= len(s) {
					return nil, errSyntax
				}
				switch s[j] {
				case '{', '}':
					return nil, errSyntax // sets are handled above this level
				case '|':
					toks = append(toks, token{tOp, "|"})
				default:
					return nil, errSyntax
				}
				i = j + 1
				continue
			}
			name := s[i+1 : j]
			i = j
			switch {
			case functions[name]:
				toks = append(toks, token{tFunc, name})
			case greek[name]:
				var ok bool
				name, i, ok = subscript(s, `\`+name, i)
				if !ok {
					return nil, errSyntax
				}
				toks = append(toks, token{tIdent, name})
			default:
				toks = append(toks, token{tCmd, name})
			}
		case c == '_' && i+1 < len(s) && isDigit(s[i+1]):
			// LaTeX takes one character as a subscript: \log_28 is log base 2 of 8.
			toks = append(toks, token{tOp, "_"}, token{tNum, s[i+1 : i+2]})
			i += 2
		case strings.IndexByte("+-*/^()[]{}|!%_", c) >= 0:
			toks = append(toks, token{tOp, s[i : i+1]})
			i++
		default:
			return nil, errSyntax
		}
		if len(toks) > maxNodes {
			return nil, errTooLarge
		}
	}
	return toks, nil
}

// subscript extends a variable name with a following _x or _{...}.
func subscript(s, name string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '_' {
		return name, i, true
	}
	if i+1 >= len(s) {
		return "", i, false
	}
	if s[i+1] == '{' {
		inner, ok := braceGroup(s[i+1:])
		if !ok {
			return "", i, false
		}
		return name + "_" + strings.TrimSpace(inner), i + 1 + len(inner) + 2, true
	}
	return name + "_" + s[i+1:i+2], i + 2, true
}

type parser struct {
	toks  []token
	pos   int
	depth int
	nodes int
	abs   int // open |...| groups
}

func parseExpr(s string) (*node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errSyntax
	}
	p := &parser{toks: toks}
	n, err := p.sum()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, errSyntax
	}
	return n, nil
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) isOp(text string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == text
}

func (p *parser) newNode(n node) (*node, error) {
	p.nodes++
	if p.nodes > maxNodes {
		return nil, errTooLarge
	}
	return &n, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errTooLarge
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// sum := term (('+'|'-') term)*
func (p *parser) sum() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := opAdd
		if p.peek().text == "-" {
			op = opSub
		}
		p.pos++
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		if left, err = p.newNode(node{op: op, a: left, b: right}); err != nil {
			return nil, err
		}
	}
	return left, nil
}

// startsFactor reports whether the next token can begin an implicitly
// multiplied factor (2x, 3\sqrt{2}, (x+1)(x-1)).
func (p *parser) startsFactor() bool {
	t := p.peek()
	switch t.kind {
	case tNum, tIdent, tFunc, tCmd:
		return true
	case tOp:
		switch t.text {
		case "(", "[", "{":
			return true
		case "|":
			return p.abs == 0
		}
	}
	return false
}

// term := signed (('*'|'/'|implicit) signed)*
func (p *parser) term() (*node, error) {
	left, err := p.signed()
	if err != nil {
		return nil, err
	}
	for {
		var op opKind
		switch {
		case p.isOp("*"):
			op = opMul
			p.pos++
		case p.isOp("/"):
			op = opDiv
			p.pos++
		case p.startsFactor():
			op = opMul
		default:
			return left, nil
		}
		implicit := p.pos > 0 && !(p.toks[p.pos-1].kind == tOp && (p.toks[p.pos-1].text == "*" || p.toks[p.pos-1].text == "/"))
		right, err := p.signed()
		if err != nil {
			return nil, err
		}
		if implicit && right.frac {
			// A mixed number: 1\frac{1}{2} is 1 + 1/2, -1\frac{1}{2} is -(1 + 1/2).
			if left.intLit {
				left, err = p.newNode(node{op: opAdd, a: left, b: right})
				if err != nil {
					return nil, err
				}
				continue
			}
			if left.op == opNeg && left.a.intLit {
				sum, err := p.newNode(node{op: opAdd, a: left.a, b: right})
				if err != nil {
					return nil, err
				}
				left.a = sum
				continue
			}
		}
		if left, err = p.newNode(node{op: op, a: left, b: right}); err != nil {
			return nil, err
		}
	}
}

// signed := ('-'|'+') signed | power
func (p *parser) signed() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.isOp("-") {
		p.pos++
		a, err := p.signed()
		if err != nil {
			return nil, err
		}
		return p.newNode(node{op: opNeg, a: a})
	}
	if p.isOp("+") {
		p.pos++
		return p.signed()
	}
	return p.power()
}

// power := postfix ('^' exponent)?
func (p *parser) power() (*node, error) {
	base, err := p.postfix()
	if err != nil {
		return nil, err
	}
	if !p.isOp("^") {
		return base, nil
	}
	p.pos++
	exp, err := p.exponent()
	if err != nil {
		return nil, err
	}
	return p.newNode(node{op: opPow, a: base, b: exp})
}

// exponent is a brace group or a signed power: x^{2n}, x^2, x^-1, 2^3^2.
func (p *parser) exponent() (*node, error) {
	if p.isOp("{") {
		return p.group("{", "}")
	}
	return p.signed()
}

// postfix := primary ('!' | '%')*
func (p *parser) postfix() (*node, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("!"):
			p.pos++
			n, err = p.newNode(node{op: opFact, a: n})
		case p.isOp("%"):
			p.pos++
			var hundred *node
			if hundred, err = p.newNode(node{op: opNum, val: big.NewRat(100, 1)}); err == nil {
				n, err = p.newNode(node{op: opDiv, a: n, b: hundred})
			}
		default:
			return n, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// group parses open expr close.
func (p *parser) group(open, close string) (*node, error) {
	if !p.isOp(open) {
		return nil, errSyntax
	}
	p.pos++
	n, err := p.sum()
	if err != nil {
		return nil, err
	}
	if !p.isOp(close) {
		return nil, errSyntax
	}
	p.pos++
	return n, nil
}

func (p *parser) primary() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tNum:
		p.pos++
		r, ok := new(big.Rat).SetString(t.text)
		if !ok {
			return nil, errSyntax
		}
		dec := 0
		if i := strings.IndexByte(t.text, '.'); i >= 0 {
			dec = len(t.text) - i - 1
		}
		return p.newNode(node{op: opNum, val: r, intLit: dec == 0 && !strings.Contains(t.text, "."), decimals: dec})
	case tIdent:
		p.pos++
		if t.text == "e" {
			return p.newNode(node{op: opConst, name: "e"})
		}
		return p.newNode(node{op: opVar, name: t.text})
	case tFunc:
		p.pos++
		return p.function(t.text)
	case tCmd:
		p.pos++
		return p.command(t.text)
	case tOp:
		switch t.text {
		case "(":
			return p.group("(", ")")
		case "[":
			return p.group("[", "]")
		case "{":
			return p.group("{", "}")
		case "|":
			p.pos++
			p.abs++
			inner, err := p.sum()
			p.abs--
			if err != nil {
				return nil, err
			}
			if !p.isOp("|") {
				return nil, errSyntax
			}
			p.pos++
			return p.newNode(node{op: opAbs, a: inner})
		}
	}
	return nil, errSyntax
}

// command parses what follows a LaTeX command in value position.
func (p *parser) command(name string) (*node, error) {
	switch name {
	case "pi":
		return p.newNode(node{op: opConst, name: "pi"})
	case "infty":
		return p.newNode(node{op: opConst, name: "inf"})
	case "frac":
		num, err := p.group("{", "}")
		if err != nil {
			return nil, err
		}
		den, err := p.group("{", "}")
		if err != nil {
			return nil, err
		}
		return p.newNode(node{op: opDiv, a: num, b: den, frac: num.intLit && den.intLit})
	case "binom":
		n, err := p.group("{", "}")
		if err != nil {
			return nil, err
		}
		k, err := p.group("{", "}")
		if err != nil {
			return nil, err
		}
		return p.binomial(n, k)
	}
	return nil, errSyntax
}

// binomial builds n!/(k!(n-k)!).
func (p *parser) binomial(n, k *node) (*node, error) {
	nodes := []node{
		{op: opFact, a: n},
		{op: opFact, a: k},
		{op: opSub, a: n, b: k},
	}
	var err error
	var nf, kf, d, df, prod *node
	if nf, err = p.newNode(nodes[0]); err != nil {
		return nil, err
	}
	if kf, err = p.newNode(nodes[1]); err != nil {
		return nil, err
	}
	if d, err = p.newNode(nodes[2]); err != nil {
		return nil, err
	}
	if df, err = p.newNode(node{op: opFact, a: d}); err != nil {
		return nil, err
	}
	if prod, err = p.newNode(node{op: opMul, a: kf, b: df}); err != nil {
		return nil, err
	}
	return p.newNode(node{op: opDiv, a: nf, b: prod})
}

// function parses \sqrt[n]{x}, \sin^2 x, \log_2 8, \ln(x), ...
func (p *parser) function(name string) (*node, error) {
	if name == "sqrt" {
		var index *node
		var err error
		if p.isOp("[") {
			if index, err = p.group("[", "]"); err != nil {
				return nil, err
			}
		} else if index, err = p.newNode(node{op: opNum, val: big.NewRat(2, 1)}); err != nil {
			return nil, err
		}
		var arg *node
		if p.isOp("{") {
			arg, err = p.group("{", "}")
		} else {
			arg, err = p.postfix()
		}
		if err != nil {
			return nil, err
		}
		one, err := p.newNode(node{op: opNum, val: big.NewRat(1, 1)})
		if err != nil {
			return nil, err
		}
		inv, err := p.newNode(node{op: opDiv, a: one, b: index})
		if err != nil {
			return nil, err
		}
		return p.newNode(node{op: opPow, a: arg, b: inv})
	}
	var base *node
	if name == "log" && p.isOp("_") { // \log_2 8, \log_{10} x
		p.pos++
		var err error
		if p.isOp("{") {
			base, err = p.group("{", "}")
		} else {
			base, err = p.primary()
		}
		if err != nil {
			return nil, err
		}
	}
	var power *node
	if p.isOp("^") {
		p.pos++
		var err error
		if power, err = p.exponent(); err != nil {
			return nil, err
		}
	}
	var arg *node
	var err error
	switch {
	case p.isOp("("):
		arg, err = p.group("(", ")")
	case p.isOp("{"):
		arg, err = p.group("{", "}")
	default:
		arg, err = p.power()
	}
	if err != nil {
		return nil, err
	}
	var f *node
	if name == "log" || name == "ln" {
		if name == "ln" {
			base, err = p.newNode(node{op: opConst, name: "e"})
			if err != nil {
				return nil, err
			}
		}
		f, err = p.newNode(node{op: opLog, a: arg, b: base})
	} else {
		f, err = p.newNode(node{op: opFunc, name: name, a: arg})
	}
	if err != nil || power == nil {
		return f, err
	}
	return p.newNode(node{op: opPow, a: f, b: power})
}

// variables appends the variable names in n to seen (each once).
func variables(n *node, seen []string) []string {
	if n == nil {
		return seen
	}
	if n.op == opVar {
		for _, s := range seen {
			if s == n.name {
				return seen
			}
		}
		return append(seen, n.name)
	}
	return variables(n.b, variables(n.a, seen))
}

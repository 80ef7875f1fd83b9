// Package mathverify measures how often filters.MathVerifier agrees with
// the regression cases of huggingface/Math-Verify (its tests/ folder). The
// cases are read from a fetched copy of that repository at test time and
// never copied here; see agreement_test.go for how to run it, and
// testdata/disagreements.txt for every case where we decide differently,
// with the reason.
package mathverify

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Case is one parametrized (gold, pred, expected) case of a pytest test.
type Case struct {
	Group    string // file:function, e.g. test_all.py:test_latex_notation
	Index    int    // position within the group, from 1
	Gold     string
	Pred     string
	Expected bool
	// Options are the other parameters of the case by name (strict,
	// allow_set_relation_comp, precision), as Python wrote them.
	Options map[string]string
}

// Key names a case stably: its group, index and a hash of its text, so a
// change upstream shows up as an unknown case rather than a wrong match.
func (c Case) Key() string {
	h := uint32(2166136261)
	for _, s := range []string{c.Gold, "\x00", c.Pred} {
		for i := 0; i < len(s); i++ {
			h ^= uint32(s[i])
			h *= 16777619
		}
	}
	return fmt.Sprintf("%s#%d:%08x", c.Group, c.Index, h)
}

// ParseCases reads every @pytest.mark.parametrize table of a pytest file
// whose parameters include a gold, a pred and an expected (or result)
// value. Parameters whose value is not a literal (a config object) make the
// table unreadable; such tables are skipped and named in skipped.
func ParseCases(file, src string) (cases []Case, skipped []string, err error) {
	const deco = "@pytest.mark.parametrize("
	for {
		i := strings.Index(src, deco)
		if i < 0 {
			return cases, skipped, nil
		}
		src = src[i+len(deco):]
		p := &pyParser{s: src}
		namesV, err := p.value()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: parameter names: %w", file, err)
		}
		names, ok := namesV.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%s: parameter names are not a string", file)
		}
		p.skipSpace()
		if !p.eat(",") {
			return nil, nil, fmt.Errorf("%s: want , after parameter names", file)
		}
		table, err := p.value()
		def := strings.Index(src, "\ndef ")
		if def < 0 {
			return nil, nil, fmt.Errorf("%s: parametrize without a test function", file)
		}
		fn := src[def+len("\ndef "):]
		fn = fn[:strings.IndexByte(fn, '(')]
		group := file + ":" + fn
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (%v)", group, err))
			src = src[def:]
			continue
		}
		rows, ok := table.([]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s: parameter values are not a list", group)
		}
		var fields []string
		for _, n := range strings.Split(names, ",") {
			fields = append(fields, strings.TrimSpace(n))
		}
		for k, row := range rows {
			vals, ok := row.([]any)
			if !ok || len(vals) != len(fields) {
				return nil, nil, fmt.Errorf("%s: row %d does not match %q", group, k+1, names)
			}
			c := Case{Group: group, Index: k + 1, Options: map[string]string{}}
			var haveGold, havePred, haveExp bool
			for j, f := range fields {
				switch v := vals[j].(type) {
				case string:
					switch f {
					case "gold":
						c.Gold, haveGold = v, true
					case "pred":
						c.Pred, havePred = v, true
					default:
						c.Options[f] = strconv.Quote(v)
					}
				case int64:
					if f == "expected" || f == "result" {
						c.Expected, haveExp = v != 0, true
					} else {
						c.Options[f] = strconv.FormatInt(v, 10)
					}
				case bool:
					if f == "expected" || f == "result" {
						c.Expected, haveExp = v, true
					} else {
						c.Options[f] = strconv.FormatBool(v)
					}
				default:
					c.Options[f] = fmt.Sprint(v)
				}
			}
			if !haveGold || !havePred || !haveExp {
				skipped = append(skipped, group+" (not a gold, pred, expected table)")
				break
			}
			cases = append(cases, c)
		}
		src = src[def:]
	}
}

// pyParser reads the Python literals pytest tables are written in:
// strings (all prefixes and quotes, adjacent ones concatenated), integers,
// True/False, tuples and lists.
type pyParser struct {
	s   string
	pos int
}

func (p *pyParser) skipSpace() {
	for p.pos < len(p.s) {
		switch c := p.s[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		case c == '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *pyParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

var intLit = regexp.MustCompile(`^-?[0-9]+`)

func (p *pyParser) value() (any, error) {
	p.skipSpace()
	rest := p.s[p.pos:]
	switch {
	case rest == "":
		return nil, fmt.Errorf("unexpected end")
	case rest[0] == '(' || rest[0] == '[':
		closer := map[byte]string{'(': ")", '[': "]"}[rest[0]]
		p.pos++
		var out []any
		for {
			p.skipSpace()
			if p.eat(closer) {
				return out, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			p.skipSpace()
			if !p.eat(",") {
				p.skipSpace()
				if !p.eat(closer) {
					return nil, fmt.Errorf("want , or %s at %q", closer, excerpt(p.s[p.pos:]))
				}
				return out, nil
			}
		}
	case strings.HasPrefix(rest, "True"):
		p.pos += 4
		return true, nil
	case strings.HasPrefix(rest, "False"):
		p.pos += 5
		return false, nil
	case intLit.MatchString(rest) && !strings.HasPrefix(rest, "-."):
		m := intLit.FindString(rest)
		p.pos += len(m)
		n, err := strconv.ParseInt(m, 10, 64)
		return n, err
	}
	var b strings.Builder
	n := 0
	for {
		p.skipSpace()
		s, ok, err := p.stringLit()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		b.WriteString(s)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("not a literal: %q", excerpt(rest))
	}
	return b.String(), nil
}

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// stringLit reads one string literal at the current position.
func (p *pyParser) stringLit() (string, bool, error) {
	i := p.pos
	raw, fstr := false, false
	for i < len(p.s) && strings.IndexByte("rRbBuUfF", p.s[i]) >= 0 && i-p.pos < 2 {
		switch p.s[i] {
		case 'r', 'R':
			raw = true
		case 'f', 'F':
			fstr = true
		}
		i++
	}
	if i >= len(p.s) || (p.s[i] != '"' && p.s[i] != '\'') {
		return "", false, nil
	}
	quote := p.s[i : i+1]
	if strings.HasPrefix(p.s[i:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	i += len(quote)
	var b strings.Builder
	for {
		if i >= len(p.s) {
			return "", false, fmt.Errorf("unterminated string")
		}
		if strings.HasPrefix(p.s[i:], quote) {
			i += len(quote)
			break
		}
		c := p.s[i]
		if c == '\n' && len(quote) == 1 {
			return "", false, fmt.Errorf("newline in string")
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(p.s) {
			return "", false, fmt.Errorf("unterminated string")
		}
		if raw {
			// A raw string keeps the backslash, and \" does not end it.
			b.WriteString(p.s[i : i+2])
			i += 2
			continue
		}
		e := p.s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+width > len(p.s) {
				return "", false, fmt.Errorf("bad \\%c escape", e)
			}
			r, err := strconv.ParseUint(p.s[i:i+width], 16, 32)
			if err != nil {
				return "", false, fmt.Errorf("bad \\%c escape", e)
			}
			b.WriteRune(rune(r))
			i += width
		default:
			if e >= '0' && e <= '7' {
				j := i - 1
				for j < len(p.s) && j < i+2 && p.s[j] >= '0' && p.s[j] <= '7' {
					j++
				}
				r, _ := strconv.ParseUint(p.s[i-1:j], 8, 32)
				b.WriteRune(rune(r))
				i = j
				continue
			}
			b.WriteByte('\\') // Python keeps unknown escapes
			b.WriteByte(e)
		}
	}
	p.pos = i
	s := b.String()
	if fstr {
		var err error
		if s, err = formatFString(s); err != nil {
			return "", false, err
		}
	}
	return s, true, nil
}

var sqrtField = regexp.MustCompile(`^math\.sqrt\(([0-9]+)\):\.([0-9]+)f$`)

// formatFString evaluates the f-string fields the tables use:
// {math.sqrt(N):.Kf}, and {{ }} escapes.
func formatFString(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "{{"), strings.HasPrefix(s[i:], "}}"):
			b.WriteByte(s[i])
			i++
		case s[i] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("bad f-string %q", s)
			}
			m := sqrtField.FindStringSubmatch(s[i+1 : i+j])
			if m == nil {
				return "", fmt.Errorf("f-string field %q not supported", s[i+1:i+j])
			}
			x, _ := strconv.ParseFloat(m[1], 64)
			prec, _ := strconv.Atoi(m[2])
			b.WriteString(strconv.FormatFloat(math.Sqrt(x), 'f', prec, 64))
			i += j
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

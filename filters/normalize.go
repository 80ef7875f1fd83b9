package filters

import (
	"strings"
)

// NormalizeAnswer rewrites an extracted answer into the canonical LaTeX-ish
// form the math verifier compares. It only rewrites notation, never value:
//
//   - math delimiters ($, \(...\), \[...\]) and nested \boxed are removed;
//   - \dfrac and \tfrac become \frac; \frac12 and \sqrt2 get their braces;
//   - \left, \right, \big and friends, \displaystyle are dropped;
//   - \text{...}, \mathrm{...}, \textbf{...}, \mbox{...} are unwrapped, and
//     trailing units (cm, meters, degrees, dollars, minutes, ...) dropped;
//   - degree marks (^\circ, ^{\circ}, °) and \$ are dropped;
//   - \% and "percent" become a trailing %;
//   - thousands separators (1,000, 10{,}000, 900,\!000) are removed;
//   - spacing (\!, \,, \;, \quad, ~) and spaces are removed, except a space
//     between two letters;
//   - \cdot and \times become *, \div becomes /, \le, \ge, \ne are spelled
//     one way, Unicode −, ×, ÷, π, ∞, √, ≤, ≥ become their LaTeX forms;
//   - "inf" and "infinity" become \infty; .5 becomes 0.5;
//   - a leading "x =" (a single variable, when it is the only =) and
//     trailing punctuation are removed.
//
// Inputs longer than MaxAnswerBytes are returned trimmed but otherwise
// unchanged. NormalizeAnswer is pure and safe for concurrent use.
func NormalizeAnswer(s string) string {
	return dropLeadingVariable(normalizeNotation(s))
}

// normalizeNotation is NormalizeAnswer without removing a leading "x =".
func normalizeNotation(s string) string {
	s = trimAnswer(s)
	if len(s) > MaxAnswerBytes {
		return s
	}
	if !needsWork(s) {
		return s
	}
	s = symbolReplacer.Replace(s)
	for _, cmd := range unwrapCommands {
		if strings.Contains(s, cmd) {
			s = unwrapCommand(s, cmd)
		}
	}
	s = strings.ReplaceAll(s, `\text`, "") // a brace-less \text
	s = percentWords(s)
	s = dropUnits(s)
	s = braceArguments(s)
	s = removeThousands(s)
	s = squeezeSpaces(s)
	s = separators(s)
	s = strings.TrimRight(s, ".,;:")
	s = leadingZero(s)
	s = strings.ReplaceAll(s, "infinity", `\infty`)
	if s == "inf" || s == "+inf" || s == "-inf" {
		s = strings.Replace(s, "inf", `\infty`, 1)
	}
	return s
}

// needsWork reports whether s holds anything NormalizeAnswer would rewrite;
// plain answers such as "18" or "-4" skip all passes.
func needsWork(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c == '-') {
			return true
		}
	}
	return false
}

var symbolReplacer = strings.NewReplacer(
	`\dfrac`, `\frac`,
	`\tfrac`, `\frac`,
	`\cfrac`, `\frac`,
	`\bigcup`, `\cup`,
	`\leftarrow`, `\leftarrow`, // listed before \left so that it survives
	`\rightarrow`, `\to`,
	`\left\{`, `\{`,
	`\right\}`, `\}`,
	`\left.`, "",
	`\right.`, "",
	`\left`, "",
	`\right`, "",
	`\bigl`, "", `\bigr`, "", `\Bigl`, "", `\Bigr`, "",
	`\biggl`, "", `\biggr`, "", `\big`, "", `\Big`, "",
	`\displaystyle`, "",
	`\textstyle`, "",
	// A doubly escaped command (\\frac, \\left from JSON or Python written
	// twice) is the command: a row break is never followed by one.
	`\\left`, "", `\\right`, "", `\\frac`, `\frac`, `\\dfrac`, `\frac`,
	`\\sqrt`, `\sqrt`, `\\leq`, `\le `, `\\geq`, `\ge `, `\\le `, `\le `, `\\ge `, `\ge `,
	`\\neq`, `\ne `, `\\pi`, `\pi `, `\\infty`, `\infty `, `\\cdot`, "*", `\\times`, "*",
	`\\text`, `\text`, `\\mathrm`, `\mathrm`,
	`\\`, `\\`, // a row break, listed so that "\\ " is not read as "\ "
	`,\! `, ",", // 11,\! 111: a thousands separator
	`{, }`, "",
	`\!`, "",
	`\,`, " ",
	`\;`, " ",
	`\:`, " ",
	`\ `, " ",
	`\qquad`, " ",
	`\quad`, " ",
	`~`, " ",
	"\u00a0", " ",
	"\t", " ",
	"\n", " ",
	"\r", " ",
	`{,}`, "",
	`^{\circ}`, "",
	`^{\circ }`, "",
	`^\circ`, "",
	`^{\degree}`, "",
	`\circ`, "",
	`\degree`, "",
	"°", "",
	`\%`, "%",
	`\$`, "",
	`$`, "",
	`\cdot`, "*",
	`\times`, "*",
	`\ast`, "*",
	"×", "*",
	"·", "*",
	"⋅", "*",
	`\div`, "/",
	"÷", "/",
	"−", "-",
	"–", "-",
	`\leq`, `\le `,
	`\geq`, `\ge `,
	`\leqslant`, `\le `,
	`\geqslant`, `\ge `,
	`\neq`, `\ne `,
	"≤", `\le `,
	"≥", `\ge `,
	"≠", `\ne `,
	"π", `\pi `,
	"∞", `\infty `,
	"√", `\sqrt`,
	"∪", `\cup `,
	`\varnothing`, `\emptyset`,
	`\lvert`, "|",
	`\rvert`, "|",
	`\vert`, "|",
	`\mid`, "|",
	`\lbrace`, `\{`,
	`\rbrace`, `\}`,
	`\lbrack`, "[",
	`\rbrack`, "]",
)

// unwrapCommands are replaced by their brace argument.
var unwrapCommands = []string{
	`\boxed`, `\fbox`, `\textbf`, `\textit`, `\textrm`, `\textnormal`,
	`\textsf`, `\texttt`, `\text`, `\mathrm`, `\mathbf`, `\mathit`,
	`\mathsf`, `\mbox`, `\hbox`, `\operatorname`,
}

// unwrapCommand replaces every \cmd{X} in s by X. A \cmd not followed by a
// complete brace group is left as it is.
func unwrapCommand(s, cmd string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, cmd)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(cmd)
		if j < len(s) && isLetter(s[j]) { // a longer command name
			b.WriteString(s[:j])
			s = s[j:]
			continue
		}
		rest := strings.TrimLeft(s[j:], " ")
		if !strings.HasPrefix(rest, "{") {
			b.WriteString(s[:j])
			s = s[j:]
			continue
		}
		inner, ok := braceGroup(rest)
		if !ok {
			b.WriteString(s[:j])
			s = s[j:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(" ")
		b.WriteString(inner)
		b.WriteString(" ")
		s = rest[len(inner)+2:]
	}
}

// percentWords turns "percent" into %.
func percentWords(s string) string {
	if strings.Contains(s, "percent") {
		s = strings.ReplaceAll(s, "percentage", "%")
		s = strings.ReplaceAll(s, "percent", "%")
	}
	if i := strings.Index(s, "pct"); i >= 0 && (i+3 == len(s) || !isLetter(s[i+3])) && (i == 0 || !isLetter(s[i-1])) {
		s = s[:i] + "%" + s[i+3:]
	}
	return s
}

// units are words dropped from the end of a numeric answer. Single letters
// (m, g, s, L) are not units here: "5m" may be five times m.
var units = map[string]bool{
	"cm": true, "mm": true, "km": true, "meter": true, "metre": true,
	"centimeter": true, "millimeter": true, "kilometer": true,
	"inch": true, "inches": true, "foot": true, "feet": true, "ft": true,
	"yard": true, "yd": true, "mile": true, "mi": true, "unit": true,
	"square": true, "sq": true, "cubic": true, "cu": true,
	"degree": true, "deg": true, "radian": true, "rad": true,
	"second": true, "sec": true, "minute": true, "min": true, "hour": true,
	"hr": true, "day": true, "week": true, "month": true, "year": true,
	"dollar": true, "cent": true, "gram": true, "kg": true, "pound": true,
	"lb": true, "ounce": true, "oz": true, "liter": true, "litre": true,
	"ml": true, "gallon": true, "mph": true, "kmh": true,
	"people": true, "person": true, "student": true, "way": true,
	"time": true, "point": true, "page": true, "book": true, "apple": true,
}

func isUnit(w string) bool {
	w = strings.ToLower(strings.TrimRight(w, "."))
	if units[w] {
		return true
	}
	if strings.HasSuffix(w, "es") && units[w[:len(w)-2]] {
		return true
	}
	return strings.HasSuffix(w, "s") && units[w[:len(w)-1]]
}

// dropUnits removes unit words (and a ^2 or ^3 on them) from the end of an
// answer that has something else before them.
func dropUnits(s string) string {
	for {
		t := strings.TrimRight(s, " .")
		// a power on the unit: cm^2, \text{cm}^{2}
		u := t
		for _, p := range []string{"^2", "^3", "^{2}", "^{3}"} {
			if strings.HasSuffix(u, p) {
				u = strings.TrimRight(u[:len(u)-len(p)], " ")
				break
			}
		}
		i := len(u)
		for i > 0 && (isLetter(u[i-1]) || u[i-1] == '.') {
			i--
		}
		w := u[i:]
		if w == "" || !isUnit(w) || (i > 0 && u[i-1] == '\\') {
			return s
		}
		head := strings.TrimRight(u[:i], " ")
		if head == "" || strings.HasSuffix(head, "/") || strings.HasSuffix(head, "per") {
			// "per hour" is a unit too; a unit alone is the answer.
			if head == "" {
				return s
			}
			head = strings.TrimSuffix(head, "/")
			head = strings.TrimSuffix(head, "per")
			head = strings.TrimRight(head, " ")
			if head == "" {
				return s
			}
		}
		s = head
	}
}

// braceArguments gives \frac and \sqrt braced arguments: \frac12 becomes
// \frac{1}{2}, \sqrt2 becomes \sqrt{2}, \frac{1}2 becomes \frac{1}{2}.
func braceArguments(s string) string {
	if !strings.Contains(s, `\frac`) && !strings.Contains(s, `\sqrt`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		n := 0
		switch {
		case strings.HasPrefix(s[i:], `\frac`):
			n = 2
			b.WriteString(`\frac`)
			i += len(`\frac`)
		case strings.HasPrefix(s[i:], `\sqrt`):
			n = 1
			b.WriteString(`\sqrt`)
			i += len(`\sqrt`)
			if i < len(s) && s[i] == '[' { // \sqrt[3]{x}
				j := strings.IndexByte(s[i:], ']')
				if j < 0 {
					continue
				}
				b.WriteString(s[i : i+j+1])
				i += j + 1
			}
		default:
			b.WriteByte(s[i])
			i++
			continue
		}
		if i < len(s) && isLetter(s[i]) { // \fracx is another command
			continue
		}
		for ; n > 0 && i < len(s); n-- {
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i >= len(s) {
				break
			}
			if s[i] == '{' {
				inner, ok := braceGroup(s[i:])
				if !ok {
					break
				}
				b.WriteString(s[i : i+len(inner)+2])
				i += len(inner) + 2
				continue
			}
			if s[i] == '\\' { // \sqrt\pi: the command is the argument
				j := i + 1
				for j < len(s) && isLetter(s[j]) {
					j++
				}
				if j == i+1 && j < len(s) {
					j++
				}
				b.WriteString("{" + s[i:j] + "}")
				i = j
				continue
			}
			b.WriteString("{" + s[i:i+1] + "}")
			i++
		}
	}
	return b.String()
}

// removeThousands removes commas that group digits by three: 1,000 and
// 12,345,678 but not 1,2 or 1,0000 or 0.5,000.
func removeThousands(s string) string {
	if !strings.Contains(s, ",") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		if !isDigit(s[i]) || (i > 0 && (isDigit(s[i-1]) || s[i-1] == '.')) {
			b.WriteByte(s[i])
			i++
			continue
		}
		// a run of 1-3 digits followed by one or more ",ddd" groups
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i > 3 {
			b.WriteString(s[i:j])
			i = j
			continue
		}
		k, groups := j, 0
		for k+4 <= len(s) && s[k] == ',' && isDigit(s[k+1]) && isDigit(s[k+2]) && isDigit(s[k+3]) && (k+4 == len(s) || !isDigit(s[k+4])) {
			k += 4
			groups++
		}
		if groups == 0 || groups == 1 && i > 0 && (s[i-1] == '(' || s[i-1] == '[') && k < len(s) && (s[k] == ')' || s[k] == ']') {
			// (12,102) is an interval, not 12102.
			b.WriteString(s[i:j])
			i = j
			continue
		}
		b.WriteString(strings.ReplaceAll(s[i:k], ",", ""))
		i = k
	}
	return b.String()
}

// squeezeSpaces removes spaces, keeping one between two letters (the end of
// a command name and a variable: \pi r) or two words.
func squeezeSpaces(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	var b strings.Builder
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b.WriteByte(s[i])
			continue
		}
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if i > 0 && j < len(s) && isLetter(s[i-1]) && isLetter(s[j]) {
			b.WriteByte(' ')
		}
		i = j - 1
	}
	return b.String()
}

// leadingZero writes .5 as 0.5.
func leadingZero(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '.' && i+1 < len(s) && isDigit(s[i+1]) && (i == 0 || !isDigit(s[i-1]) && !isLetter(s[i-1])) {
			b.WriteByte('0')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dropLeadingVariable removes what labels an answer, so that the value is
// compared:
//
//   - a label and "=": x =, x_{1} =, AB =, (p,q) =, V_1:V_2 =, |AB| =,
//     f(x) =, \frac{NO}{BO} = (when it is the only "=");
//   - a label and \in: x \in [-2, 7];
//   - all sides but the last of a chain of "=": x = 5+5+1 = 11;
//   - an approximation after \approx, when an exact value precedes it
//     (x = \frac{1}{3} \approx 0.33), else the label before it (x \approx 11).
//
// A list whose first element alone is labelled (n = 1, 2, 3) loses the
// label; lists of labelled elements are handled element by element.
func dropLeadingVariable(s string) string {
	if !strings.ContainsAny(s, "=\\") {
		return s
	}
	if i := indexTop(s, `\approx`); i >= 0 {
		left, right := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(`\approx`):])
		if l := dropLeadingVariable(left); l != "" && !isLabel(l) {
			return l
		}
		if right != "" {
			return dropLeadingVariable(right)
		}
		return s
	}
	if i := indexTop(s, `\in`); i > 0 && (i+3 == len(s) || !isLetter(s[i+3])) && isLabel(strings.TrimSpace(s[:i])) {
		return strings.TrimSpace(s[i+3:])
	}
	if strings.Contains(s, `\le`) || strings.Contains(s, `\ge`) || strings.Contains(s, `\ne`) || strings.ContainsAny(s, "<>!") {
		return s
	}
	eqs := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			eqs++
		}
	}
	if eqs == 0 {
		return s
	}
	if parts := splitTop(s, ","); len(parts) > 1 {
		// n = 1, 2, 3: a label on the first element only labels the list.
		lhs, rhs, ok := strings.Cut(parts[0], "=")
		if eqs == 1 && ok && isLabel(strings.TrimSpace(lhs)) && strings.TrimSpace(rhs) != "" {
			return strings.TrimSpace(rhs) + s[len(parts[0]):]
		}
		return s
	}
	sides := splitTop(s, "=")
	if len(sides) != eqs+1 {
		return s // an "=" inside brackets
	}
	last := strings.TrimSpace(sides[len(sides)-1])
	if last == "" {
		return s
	}
	if len(sides) > 2 || isLabel(strings.TrimSpace(sides[0])) || isArithmetic(sides[0]) && isArithmetic(last) {
		return last
	}
	return s
}

// indexTop returns the index of the first occurrence of sub at bracket
// depth 0, or -1.
func indexTop(s, sub string) int {
	if !strings.Contains(s, sub) {
		return -1
	}
	d := 0
	for i := 0; i < len(s); {
		if d == 0 && strings.HasPrefix(s[i:], sub) {
			return i
		}
		delta, w := bracketAt(s, i)
		d += delta
		i += w
	}
	return -1
}

// isLabel reports whether s names the quantity an answer gives: a
// variable (x, x_1, \alpha), a short name (AB, S_{MBCN}), a tuple or ratio
// of them ((p,q), V_1:V_2), |AB|, f(x), \frac{NO}{BO}.
func isLabel(s string) bool {
	if isVariableName(s) || isShortName(s) {
		return true
	}
	if len(s) >= 3 && (s[0] == '(' && s[len(s)-1] == ')' || s[0] == '|' && s[len(s)-1] == '|') {
		inner := s[1 : len(s)-1]
		if s[0] == '|' {
			return isShortName(inner) || isVariableName(inner)
		}
		for _, p := range strings.Split(inner, ",") {
			if !isVariableName(p) && !isShortName(p) {
				return false
			}
		}
		return true
	}
	if parts := strings.Split(s, ":"); len(parts) > 1 {
		for _, p := range parts {
			if !isVariableName(p) && !isShortName(p) {
				return false
			}
		}
		return true
	}
	if i := strings.IndexByte(s, '('); i > 0 && s[len(s)-1] == ')' {
		// f(x), P(A)
		return isShortName(s[:i]) && isLabel("("+s[i+1:len(s)-1]+")")
	}
	if strings.HasPrefix(s, `\frac{`) {
		num, ok := braceGroup(s[len(`\frac`):])
		if !ok {
			return false
		}
		rest := s[len(`\frac`)+len(num)+2:]
		den, ok := braceGroup(rest)
		return ok && len(den)+2 == len(rest) && isShortName(num) && isShortName(den)
	}
	return false
}

// isShortName is a name of one to four letters with an optional
// subscript: AB, NO, S_{MBCN}, f.
func isShortName(s string) bool {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	if i == 0 || i > 4 {
		return false
	}
	if i == len(s) {
		return true
	}
	return isVariableName("x" + s[i:])
}

func isVariableName(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '\\' {
		return greek[s[1:]]
	}
	if !isLetter(s[0]) {
		return false
	}
	rest := s[1:]
	if rest == "" {
		return true
	}
	if rest[0] != '_' {
		return false
	}
	rest = strings.Trim(rest[1:], "{}")
	for i := 0; i < len(rest); i++ {
		if !isLetter(rest[i]) && !isDigit(rest[i]) {
			return false
		}
	}
	return rest != ""
}

var greek = map[string]bool{
	"alpha": true, "beta": true, "gamma": true, "delta": true, "epsilon": true,
	"varepsilon": true, "zeta": true, "eta": true, "theta": true,
	"vartheta": true, "iota": true, "kappa": true, "lambda": true, "mu": true,
	"nu": true, "xi": true, "rho": true, "sigma": true, "tau": true,
	"upsilon": true, "phi": true, "varphi": true, "chi": true, "psi": true,
	"omega": true, "Gamma": true, "Delta": true, "Theta": true, "Lambda": true,
	"Xi": true, "Pi": true, "Sigma": true, "Phi": true, "Psi": true,
	"Omega": true,
}

// separators writes the separators of a list as commas: the words "and"
// and "or" between items (6 and 8, (11,7) or (7,11)), and semicolons
// (-12;-11;-10, and (0;0;6) inside brackets). At the top level a semicolon
// becomes a comma only where there is no comma: in "p=5,q=2;p=7,q=2" it
// groups.
func separators(s string) string {
	if strings.Contains(s, "and") || strings.Contains(s, "or") {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			for _, w := range []string{"and", "or"} {
				end := i + len(w)
				if strings.HasPrefix(s[i:], w) && (i == 0 || !isLetter(s[i-1]) && s[i-1] != '\\') && (end == len(s) || !isLetter(s[end])) {
					b.WriteByte(',')
					i = end
					break
				}
			}
			if i < len(s) {
				b.WriteByte(s[i])
			}
		}
		s = b.String()
		for strings.Contains(s, ",,") {
			s = strings.ReplaceAll(s, ",,", ",")
		}
		s = strings.Trim(s, ",")
	}
	if strings.Contains(s, ";") {
		topComma := indexTop(s, ",") >= 0
		b := []byte(s)
		d := 0
		for i := 0; i < len(s); {
			if s[i] == ';' && (d > 0 || !topComma) {
				b[i] = ','
			}
			delta, w := bracketAt(s, i)
			d += delta
			i += w
		}
		s = string(b)
	}
	return s
}

// isArithmetic reports whether s is a computation without variables
// (5*6*4, \frac{1}{2}), the left side of a worked result "5*6*4 = 120".
func isArithmetic(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			j := i + 1
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			switch s[i+1 : j] {
			case "frac", "sqrt", "cdot", "times", "div", "left", "right":
			default:
				return false
			}
			i = j - 1
			continue
		}
		if isLetter(c) {
			return false
		}
	}
	return true
}

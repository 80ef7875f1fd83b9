package filters

import (
	"errors"
	"math"
	"math/big"
	"strconv"
)

// This file evaluates expression trees: exactly, as big.Rat, while every
// operation stays rational and small; as float64 otherwise.

var (
	errUndefined = errors.New("undefined value") // 1/0, sqrt(-1), log(0)
	errUnbound   = errors.New("unbound variable")
)

// value is a number: exact when r != nil, else the float f.
type value struct {
	r *big.Rat
	f float64
}

func (v value) exact() bool { return v.r != nil }

func (v value) float() float64 {
	if v.r != nil {
		f, _ := v.r.Float64()
		return f
	}
	return v.f
}

func (v value) String() string {
	if v.r != nil {
		return v.r.RatString()
	}
	return strconv.FormatFloat(v.f, 'g', 10, 64)
}

func floatValue(f float64) (value, error) {
	if math.IsNaN(f) {
		return value{}, errUndefined
	}
	return value{f: f}, nil
}

// binding is a variable's value at one evaluation point.
type binding struct {
	name string
	v    value
}

// evaluator evaluates trees under limits; it is used by one goroutine.
type evaluator struct {
	maxBits int // an exact result larger than this becomes a float
	env     []binding
}

// exactOrFloat keeps r exact unless it has grown past maxBits.
func (e *evaluator) exactOrFloat(r *big.Rat) value {
	if r.Num().BitLen()+r.Denom().BitLen() > e.maxBits {
		f, _ := r.Float64()
		return value{f: f}
	}
	return value{r: r}
}

func (e *evaluator) eval(n *node) (value, error) {
	switch n.op {
	case opNum:
		return e.exactOrFloat(n.val), nil
	case opVar:
		for _, b := range e.env {
			if b.name == n.name {
				return b.v, nil
			}
		}
		return value{}, errUnbound
	case opConst:
		switch n.name {
		case "pi":
			return value{f: math.Pi}, nil
		case "e":
			return value{f: math.E}, nil
		default:
			return value{f: math.Inf(1)}, nil
		}
	}
	a, err := e.eval(n.a)
	if err != nil {
		return value{}, err
	}
	switch n.op {
	case opNeg:
		if a.exact() {
			return value{r: new(big.Rat).Neg(a.r)}, nil
		}
		return value{f: -a.f}, nil
	case opFact:
		return e.factorial(a)
	case opAbs:
		if a.exact() {
			return value{r: new(big.Rat).Abs(a.r)}, nil
		}
		return value{f: math.Abs(a.f)}, nil
	case opFunc:
		return function(n.name, a.float())
	case opLog:
		base := 10.0
		if n.b != nil {
			b, err := e.eval(n.b)
			if err != nil {
				return value{}, err
			}
			base = b.float()
		}
		x := a.float()
		if x <= 0 || base <= 0 || base == 1 {
			return value{}, errUndefined
		}
		return floatValue(math.Log(x) / math.Log(base))
	}
	b, err := e.eval(n.b)
	if err != nil {
		return value{}, err
	}
	return e.binary(n.op, a, b)
}

func (e *evaluator) binary(op opKind, a, b value) (value, error) {
	if a.exact() && b.exact() {
		switch op {
		case opAdd:
			return e.exactOrFloat(new(big.Rat).Add(a.r, b.r)), nil
		case opSub:
			return e.exactOrFloat(new(big.Rat).Sub(a.r, b.r)), nil
		case opMul:
			return e.exactOrFloat(new(big.Rat).Mul(a.r, b.r)), nil
		case opDiv:
			if b.r.Sign() == 0 {
				return value{}, errUndefined
			}
			return e.exactOrFloat(new(big.Rat).Quo(a.r, b.r)), nil
		case opPow:
			if v, ok := e.exactPow(a.r, b.r); ok {
				return v, nil
			}
		}
	}
	x, y := a.float(), b.float()
	switch op {
	case opAdd:
		return floatValue(x + y)
	case opSub:
		return floatValue(x - y)
	case opMul:
		return floatValue(x * y)
	case opDiv:
		if y == 0 {
			return value{}, errUndefined
		}
		return floatValue(x / y)
	default: // opPow
		if x == 0 && y < 0 {
			return value{}, errUndefined
		}
		if x < 0 && y != math.Trunc(y) {
			// An odd root of a negative number: (-8)^(1/3) = -2.
			if b.exact() && b.r.Denom().Bit(0) == 1 && b.r.Denom().IsInt64() {
				r := -math.Pow(-x, y)
				if b.r.Num().Bit(0) == 0 {
					r = -r
				}
				return floatValue(r)
			}
			return value{}, errUndefined
		}
		return floatValue(math.Pow(x, y))
	}
}

// exactPow computes base^exp exactly when the result is rational and small:
// integer exponents, and rational exponents p/q whose q-th root is exact
// (\sqrt{\frac{9}{4}} = 3/2, 8^{2/3} = 4).
func (e *evaluator) exactPow(base, exp *big.Rat) (value, bool) {
	if !exp.Num().IsInt64() || !exp.Denom().IsInt64() {
		return value{}, false
	}
	p, q := exp.Num().Int64(), exp.Denom().Int64()
	if q > 64 || p > 1<<16 || p < -(1<<16) {
		return value{}, false
	}
	num := new(big.Int).Set(base.Num())
	den := new(big.Int).Set(base.Denom())
	if q > 1 {
		neg := num.Sign() < 0
		if neg && q%2 == 0 {
			return value{}, false
		}
		num.Abs(num)
		var ok bool
		if num, ok = exactRoot(num, q); !ok {
			return value{}, false
		}
		if den, ok = exactRoot(den, q); !ok {
			return value{}, false
		}
		if neg {
			num.Neg(num)
		}
	}
	if p < 0 {
		if num.Sign() == 0 {
			return value{}, false // the float path reports 0^-1 as undefined
		}
		num, den = den, num
		p = -p
	}
	if int64(num.BitLen()+den.BitLen())*p > int64(e.maxBits) {
		return value{}, false
	}
	pp := big.NewInt(p)
	r := new(big.Rat).SetFrac(new(big.Int).Exp(num, pp, nil), new(big.Int).Exp(den, pp, nil))
	return value{r: r}, true
}

// exactRoot returns the q-th root of x >= 0 when it is an integer.
func exactRoot(x *big.Int, q int64) (*big.Int, bool) {
	if x.Sign() == 0 || x.Cmp(big.NewInt(1)) == 0 {
		return x, true
	}
	if q == 2 {
		r := new(big.Int).Sqrt(x)
		return r, new(big.Int).Mul(r, r).Cmp(x) == 0
	}
	if x.BitLen() > 1000 {
		return nil, false
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	guess := math.Round(math.Pow(f, 1/float64(q)))
	if math.IsInf(guess, 0) || guess > 1<<53 {
		return nil, false
	}
	for _, d := range []float64{0, -1, 1} {
		r := big.NewInt(int64(guess + d))
		if r.Sign() > 0 && new(big.Int).Exp(r, big.NewInt(q), nil).Cmp(x) == 0 {
			return r, true
		}
	}
	return nil, false
}

// maxExactFactorial is the largest n whose n! is computed exactly.
const maxExactFactorial = 300

func (e *evaluator) factorial(a value) (value, error) {
	if !a.exact() || !a.r.IsInt() || a.r.Sign() < 0 {
		return value{}, errUndefined
	}
	if !a.r.Num().IsInt64() || a.r.Num().Int64() > maxExactFactorial {
		return value{f: math.Inf(1)}, nil
	}
	n := a.r.Num().Int64()
	r := new(big.Int).MulRange(1, n)
	if n == 0 {
		r.SetInt64(1)
	}
	return e.exactOrFloat(new(big.Rat).SetInt(r)), nil
}

func function(name string, x float64) (value, error) {
	var y float64
	switch name {
	case "sin":
		y = math.Sin(x)
	case "cos":
		y = math.Cos(x)
	case "tan":
		y = math.Tan(x)
	case "sec":
		y = 1 / math.Cos(x)
	case "csc":
		y = 1 / math.Sin(x)
	case "cot":
		y = 1 / math.Tan(x)
	case "arcsin":
		y = math.Asin(x)
	case "arccos":
		y = math.Acos(x)
	case "arctan":
		y = math.Atan(x)
	case "sinh":
		y = math.Sinh(x)
	case "cosh":
		y = math.Cosh(x)
	case "tanh":
		y = math.Tanh(x)
	case "exp":
		y = math.Exp(x)
	default:
		return value{}, errSyntax
	}
	if math.IsInf(y, 0) {
		return value{}, errUndefined
	}
	return floatValue(y)
}

package simulator

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// The calculator tool: find the arithmetic in a message and evaluate it
// with a small recursive-descent parser over + - * / ^, parentheses,
// decimals and unary minus (^ binds tighter than unary minus and is right
// associative: -2^2 = -4, 2^3^2 = 512).

// calculate finds the longest arithmetic expression in msg and returns
// "<expr> = <value>", or false when there is none.
func calculate(msg string) (string, bool) {
	best, bestVal := "", 0.0
	var bestErr error
	for _, cand := range candidates(msg) {
		if len(cand) <= len(best) {
			continue
		}
		v, err := evalExpr(cand)
		if err != nil && !errors.Is(err, errDivZero) {
			// "(1 + 2" or "3) * 4": drop unmatched parentheses at the ends.
			if b := trimUnbalanced(cand); b != cand && len(b) > len(best) {
				cand = b
				v, err = evalExpr(cand)
			}
		}
		if err == nil || errors.Is(err, errDivZero) {
			best, bestVal, bestErr = cand, v, err
		}
	}
	if best == "" {
		return "", false
	}
	if bestErr != nil {
		return best + " is undefined (division by zero)", true
	}
	return best + " = " + formatNumber(bestVal), true
}

func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// candidates are the maximal runs of expression characters that hold a
// digit and an operator, trimmed; a trailing sentence full stop is dropped.
func candidates(msg string) []string {
	isExpr := func(c byte) bool {
		return (c >= '0' && c <= '9') || strings.IndexByte("+-*/^().  \t", c) >= 0
	}
	var out []string
	for i := 0; i < len(msg); {
		if !isExpr(msg[i]) {
			i++
			continue
		}
		j := i
		for j < len(msg) && isExpr(msg[j]) {
			j++
		}
		c := strings.TrimSpace(msg[i:j])
		c = strings.TrimSpace(strings.TrimRight(c, "."))
		if strings.ContainsAny(c, "0123456789") && strings.ContainsAny(c, "+-*/^") {
			out = append(out, c)
		}
		i = j
	}
	return out
}

func trimUnbalanced(s string) string {
	open, closing := strings.Count(s, "("), strings.Count(s, ")")
	for open > closing && strings.HasPrefix(s, "(") {
		s = strings.TrimLeft(s[1:], " \t")
		open--
	}
	for closing > open && strings.HasSuffix(s, ")") {
		s = strings.TrimRight(s[:len(s)-1], " \t")
		closing--
	}
	return s
}

var errDivZero = errors.New("division by zero")

type calcParser struct {
	s     string
	pos   int
	depth int
}

// maxCalcDepth bounds nesting (parentheses, unary signs), so a hostile
// message cannot exhaust the stack.
const maxCalcDepth = 200

func evalExpr(s string) (float64, error) {
	p := &calcParser{s: s}
	v, err := p.expr()
	if err != nil {
		return 0, err
	}
	p.space()
	if p.pos != len(p.s) {
		return 0, errors.New("unexpected " + strconv.Quote(p.s[p.pos:]))
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("result out of range")
	}
	return v, nil
}

func (p *calcParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *calcParser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// expr := term (('+'|'-') term)*
func (p *calcParser) expr() (float64, error) {
	v, err := p.term()
	for err == nil {
		op := p.peek()
		if op != '+' && op != '-' {
			break
		}
		p.pos++
		var w float64
		if w, err = p.term(); err == nil {
			if op == '+' {
				v += w
			} else {
				v -= w
			}
		}
	}
	return v, err
}

// term := unary (('*'|'/') unary)*
func (p *calcParser) term() (float64, error) {
	v, err := p.unary()
	for err == nil {
		op := p.peek()
		if op != '*' && op != '/' {
			break
		}
		p.pos++
		var w float64
		if w, err = p.unary(); err == nil {
			if op == '*' {
				v *= w
			} else if w == 0 {
				err = errDivZero
			} else {
				v /= w
			}
		}
	}
	return v, err
}

// unary := ('-'|'+') unary | power
func (p *calcParser) unary() (float64, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxCalcDepth {
		return 0, errors.New("expression nested too deeply")
	}
	switch p.peek() {
	case '-':
		p.pos++
		v, err := p.unary()
		return -v, err
	case '+':
		p.pos++
		return p.unary()
	}
	return p.power()
}

// power := primary ('^' unary)?
func (p *calcParser) power() (float64, error) {
	v, err := p.primary()
	if err != nil || p.peek() != '^' {
		return v, err
	}
	p.pos++
	e, err := p.unary()
	return math.Pow(v, e), err
}

// primary := number | '(' expr ')'
func (p *calcParser) primary() (float64, error) {
	c := p.peek()
	if c == '(' {
		p.pos++
		v, err := p.expr()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, errors.New("missing )")
		}
		p.pos++
		return v, nil
	}
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '.') {
		p.pos++
	}
	if start == p.pos {
		return 0, errors.New("expected a number at " + strconv.Itoa(start))
	}
	return strconv.ParseFloat(p.s[start:p.pos], 64)
}

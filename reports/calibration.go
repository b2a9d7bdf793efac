package reports

import "math"

// calibrationBins is the number of equal-width confidence bins for the
// expected calibration error and the reliability diagram.
const calibrationBins = 10

// Calibration describes how well a model's softmax over its choice
// log-likelihoods matches how often it is right.
type Calibration struct {
	// N is the number of scored samples behind the figures.
	N int `json:"n"`
	// ECE is the expected calibration error: Σ_b (n_b/N)·|acc_b − conf_b|
	// over 10 equal-width bins of the top probability.
	ECE Float `json:"ece"`
	// Brier is the multiclass Brier score: the mean over samples of
	// Σ_k (p_k − y_k)², in [0, 2] (lm-eval's brier_score).
	Brier Float            `json:"brier"`
	Bins  []CalibrationBin `json:"bins"`
}

// CalibrationBin is one bin of the reliability diagram.
type CalibrationBin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
	// Confidence is the mean top probability in the bin; Accuracy the share
	// of its samples whose top choice is the gold one. Null when empty.
	Confidence Float `json:"confidence"`
	Accuracy   Float `json:"accuracy"`
}

// softmaxStats returns, for one sample, the top probability of the softmax
// over its log-likelihoods, whether that top choice (lowest index on ties,
// like argmax) is gold, and the sample's Brier term Σ_k (p_k − y_k)².
func softmaxStats(loglik []float64, gold int) (conf float64, correct bool, brier float64) {
	mx := math.Inf(-1)
	top := 0
	for i, l := range loglik {
		if l > mx {
			mx, top = l, i
		}
	}
	var z float64
	for _, l := range loglik {
		z += math.Exp(l - mx)
	}
	for i, l := range loglik {
		p := math.Exp(l-mx) / z
		y := 0.0
		if i == gold {
			y = 1
		}
		brier += (p - y) * (p - y)
	}
	return 1 / z, top == gold, brier
}

// calibrationAcc accumulates calibration over samples.
type calibrationAcc struct {
	n       int
	brier   float64
	count   [calibrationBins]int
	conf    [calibrationBins]float64
	correct [calibrationBins]int
}

func (c *calibrationAcc) add(conf float64, correct bool, brier float64) {
	b := min(int(conf*calibrationBins), calibrationBins-1)
	c.n++
	c.brier += brier
	c.count[b]++
	c.conf[b] += conf
	if correct {
		c.correct[b]++
	}
}

func (c *calibrationAcc) result() *Calibration {
	out := &Calibration{N: c.n, ECE: NaN(), Brier: NaN(), Bins: make([]CalibrationBin, calibrationBins)}
	var ece float64
	for b := range calibrationBins {
		bin := CalibrationBin{
			Lo: float64(b) / calibrationBins, Hi: float64(b+1) / calibrationBins,
			Count: c.count[b], Confidence: NaN(), Accuracy: NaN(),
		}
		if n := c.count[b]; n > 0 {
			conf := c.conf[b] / float64(n)
			acc := float64(c.correct[b]) / float64(n)
			bin.Confidence, bin.Accuracy = Float(conf), Float(acc)
			ece += float64(n) * math.Abs(acc-conf)
		}
		out.Bins[b] = bin
	}
	if c.n > 0 {
		out.ECE = Float(ece / float64(c.n))
		out.Brier = Float(c.brier / float64(c.n))
	}
	return out
}

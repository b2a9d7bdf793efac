//go:build race

package simulator

// raceEnabled skips measurements of timing under load, which the race
// detector's overhead makes meaningless.
const raceEnabled = true

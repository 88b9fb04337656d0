package backtest

import "time"

// SetBacktestTimeout shortens the console's bound on a backtest's running time until the returned
// function restores it.
func SetBacktestTimeout(d time.Duration) (restore func()) {
	old := backtestTimeout
	backtestTimeout = d
	return func() { backtestTimeout = old }
}

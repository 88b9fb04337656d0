package sdk

import "time"

// SetMaxTimeout shortens a challenge's time below the protocol's five minutes, so that a test can
// see the SDK's timeout without waiting for it.
func SetMaxTimeout(s *SDK, d time.Duration) { s.cfg.MaxTimeout = d }

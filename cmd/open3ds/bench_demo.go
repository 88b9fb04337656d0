package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// benchDemoDefault is where `open3ds demo` keeps its data when run from the current directory.
const benchDemoDefault = "open3ds-data"

// benchDemo is the demo.json that `open3ds demo` writes: where each role listens, its PKI, its
// merchant's key and its test cards, so that `open3ds bench` needs no other flag against it.
type benchDemo struct {
	PID int    `json:"pid"`
	PKI string `json:"pki"`
	DS  struct {
		Protocol string `json:"protocol"`
		Admin    string `json:"admin"`
	} `json:"ds"`
	ACS struct {
		Protocol string `json:"protocol"`
		Public   string `json:"public"`
		Admin    string `json:"admin"`
	} `json:"acs"`
	ThreeDSS struct {
		Protocol string `json:"protocol"`
		API      string `json:"api"`
		Public   string `json:"public"`
		Admin    string `json:"admin"`
	} `json:"3dss"`
	Shop            string `json:"shop"`
	Outbox          string `json:"outbox"` // the ACS's development outbox page
	MerchantKeyFile string `json:"merchantKeyFile"`
	Cards           struct {
		Frictionless []string `json:"frictionless"`
		Challenge    []string `json:"challenge"`
		AppChallenge []string `json:"appChallenge"` // challenged in an app with the code screen (or a choice first)
	} `json:"cards"`
	ThreeDSServerURL   string `json:"threeDSServerURL"`
	RequestorID        string `json:"requestorID"`
	ThreeDSServerRef   string `json:"threeDSServerRefNumber"`
	AcquirerBIN        string `json:"acquirerBIN"`
	AcquirerMerchantID string `json:"acquirerMerchantID"`
	MerchantName       string `json:"merchantName"`

	dir string // the directory demo.json was read from
}

// loadBenchDemo reads DIR/demo.json. With dir empty it reads ./open3ds-data/demo.json when that file
// exists and returns nil otherwise, so that flags alone describe the target.
func loadBenchDemo(dir string) (*benchDemo, error) {
	explicit := dir != ""
	if !explicit {
		dir = benchDemoDefault
	}
	raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, usageError("--demo: %v", err)
	}
	d := &benchDemo{dir: dir}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, usageError("--demo: %s is not a demo file: %v", filepath.Join(dir, "demo.json"), err)
	}
	return d, nil
}

// path finds a file the demo named. The demo writes paths absolute, or relative to the directory it
// ran in; that is usually ours too, and otherwise the one holding its data directory.
func (d *benchDemo) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(filepath.Dir(filepath.Clean(d.dir)), p)
}

// merchantKey reads the merchant's API key from the file the demo wrote it to.
func (d *benchDemo) merchantKey() (string, error) {
	if d.MerchantKeyFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(d.path(d.MerchantKeyFile))
	if err != nil {
		return "", fmt.Errorf("the demo's merchant key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// benchModeFlags are the flags that stand in for demo.json, for each mode.
var benchModeFlags = map[string]string{
	"acs-areq":  "--url, --pki (or --ca, --cert and --key) and --cards",
	"ds-areq":   "--url, --pki (or --ca, --cert and --key), --cards, --requestor-id and --ref-number",
	"e2e":       "--api-url, --api-key, --ca (for an HTTPS API) and --cards",
	"challenge": "--api-url, --api-key, --ca (for an HTTPS API), --outbox-url and --cards",
	// The SDK bundles the DS's encryption certificate and the CA: both come from the PKI folder.
	"app-challenge": "--api-url, --api-key, --pki (the scheme's DS encryption certificate and CA), --outbox-url and --cards",
}

// withoutBenchDemo adds to a usage error where bench looked for demo.json, as an absolute path, and
// what to give instead. Other errors pass unchanged.
func withoutBenchDemo(err error, mode string) error {
	var ex exitError
	if !errors.As(err, &ex) || ex.code != 2 {
		return err
	}
	where := filepath.Join(benchDemoDefault, "demo.json")
	if abs, aerr := filepath.Abs(where); aerr == nil {
		where = abs
	}
	return exitError{code: 2, msg: fmt.Sprintf("%s\nbench: no demo.json at %s: run bench in the directory where `open3ds demo` runs, "+
		"or give --demo DIR (the demo's %s directory), or give %s the flags %s", ex.msg, where, benchDemoDefault, mode, benchModeFlags[mode])}
}
